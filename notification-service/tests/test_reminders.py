"""Issue 20: reminders scheduled from the booking and the survey, fired by the worker's pass
(`Firing.fire_due(now)`: time is driven, never slept): at the right local time, moved by a
change, dropped by a cancellation or an answer, each fired once."""

import asyncio
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from hotel_common.contracts.guests import SurveyAnswered
from hotel_common.contracts.reservations import GuaranteeTerms, ReservationCheckedIn
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import (
    MailServer,
    eventually,
    guest_contact,
    reservation_cancelled,
    reservation_confirmed,
    reservation_modified,
    transfer_assigned,
)
from hotel_common.time import utcnow
from notification_service import reminders

from .conftest import Samples, Service, StartService

# The sample stay begins Saturday 1 June 2030 in Shanghai (UTC+8): the arrival reminder is due
# on Friday 31 May at 10:00 local, 02:00 UTC.
ARRIVAL_DUE = datetime(2030, 5, 31, 2, 0, tzinfo=UTC)


def firing(svc: Service) -> reminders.Firing:
    return reminders.firing_of(svc.app.state.runtime)


async def scheduled(svc: Service, key: str, until: Any) -> reminders.ScheduledReminder:
    async def row() -> reminders.ScheduledReminder | None:
        async with svc.app.state.runtime.sessions() as session:
            return await reminders._row(session, key)

    found = await eventually(row, lambda r: r is not None and until(r), 10)
    assert found is not None
    return found


async def mail_to(server: MailServer, address: str, count: int) -> list[EmailMessage]:
    async def to() -> list[EmailMessage]:
        return server.to(address)

    return await eventually(to, lambda ms: len(ms) >= count, 10)


async def _subjects(server: MailServer, address: str, part: str) -> list[EmailMessage]:
    return [m for m in server.to(address) if part in m["Subject"]]


def text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_the_arrival_reminder_goes_the_day_before_at_ten_local_with_the_pickup(
    start_service: StartService, mail_server: MailServer
) -> None:
    booking = reservation_confirmed(guest=guest_contact("zh-Hans"), aggregate_version=2)
    pickup = transfer_assigned(
        reservation_id=booking.reservation_id,
        confirmation_number=booking.confirmation_number,
        guest=booking.guest,
        aggregate_version=2,
    )
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(booking)
        svc.deliver(pickup)
        row = await scheduled(svc, f"arrival:{booking.reservation_id}", lambda r: True)
        assert row.due_at == ARRIVAL_DUE
        await eventually(lambda: _pickups(svc, booking.reservation_id), lambda n: n == 1, 10)
        assert await firing(svc).fire_due(ARRIVAL_DUE - timedelta(minutes=1)) == 0
        assert await firing(svc).fire_due(ARRIVAL_DUE) == 1
        assert await firing(svc).fire_due(ARRIVAL_DUE + timedelta(days=1)) == 0  # once
        messages = await mail_to(mail_server, booking.guest.email, 3)  # confirmation, pickup
    [reminder] = [m for m in messages if "明天见" in m["Subject"]]
    body = text(reminder)
    assert "Zhang Wei" in body and "沪A·12345" in body
    assert "14:00起" in body  # the default check-in clock


async def _pickups(svc: Service, reservation_id: str) -> int:
    from sqlmodel import select

    async with svc.app.state.runtime.sessions() as session:
        rows = await session.exec(
            select(reminders.ReminderPickup).where(
                reminders.ReminderPickup.reservation_id == reservation_id
            )
        )
        return len(rows.all())


async def test_a_change_of_dates_moves_the_reminder_and_an_older_event_does_not_move_it_back(
    start_service: StartService, mail_server: MailServer
) -> None:
    booking = reservation_confirmed(aggregate_version=2)
    moved = reservation_modified(
        booking,
        check_in=booking.check_in + timedelta(days=2),
        check_out=booking.check_out + timedelta(days=2),
        aggregate_version=3,
    )
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(booking)
        key = f"arrival:{booking.reservation_id}"
        await scheduled(svc, key, lambda r: r.version == 2)
        svc.deliver(moved)
        row = await scheduled(svc, key, lambda r: r.version == 3)
        assert row.due_at == ARRIVAL_DUE + timedelta(days=2)
        svc.deliver(booking)  # the confirmation again, late: older than the change
        svc.deliver(reservation_cancelled(reservation_confirmed()))  # something to wait on
        await eventually(svc.notices, lambda ns: len(ns) >= 3, 10)
        row = await scheduled(svc, key, lambda r: True)
        assert row.due_at == ARRIVAL_DUE + timedelta(days=2)
        assert await firing(svc).fire_due(ARRIVAL_DUE + timedelta(hours=1)) == 0
        assert await firing(svc).fire_due(ARRIVAL_DUE + timedelta(days=2)) == 1
        messages = await eventually(
            lambda: _subjects(mail_server, booking.guest.email, "See you tomorrow"),
            lambda ms: len(ms) == 1,
            10,
        )
    [reminder] = messages
    assert "Monday 3 June 2030" in text(reminder)


