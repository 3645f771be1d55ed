"""Adversarial (issue 21): reservation-service lets staff map a partner id of up to 64
characters, while a gateway partner id (and partner-service's columns) is at most 32. On
PostgreSQL such a `partner.mapping_changed` failed at every try and was dead-lettered (an
operator paged for a message that can never succeed). No gateway partner can have such an id:
the mapping is ignored, the others' feeds go on."""

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from hotel_common.contracts.partners import (
    AriNight,
    AriRatePlan,
    AvailabilityChanged,
    PartnerMappingChanged,
)
from hotel_common.db import drop_database
from hotel_common.testing import scratch_url
from hotel_common.time import utcnow
from partner_service.mappings import MappedProperty
from sqlmodel import select

from .conftest import StartPartnerService, new_partner_id

pytestmark = pytest.mark.infra


def mapping(partner_id: str) -> PartnerMappingChanged:
    return PartnerMappingChanged(
        aggregate_version=1,
        mapping_key=f"{partner_id}:1",
        partner_id=partner_id,
        property_id=1,
        room_types={"DBL": "KNG"},
        rate_plans={},
    )


async def test_a_mapping_of_an_id_no_partner_can_have_does_not_poison_the_feed(
    start_partner_service: StartPartnerService, tmp_path: Path
) -> None:
    url = scratch_url("postgresql", tmp_path, "partner_long_ids")
    try:
        async with start_partner_service(database_url=url) as svc:
            real = new_partner_id()
            svc.deliver(mapping("x" * 40))
            svc.deliver(mapping(real))
            start = date.today() + timedelta(days=3)
            svc.deliver(
                AvailabilityChanged(
                    aggregate_version=1,
                    property_id=1,
                    room_type_id=1,
                    room_type_code="KNG",
                    start=start,
                    end=start + timedelta(days=1),
                    currency="CNY",
                    sequence=1,
                    free=[2],
                    rate_plans=[
                        AriRatePlan(code="BASE", nights=[AriNight(night=start, amount=30000)])
                    ],
                    computed_at=utcnow(),
                )
            )
            got = await svc.feed_reaches(real, 1)
            await asyncio.sleep(1.0)  # the long id's retries (10 ms, 50 ms) are over by now
            async with svc.runtime.sessions() as session:
                rows = (await session.exec(select(MappedProperty.partner_id))).all()
            assert list(rows) == [real]
            assert [e["type"] for e in got] == ["availability.changed"]
            dead = [p for q in svc.broker.queues.values() for p in q.dead]
            assert dead == [], [p.envelope.type for p in dead]
    finally:
        await drop_database(url)
