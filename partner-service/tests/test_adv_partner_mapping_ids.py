"""Adversarial: reservation-service takes any partner id of 1-64 letters, digits, `_`, `-` in a
mapping's path (its published contract), partner-service stores 32 (the gateway's ids are 32
hex). A manager pasting a longer id (a UUID with dashes) made `partner.mapping_changed` fail in
partner-service's handler on PostgreSQL (value too long) at every retry. No gateway partner can
hold such an id: the projection skips it, and the other mappings go on."""

from pathlib import Path

import pytest
from hotel_common.contracts.partners import PartnerMappingChanged
from hotel_common.db import drop_database
from hotel_common.testing import scratch_url
from partner_service import mappings

from .conftest import StartPartnerService, new_partner_id

pytestmark = pytest.mark.infra


def mapping(partner_id: str) -> PartnerMappingChanged:
    return PartnerMappingChanged(
        mapping_key=f"{partner_id}:1",
        partner_id=partner_id,
        property_id=1,
        room_types={"DBL": "KNG"},
        rate_plans={},
        aggregate_version=1,
    )


async def test_a_partner_id_no_gateway_partner_can_have_is_skipped_on_postgres(
    start_partner_service: StartPartnerService, tmp_path: Path
) -> None:
    url = scratch_url("postgresql", tmp_path, "partner_ids")
    try:
        async with start_partner_service(database_url=url) as svc:
            long_id = "3f2b8c1e-9d4a-4b7e-8f6a-1c2d3e4f5a6b-extra"
            async with svc.runtime.sessions() as session:
                stored = await mappings.apply(session, mapping(long_id))
                await session.commit()  # before: value too long for varchar(32), every retry
            assert stored is False
            real = new_partner_id()
            async with svc.runtime.sessions() as session:
                assert await mappings.apply(session, mapping(real)) is True
                await session.commit()
            async with svc.runtime.sessions() as session:
                mapped = await mappings.mapped_at(session, 1)
            assert [m.partner_id for m in mapped] == [real]
    finally:
        await drop_database(url)