async def test_a_cancellation_drops_every_reminder_and_a_late_confirmation_does_not_revive(
    start_service: StartService, mail_server: MailServer
) -> None:
    booking = reservation_confirmed(aggregate_version=2)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(booking)
        key = f"arrival:{booking.reservation_id}"
        await scheduled(svc, key, lambda r: r.status == "pending")
        svc.deliver(reservation_cancelled(booking, aggregate_version=4))
        await scheduled(svc, key, lambda r: r.status == "dropped")
        redelivered = svc.deliver(booking)
        svc.deliver(redelivered)
        await eventually(svc.notices, lambda ns: len(ns) >= 2, 10)
        assert await firing(svc).fire_due(ARRIVAL_DUE + timedelta(days=30)) == 0
        row = await scheduled(svc, key, lambda r: True)
        assert row.status == "dropped"


async def test_no_reminder_when_its_moment_has_passed(
    start_service: StartService, mail_server: MailServer
) -> None:
    """A booking made for tomorrow evening after the day-before moment: the confirmation it
    just got says it all, no reminder."""
    tomorrow = (utcnow() + timedelta(hours=12)).date()
    booking = reservation_confirmed(
        check_in=tomorrow, check_out=tomorrow + timedelta(days=1), aggregate_version=2
    )
    booking = booking.model_copy(update={"property_timezone": "Pacific/Kiritimati"})
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(booking)
        await eventually(svc.notices, lambda ns: len(ns) == 1, 10)
        async with svc.app.state.runtime.sessions() as session:
            row = await reminders._row(session, f"arrival:{booking.reservation_id}")
    # Kiritimati is UTC+14: 10:00 there on the day before `tomorrow` (UTC) has passed.
    assert row is None


async def test_the_guarantee_reminder_goes_before_its_deadline_and_is_dropped_once_met(
    start_service: StartService, mail_server: MailServer
) -> None:
    due = datetime(2030, 5, 20, 9, 0, tzinfo=UTC)
    terms = GuaranteeTerms(kind="deposit", amount=38400, due_hours=48, due_at=due)
    booking = reservation_confirmed(aggregate_version=2, guarantee=terms)
    other = reservation_confirmed(aggregate_version=2, guarantee=terms)
    met = reservation_modified(
        other,
        changes={"guaranteed_at": {"from": None, "to": "2030-05-19T08:00:00Z"}},
        guarantee=None,
        aggregate_version=3,
    )
    async with start_service(smtp_url=mail_server.url, guarantee_reminder_hours_before=6) as svc:
        svc.deliver(booking)
        svc.deliver(other)
        row = await scheduled(svc, f"guarantee:{booking.reservation_id}", lambda r: True)
        assert row.due_at == due - timedelta(hours=6)
        await scheduled(svc, f"guarantee:{other.reservation_id}", lambda r: True)
        svc.deliver(met)
        await scheduled(svc, f"guarantee:{other.reservation_id}", lambda r: r.status == "dropped")
        assert await firing(svc).fire_due(due - timedelta(hours=6)) == 1
        messages = await mail_to(mail_server, booking.guest.email, 2)
    [reminder] = [m for m in messages if "Payment reminder" in m["Subject"]]
    assert "CNY 384.00" in text(reminder) and "17:00" in text(reminder)  # 09:00 UTC in Shanghai
    assert not [m for m in mail_server.to(other.guest.email) if "Payment" in m["Subject"]]


