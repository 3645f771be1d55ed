"""Adversarial (issue 20): the same 'failed' receipt twice at once on PostgreSQL falls back
once (the claim is a conditional update on the row's reason)."""

import asyncio
import uuid

from hotel_common.db import drop_database
from hotel_common.testing import HttpProviderStub, eventually

from .channels import booking_of_lin, provider, receipt, stored, texting_guest
from .conftest import Samples, StartService

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


async def test_the_same_failed_receipt_twice_at_once_falls_back_once(
    start_service: StartService, samples: Samples
) -> None:
    url = f"{PG}/test_{uuid.uuid4().hex}"
    booking = booking_of_lin(samples)
    try:
        async with (
            HttpProviderStub("sms-a") as sms,
            start_service(database_url=url, sms_providers=[provider(sms)]) as svc,
        ):
            svc.deliver(texting_guest(samples))
            svc.deliver(booking)
            [text] = await eventually(
                lambda: stored(svc, booking.reservation_id),
                lambda rs: len(rs) == 1 and rs[0].status == "sent",
            )
            body = {"id": text.id, "status": "failed", "error": "handset off"}
            answers = await asyncio.gather(*(receipt(svc, "sms-a", body) for _ in range(4)))
            rows = await eventually(
                lambda: stored(svc, booking.reservation_id), lambda rs: len(rs) >= 2
            )
    finally:
        await drop_database(url)

    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(r.channel for r in rows) == ["email", "sms"]
    assert [r.fallback_of for r in rows if r.channel == "email"] == [text.id]
