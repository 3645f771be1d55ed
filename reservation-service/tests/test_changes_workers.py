"""The lifecycle sweeps (workers.py), driven with a clock of the test's own: requests expire,
unguaranteed bookings are cancelled, no-shows are marked and charged; each booking once, also
with two replicas sweeping together; on SQLite and on PostgreSQL."""

import asyncio
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hotel_common import db
from hotel_common.events.outbox import SOURCE_INFO
from hotel_common.testing import assert_problem
from hotel_common.time import utcnow
from reservation_service import pricing, workers
from reservation_service.config import Settings

from . import changes_support
from .changes_support import Desk, plan_terms
from .conftest import hotel_today
from .test_access import GATEWAY, HERE, LI, PARTNER_A, who

desk = changes_support.desk  # the fixture, for this module's tests
desk_on_each_db = changes_support.desk_on_each_db  # the fixture, for this module's tests

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings()


async def test_requests_past_their_time_expire_once(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    stale, kept = await hotel.book(), await hotel.book()
    confirmed = await desk.booked()
    await hotel.confirm(kept["id"])
    assert await workers.expire_requests(desk.sessions) == 0  # not yet

    later = utcnow() + timedelta(hours=SETTINGS.request_expiry_hours, minutes=1)
    assert await workers.expire_requests(desk.sessions, later) == 1
    assert await workers.expire_requests(desk.sessions, later) == 0  # idempotent

    assert (await hotel.reservation(stale["id"]))["status"] == "expired"
    assert (await hotel.reservation(kept["id"]))["status"] == "confirmed"
    assert (await hotel.reservation(confirmed["id"]))["status"] == "confirmed"
    [event] = await desk.events("reservation.expired")
    assert event.payload["reservation_id"] == stale["id"]
    assert event.aggregate_version == 2
    [line] = [h for h in await desk.history(stale["id"]) if h["action"] == "expired"]
    assert (line["actor"], line["from_status"], line["to_status"]) == (
        "system:expiry",
        "requested",
        "expired",
    )
    # An expired request can no longer be confirmed.
    assert_problem(await hotel.confirm(stale["id"]), 409, "invalid_transition")


async def test_a_guarantee_not_met_in_time_cancels_the_booking_and_tells_the_guest(
    desk_on_each_db: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    plan_terms(
        monkeypatch, guarantee=pricing.Guarantee(kind="deposit", deposit_percent=30, due_hours=2)
    )
    unpaid, paid = await desk.booked(), await desk.booked()
    assert unpaid["guarantee_due_at"] is not None
    due = datetime.fromisoformat(unpaid["guarantee_due_at"])
    confirmed_at = datetime.fromisoformat(unpaid["confirmed_at"])
    assert due - confirmed_at == timedelta(hours=2)

    met = await hotel.client.post(f"/api/v1/reservations/{paid['id']}/guarantee")
    assert met.status_code == 200, met.text
    assert met.json()["guaranteed_at"] is not None and met.json()["guarantee_due_at"] is None
    again = await hotel.client.post(f"/api/v1/reservations/{paid['id']}/guarantee")
    assert again.json() == met.json()  # idempotent: no new version

    assert await workers.cancel_unguaranteed(desk.sessions, due - timedelta(minutes=1)) == 0
    assert await workers.cancel_unguaranteed(desk.sessions, due + timedelta(minutes=1)) == 1
    assert await workers.cancel_unguaranteed(desk.sessions, due + timedelta(hours=1)) == 0

    cancelled = await hotel.reservation(unpaid["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_fee_amount"] == 0
    assert (await hotel.reservation(paid["id"]))["status"] == "confirmed"
    await desk.assert_inventory_consistent()
    [event] = await desk.events("reservation.cancelled")
    assert event.payload["reservation_id"] == unpaid["id"]
    assert event.payload["reason_code"] == "guarantee_expired"
    assert event.payload["was_confirmed"] is True
    assert event.payload["guest"]["email"] == "li.wei@example.com"  # the notice reaches them
    [line] = [h for h in await desk.history(unpaid["id"]) if h["action"] == "cancelled"]
    assert line["actor"] == "system:guarantee"
    assert line["changes"]["reason_code"] == "guarantee_expired"
    actions = [h["action"] for h in await desk.history(paid["id"])]
    assert actions == ["created", "confirmed", "guaranteed"]


async def test_who_may_mark_a_guarantee_met(desk: Desk) -> None:
    hotel = desk.hotel
    created = await hotel.book()
    path = f"/api/v1/reservations/{created['id']}/guarantee"
    for principal in (LI, PARTNER_A):
        assert (await hotel.client.post(path, headers=who(principal))).status_code == 403
    assert (await hotel.client.post(path, headers=who(HERE))).status_code == 200
    assert (await hotel.client.post(path, headers=who(GATEWAY))).status_code == 200
    await hotel.cancel(created["id"])
    other = await hotel.book()
    await hotel.cancel(other["id"])
    refused = await hotel.client.post(f"/api/v1/reservations/{other['id']}/guarantee")
    assert_problem(refused, 409, "invalid_transition")


def _cutoff(check_in_day: datetime) -> datetime:
    """06:00 property time on the day after check-in."""
    day = check_in_day.date() + timedelta(days=1)
    return datetime.combine(day, time(SETTINGS.no_show_cutoff_hour), SHANGHAI)


async def test_a_guest_who_never_came_is_a_no_show_charged_the_first_night(
    desk_on_each_db: Desk,
) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    today = hotel_today()
    stay = {"check_in": today.isoformat(), "check_out": (today + timedelta(days=3)).isoformat()}
    absent = await desk.booked(**stay)
    later = await desk.booked(**desk.days(0, 2))  # arrives in 10 days: not due
    cutoff = _cutoff(datetime.combine(today, time(0)))

    assert await workers.mark_no_shows(desk.sessions, SETTINGS, cutoff - timedelta(minutes=1)) == 0
    free = await hotel.available("KNG", stay["check_in"], stay["check_out"])
    assert await workers.mark_no_shows(desk.sessions, SETTINGS, cutoff + timedelta(minutes=1)) == 1
    assert await workers.mark_no_shows(desk.sessions, SETTINGS, cutoff + timedelta(hours=1)) == 0

    marked = await hotel.reservation(absent["id"])
    assert marked["status"] == "no_show" and marked["no_show_at"] is not None
    assert marked["cancellation_fee_amount"] == absent["nightly_amounts"][0]
    assert (await hotel.reservation(later["id"]))["status"] == "confirmed"
    # The nights still to come are released; the night that passed stays as it was.
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert await hotel.available("KNG", tomorrow, stay["check_out"]) == free + 1
    assert await hotel.available("KNG", stay["check_in"], tomorrow) == free
    [event] = await desk.events("reservation.no_show")
    assert event.payload["fee_amount"] == absent["nightly_amounts"][0]
    assert (event.payload["currency"], event.aggregate_version) == ("CNY", 3)
    [line] = [h for h in await desk.history(absent["id"]) if h["action"] == "no_show"]
    assert line["actor"] == "system:no_show"
    # A no-show is final.
    assert_problem(await hotel.cancel(absent["id"]), 409, "invalid_transition")


async def test_two_replicas_sweeping_together_change_each_booking_once(
    desk_on_each_db: Desk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    today = hotel_today()
    stay = {"check_in": today.isoformat(), "check_out": (today + timedelta(days=1)).isoformat()}
    requests = [await hotel.book() for _ in range(4)]
    absent = [await desk.booked(**stay) for _ in range(3)]
    plan_terms(monkeypatch, guarantee=pricing.Guarantee(kind="prepayment", due_hours=1))
    unpaid = [await desk.booked() for _ in range(3)]
    now = max(
        utcnow() + timedelta(hours=SETTINGS.request_expiry_hours, minutes=1),
        _cutoff(datetime.combine(today, time(0))) + timedelta(minutes=1),
    )

    engine = db.create_engine(desk.url)
    try:
        other = db.create_session_factory(engine, **{SOURCE_INFO: "reservation-service"})
        results = await asyncio.gather(
            workers.sweep_once(desk.sessions, SETTINGS, now),
            workers.sweep_once(other, SETTINGS, now),
        )
    finally:
        await engine.dispose()

    # Each replica claims bookings the other does not: no collision to log and skip.
    assert not [r for r in caplog.records if r.name == workers.log.name and r.levelname == "ERROR"]
    changed = {name: sum(r[name] for r in results) for name in results[0]}
    assert changed == {"expiry": 4, "no_show": 3, "guarantee": 3}
    statuses = {
        b["id"]: (await hotel.reservation(b["id"]))["status"] for b in requests + absent + unpaid
    }
    assert sorted(statuses.values()) == ["cancelled"] * 3 + ["expired"] * 4 + ["no_show"] * 3
    events = await desk.events()
    for kind, group in (
        ("reservation.expired", requests),
        ("reservation.no_show", absent),
        ("reservation.cancelled", unpaid),
    ):
        announced = sorted(e.payload["reservation_id"] for e in events if e.type == kind)
        assert announced == sorted(b["id"] for b in group), kind