async def test_the_departure_reminder_is_scheduled_at_check_in_and_moved_by_a_later_check_out(
    start_service: StartService, mail_server: MailServer
) -> None:
    booking = reservation_confirmed(guest=guest_contact("zh-Hant"), aggregate_version=2)
    checked_in = ReservationCheckedIn(
        reservation_id=booking.reservation_id,
        confirmation_number=booking.confirmation_number,
        property_name=booking.property_name,
        room_number="1208",
        check_in=booking.check_in,
        check_out=booking.check_out,
        guest=booking.guest,
        property_timezone="Asia/Shanghai",
        check_out_time="11:00",
        aggregate_version=3,
    )
    extended = reservation_modified(
        booking,
        status="checked_in",
        check_out=booking.check_out + timedelta(days=1),
        aggregate_version=4,
    )
    # 08:00 in Shanghai on Tuesday 4 June 2030, then on the 5th.
    first = datetime(2030, 6, 4, 0, 0, tzinfo=UTC)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(checked_in)
        key = f"departure:{booking.reservation_id}"
        row = await scheduled(svc, key, lambda r: True)
        assert row.due_at == first
        svc.deliver(extended)
        row = await scheduled(svc, key, lambda r: r.version == 4)
        assert row.due_at == first + timedelta(days=1)
        assert await firing(svc).fire_due(first) == 0
        assert await firing(svc).fire_due(first + timedelta(days=1)) == 1
        messages = await mail_to(mail_server, booking.guest.email, 2)  # and the change's
    [message] = [m for m in messages if "今日退房提醒" in m["Subject"]]
    assert "11:00前退房" in text(message)


async def test_the_survey_follow_up_is_dropped_once_answered_and_sent_otherwise(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    answered = samples.survey("en", email="answered@example.com", phone=None)
    silent = samples.survey("zh-Hans", email="silent@example.com", phone=None)
    short = samples.survey("en", email="short@example.com", expires_at=utcnow() + timedelta(days=3))
    async with start_service(smtp_url=mail_server.url) as svc:
        for event in (answered, silent, short):
            svc.deliver(event)
        await mail_to(mail_server, "silent@example.com", 1)  # the invitations
        await scheduled(svc, f"survey:{answered.survey_id}", lambda r: True)
        await scheduled(svc, f"survey:{silent.survey_id}", lambda r: True)
        svc.deliver(
            SurveyAnswered(
                survey_id=answered.survey_id,
                reservation_id=answered.reservation_id,
                transfer_id=None,
            )
        )
        await scheduled(svc, f"survey:{answered.survey_id}", lambda r: r.status == "dropped")
        assert await firing(svc).fire_due(utcnow() + timedelta(days=6)) == 1
        messages = await mail_to(mail_server, "silent@example.com", 2)
        async with svc.app.state.runtime.sessions() as session:
            assert await reminders._row(session, f"survey:{short.survey_id}") is None
    assert len(mail_server.to("answered@example.com")) == 1  # the invitation only
    follow_up = messages[-1]
    assert "温馨提醒" in follow_up["Subject"]
    assert answered.survey_url in text(follow_up)


@pytest.mark.parametrize("replicas", [2])
async def test_two_workers_on_postgresql_fire_each_reminder_once(
    start_service: StartService, mail_server: MailServer, replicas: int
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_{uuid.uuid4().hex}"
    broker = InMemoryBroker()
    options: dict[str, Any] = {
        "database_url": url,
        "broker": broker,
        "smtp_url": mail_server.url,
        "reminder_batch_size": 3,
    }
    bookings = [reservation_confirmed(aggregate_version=2) for _ in range(12)]
    try:
        async with AsyncExitStack() as stack:
            services = [
                await stack.enter_async_context(start_service(**options)) for _ in range(replicas)
            ]
            first = services[0]
            for booking in bookings:
                first.deliver(booking)
            await eventually(
                lambda: first.notices(limit=100), lambda ns: len(ns) == len(bookings), 20
            )

            async def drain(svc: Service) -> int:
                total = 0
                while (n := await firing(svc).fire_due(ARRIVAL_DUE)) > 0:
                    total += n
                return total

            fired = await asyncio.gather(
                *(drain(s) for s in services), *(drain(s) for s in services)
            )
            assert sum(fired) == len(bookings)
            await eventually(
                lambda: first.notices(kind="arrival_reminder", limit=100),
                lambda ns: len(ns) == len(bookings),
                20,
            )
    finally:
        await drop_database(url)
