"""Adversarial (issue 20): an erasure racing a reminder being fired or a fallback being created,
on PostgreSQL. Nothing may stay queued, or keep an address, for the erased guest.

The interleavings are forced, not timed: the firing (or fallback) transaction is held open at
its end by a barrier, the erasure is delivered and seen waiting on a row lock
(pg_stat_activity), then the first transaction commits.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from hotel_common.contracts.guests import GuestErased
from hotel_common.db import drop_database
from hotel_common.testing import eventually, reservation_confirmed
from hotel_common.time import utcnow
from notification_service import reminders
from notification_service.delivery import Delivery
from notification_service.models import Notification, Status
from sqlalchemy import text
from sqlmodel import col, select

from .conftest import Service, StartService
from .test_reminders import ARRIVAL_DUE, scheduled

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


@asynccontextmanager
async def on_postgres(start_service: StartService, **options: Any) -> AsyncIterator[Service]:
    url = f"{PG}/test_{uuid.uuid4().hex}"
    try:
        async with start_service(database_url=url, **options) as svc:
            yield svc
    finally:
        await drop_database(url)


async def no_sending(self: Delivery) -> int:
    return 0  # the sender stays idle: the test looks at the rows, not at a race with a send


async def erasure_waits_on_a_lock(svc: Service) -> None:
    async def waiting() -> int:
        async with svc.app.state.runtime.sessions() as session:
            found = await session.exec(
                text(  # type: ignore[call-overload]
                    "select count(*) from pg_stat_activity where datname = current_database()"
                    " and wait_event_type = 'Lock'"
                )
            )
            return int(found.scalar_one())

    await eventually(waiting, lambda n: n >= 1, 10)


async def rows_of(svc: Service, where: Any) -> list[Notification]:
    async with svc.app.state.runtime.sessions() as session:
        return list((await session.exec(select(Notification).where(where))).all())


def still_reaching(rows: list[Notification]) -> list[tuple[str, str, str | None]]:
    """Rows that would still go out, or that keep an address."""
    return [
        (r.kind, r.status, r.email or r.phone)
        for r in rows
        if r.status == Status.QUEUED or r.email or r.phone
    ]


async def test_an_erasure_while_a_reminder_fires_leaves_no_reminder_for_the_erased_guest(
    start_service: StartService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Delivery, "deliver_due", no_sending)
    booking = reservation_confirmed(aggregate_version=2)
    release = asyncio.Event()
    fired = asyncio.Event()
    original: Callable[..., Awaitable[bool]] = reminders.Firing._fire

    async def fire_then_hold(self: reminders.Firing, session: Any, row: Any) -> bool:
        done = await original(self, session, row)  # the reminder's notice is queued ...
        fired.set()
        await release.wait()  # ... and its transaction is still open
        return done

    monkeypatch.setattr(reminders.Firing, "_fire", fire_then_hold)
    async with on_postgres(start_service) as svc:
        svc.deliver(booking)
        await scheduled(svc, f"arrival:{booking.reservation_id}", lambda r: True)
        firing = asyncio.create_task(
            reminders.firing_of(svc.app.state.runtime).fire_due(ARRIVAL_DUE)
        )
        await asyncio.wait_for(fired.wait(), 10)
        svc.deliver(
            GuestErased(
                guest_id=str(uuid.uuid4()),
                reservation_ids=[booking.reservation_id],
                emails=[booking.guest.email],
                phones=[booking.guest.phone] if booking.guest.phone else [],
                names=[booking.guest.name],
                erased_at=utcnow(),
            )
        )
        await erasure_waits_on_a_lock(svc)
        release.set()
        assert await firing == 1

        async def erased() -> list[Notification]:
            return await rows_of(svc, col(Notification.reservation_id) == booking.reservation_id)

        rows = await _settled(svc, erased)

    assert {r.kind for r in rows} == {"reservation_confirmed", "arrival_reminder"}
    assert still_reaching(rows) == []
    [reminder] = [r for r in rows if r.kind == "arrival_reminder"]
    assert (reminder.status, reminder.reason) == ("suppressed", "erased")


async def _settled(
    svc: Service, rows: Callable[[], Awaitable[list[Notification]]]
) -> list[Notification]:
    """The rows once the erasure's handler is done (the confirmation's row is blanked)."""
    return await eventually(
        rows,
        lambda rs: any(r.kind == "reservation_confirmed" and not r.email for r in rs),
        10,
    )
