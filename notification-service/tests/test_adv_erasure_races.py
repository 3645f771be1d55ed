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
from datetime import timedelta
from typing import Any

import pytest
from hotel_common.contracts.guests import GuestErased
from hotel_common.db import drop_database, transaction
from hotel_common.testing import HttpProviderStub, eventually, reservation_confirmed
from hotel_common.time import utcnow
from notification_service import reminders
from notification_service.delivery import Delivery, delivery_of
from notification_service.models import Notification, Status
from sqlalchemy import text
from sqlmodel import col, select

from .channels import booking_of_lin, provider, texting_guest
from .conftest import Samples, Service, StartService
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
                text(
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


async def test_an_erasure_while_a_late_text_falls_back_leaves_no_fallback_for_the_erased_guest(
    start_service: StartService, samples: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking = booking_of_lin(samples)
    async with (
        HttpProviderStub("sms-a") as sms,
        on_postgres(
            start_service, sms_providers=[provider(sms)], delivery_deadline_seconds=3600
        ) as svc,
    ):
        svc.deliver(texting_guest(samples))
        svc.deliver(booking)
        where = col(Notification.reservation_id) == booking.reservation_id
        await eventually(
            lambda: rows_of(svc, where),
            lambda rs: len(rs) == 1 and rs[0].status == "sent" and rs[0].deliver_by is not None,
            10,
        )
        monkeypatch.setattr(Delivery, "deliver_due", no_sending)
        sender = delivery_of(svc.app.state.runtime)
        async with transaction(svc.app.state.runtime.sessions) as session:
            # The text's deadline passes: its fallback (the email) is queued, not committed yet.
            await sender._past_deadline(session, utcnow() + timedelta(days=1))
            svc.deliver(samples.erased(reservation_ids=[booking.reservation_id]))
            await erasure_waits_on_a_lock(svc)

        rows = await eventually(
            lambda: rows_of(svc, where), lambda rs: len(rs) == 2 and not rs[0].phone, 10
        )

    assert {(r.channel, r.fallback_of is not None) for r in rows} == {
        ("sms", False),
        ("email", True),
    }
    assert still_reaching(rows) == []


class PausingSession:
    """The real session, paused before its `n`th statement (to let another transaction in)."""

    def __init__(self, session: Any, n: int, pause: Callable[[], Awaitable[None]]) -> None:
        self._session, self._n, self._pause, self._calls = session, n, pause, 0

    async def exec(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._calls += 1
        if self._calls == self._n:
            await self._pause()
        return await self._session.exec(statement, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


async def test_an_erasure_between_finding_a_late_text_and_claiming_it_leaves_no_fallback(
    start_service: StartService, samples: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking = booking_of_lin(samples)
    async with (
        HttpProviderStub("sms-a") as sms,
        on_postgres(
            start_service, sms_providers=[provider(sms)], delivery_deadline_seconds=3600
        ) as svc,
    ):
        svc.deliver(texting_guest(samples))
        svc.deliver(booking)
        where = col(Notification.reservation_id) == booking.reservation_id
        await eventually(
            lambda: rows_of(svc, where),
            lambda rs: len(rs) == 1 and rs[0].status == "sent" and rs[0].deliver_by is not None,
            10,
        )
        monkeypatch.setattr(Delivery, "deliver_due", no_sending)

        async def erased_meanwhile() -> None:
            svc.deliver(samples.erased(reservation_ids=[booking.reservation_id]))
            await eventually(lambda: rows_of(svc, where), lambda rs: not rs[0].phone, 10)

        sender = delivery_of(svc.app.state.runtime)
        async with transaction(svc.app.state.runtime.sessions) as session:
            # Found late (statement 1), then the erasure commits, then the claim (statement 2).
            paused = PausingSession(session, 2, erased_meanwhile)
            await sender._past_deadline(paused, utcnow() + timedelta(days=1))

        rows = await rows_of(svc, where)

    assert still_reaching(rows) == []
