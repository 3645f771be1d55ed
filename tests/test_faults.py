"""The platform's promises under faults, on both run modes: a broker outage delays events and
loses none, a duplicate event takes effect once, an event no handler can take is parked in the
dead-letter queue, and bad input is refused with problem+json without writing anything."""

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from harness import Platform
from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.events.envelope import Envelope
from hotel_common.testing import (
    MailServer,
    eventually,
    guest_contact,
    reservation_confirmed,
    transfer_request,
)
from test_journey import booking


async def mails_to(mailbox: MailServer, address: str) -> int:
    return len(mailbox.to(address))


async def test_confirmation_succeeds_with_the_broker_down_and_events_follow_when_it_is_back(
    platform: Platform, mailbox: MailServer
) -> None:
    client = platform.client
    email = f"outage.{platform.mode}@example.com"
    rid = (await client.post("/api/v1/reservations", json=booking(email, "en"))).json()["id"]
    # The request's own notice ("received, how to guarantee it") goes before the outage.
    await eventually(lambda: mails_to(mailbox, email), lambda n: n == 1, timeout=30)

    platform.cut_broker()
    confirmed = await client.post(f"/api/v1/reservations/{rid}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    await asyncio.sleep(1.0)  # nothing can travel yet
    transfers = await client.get("/api/v1/transfers", params={"reservation_id": rid})
    assert transfers.json()["items"] == []
    assert await mails_to(mailbox, email) == 1  # the request's, nothing of the confirmation

    platform.restore_broker()
    await eventually(
        lambda: client.get("/api/v1/transfers", params={"reservation_id": rid}),
        lambda r: [t["status"] for t in r.json()["items"]] == ["assigned"],
        timeout=30,
    )
    # The request's, the confirmation and the pickup.
    await eventually(lambda: mails_to(mailbox, email), lambda n: n == 3, timeout=30)
    await platform.wait_ready()  # every consumer is back on its queue


def confirmed_event(email: str, timezone: str = "Asia/Shanghai") -> ReservationConfirmed:
    check_in = date.today() + timedelta(days=20)
    return reservation_confirmed(
        property_timezone=timezone,
        check_in=check_in,
        check_out=check_in + timedelta(days=2),
        guest=guest_contact("zh-Hans", name="Chen Jie", email=email),
        transfer=transfer_request(
            arrival_time=datetime.combine(check_in, time(8, 0), UTC), passengers=1
        ),
    )


async def test_the_same_event_delivered_twice_gives_one_transfer_and_one_notice_each(
    platform: Platform, mailbox: MailServer
) -> None:
    email = f"twice.{platform.mode}@example.com"
    event = confirmed_event(email)
    envelope = Envelope.wrap(event, "reservation-service")
    await platform.publish(envelope, envelope)

    client = platform.client
    rid = event.reservation_id
    await eventually(lambda: mails_to(mailbox, email), lambda n: n >= 2, timeout=20)
    await asyncio.sleep(0.5)  # time enough for a duplicate to show, were there one
    transfers = (await client.get("/api/v1/transfers", params={"reservation_id": rid})).json()
    assert [t["status"] for t in transfers["items"]] == ["assigned"]
    notices = (await client.get("/api/v1/notifications", params={"reservation_id": rid})).json()
    assert sorted(n["kind"] for n in notices["items"]) == [
        "reservation_confirmed",
        "transfer_assigned",
    ]
    assert await mails_to(mailbox, email) == 2
    guests = (await client.get("/api/v1/guests", params={"email": email})).json()["items"]
    assert len(guests) == 1


async def test_an_event_no_handler_can_take_is_parked_in_the_dead_letter_queue(
    platform: Platform,
) -> None:
    event = confirmed_event(f"poison.{platform.mode}@example.com", timezone="Mars/Olympus_Mons")
    envelope = Envelope.wrap(event, "reservation-service")
    await platform.publish(envelope)

    async with platform.service("transfer-service") as transfers:
        parked = await eventually(
            lambda: transfers.get("/admin/dead-letters"),
            lambda r: any(e["id"] == envelope.id for e in r.json()["items"]),
            timeout=20,
        )
    assert parked.status_code == 200
    # The other consumers were not held back by the poison: the guest profile exists.
    await eventually(
        lambda: platform.client.get("/api/v1/guests", params={"email": event.guest.email}),
        lambda r: len(r.json()["items"]) == 1,
    )


BAD_BOOKINGS: dict[str, dict[str, Any]] = {
    "unknown room type": {"room_type_code": "PENTHOUSE"},
    "check-out before check-in": {"check_out": (date.today() + timedelta(days=5)).isoformat()},
    "malformed email": {"guest": {"name": "X", "email": "not-an-email", "language": "en"}},
    "missing guest": {"guest": None},
}


async def test_bad_bookings_get_problem_json_and_write_nothing(platform: Platform) -> None:
    client = platform.client
    before = (await client.get("/api/v1/reservations", params={"limit": 200})).json()["items"]
    for case, change in BAD_BOOKINGS.items():
        body = booking("bad@example.com", "en", **change)
        if change.get("guest", ...) is None:
            del body["guest"]
        r = await client.post("/api/v1/reservations", json=body)
        assert 400 <= r.status_code < 500, case
        assert r.headers["content-type"] == "application/problem+json", case
        problem = r.json()
        assert problem["status"] == r.status_code and problem["code"] and problem["detail"], case
    after = (await client.get("/api/v1/reservations", params={"limit": 200})).json()["items"]
    assert after == before
