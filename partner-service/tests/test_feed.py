"""The partners' event feed through `GET /api/v1/events`: a partner sees its own bookings'
events and the availability of the properties it is mapped to, in its codes, in one stable
order it can resume from; nothing of another partner's; an expired cursor is a 410; a
redelivered event is one entry; an erased guest is blanked."""

from datetime import date, timedelta
from typing import Any

from hotel_common.contracts.notifications import NoticeStatusChanged
from hotel_common.contracts.partners import (
    AriNight,
    AriRatePlan,
    AvailabilityChanged,
    PartnerMappingChanged,
)
from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.events.envelope import IntegrationEvent
from hotel_common.testing import (
    assert_problem,
    eventually,
    guest_erased,
    reservation_cancelled,
    reservation_confirmed,
    reservation_modified,
    transfer_assigned,
)
from hotel_common.time import utcnow
from partner_service import feed

from .conftest import (
    STAFF_ADMIN,
    PartnerService,
    new_partner_id,
    partner_principal,
    reservation_created,
)


def booking_of(partner_id: str | None, **overrides: Any) -> ReservationConfirmed:
    return reservation_confirmed(partner_id=partner_id, aggregate_version=2, **overrides)


def later_events(booking: ReservationConfirmed) -> list[IntegrationEvent]:
    """What follows a booking's request: its confirmation, its pickup, a notice, then its
    cancellation."""
    return [
        booking,
        transfer_assigned(
            reservation_id=booking.reservation_id,
            confirmation_number=booking.confirmation_number,
            guest=booking.guest,
            aggregate_version=2,
        ),
        NoticeStatusChanged(
            notice_id="n-" + booking.reservation_id[:8],
            reservation_id=booking.reservation_id,
            kind="reservation_confirmed",
            channel="email",
            status="delivered",
            at=utcnow(),
            aggregate_version=2,
        ),
        reservation_cancelled(booking, aggregate_version=3),
    ]


def lifecycle(svc: PartnerService, booking: ReservationConfirmed) -> list[str]:
    """created, confirmed, its pickup and a notice, then cancelled: the event ids, in order."""
    events = [reservation_created(booking), *later_events(booking)]
    return [svc.deliver(event).id for event in events]


async def test_a_partner_sees_only_its_own_bookings_events(
    partner_service: PartnerService,
) -> None:
    svc = partner_service
    a, b = new_partner_id(), new_partner_id()
    a_ids = lifecycle(svc, booking_of(a))
    b_ids = lifecycle(svc, booking_of(b))
    direct = lifecycle(svc, booking_of(None))  # the hotel's own website: nobody's feed

    a_feed = await svc.feed_reaches(a, len(a_ids))
    b_feed = await svc.feed_reaches(b, len(b_ids))
    assert [e["id"] for e in a_feed] == a_ids
    assert [e["id"] for e in b_feed] == b_ids
    assert [e["type"] for e in a_feed] == [
        "reservation.created",
        "reservation.confirmed",
        "transfer.assigned",
        "notice.status_changed",
        "reservation.cancelled",
    ]
    assert [e["cursor"] for e in a_feed] == ["1", "2", "3", "4", "5"]
    assert not {e["id"] for e in a_feed + b_feed} & set(direct)
    assert a_feed[1]["payload"]["guest"]["email"]  # its own booking, as it may read it
    assert a_feed[1]["aggregate_version"] == 2

    only = await svc.feed(a, types="reservation.created,reservation.cancelled")
    assert [e["type"] for e in only["events"]] == ["reservation.created", "reservation.cancelled"]
    assert only["next_cursor"] == "5"


async def test_only_partner_keys_read_a_feed(partner_service: PartnerService) -> None:
    svc = partner_service
    assert_problem(await svc.get_as(STAFF_ADMIN, "/api/v1/events"), 403, "forbidden")
    assert_problem(await svc.get_as(None, "/api/v1/events"), 401, "unauthenticated")
    partner = partner_principal(new_partner_id())
    empty = await svc.get_as(partner, "/api/v1/events")
    assert empty.json() == {"events": [], "next_cursor": "0", "has_more": False}
    for bad in ({"after": "abc"}, {"after": "-1"}, {"limit": "0"}, {"types": "DROP TABLE"}):
        assert_problem(await svc.get_as(partner, "/api/v1/events", **bad), 422, "validation_error")


async def test_a_partner_down_for_a_day_catches_up_from_its_cursor(
    partner_service: PartnerService,
) -> None:
    svc = partner_service
    a, b = new_partner_id(), new_partner_id()
    first = lifecycle(svc, booking_of(a))
    seen = await svc.feed_reaches(a, len(first))
    cursor = seen[-1]["cursor"]  # the partner goes away here

    mine: list[str] = []
    for _ in range(12):  # a day of bookings, the two partners' interleaved
        mine += lifecycle(svc, booking_of(a))
        lifecycle(svc, booking_of(b))
        lifecycle(svc, booking_of(None))
    await svc.feed_reaches(a, len(first) + len(mine))
    await svc.feed_reaches(b, len(mine))

    caught_up = await svc.whole_feed(a, after=cursor, limit=7)  # back, in small pages
    assert [e["id"] for e in caught_up] == mine  # nothing missing, nothing reordered
    cursors = [int(e["cursor"]) for e in caught_up]
    assert cursors == list(range(int(cursor) + 1, int(cursor) + 1 + len(mine)))
    again = await svc.feed(a, after=str(cursors[-1]))
    assert again == {"events": [], "next_cursor": str(cursors[-1]), "has_more": False}


async def test_an_event_before_its_booking_waits_and_follows_it(
    partner_service: PartnerService,
) -> None:
    svc = partner_service
    a = new_partner_id()
    booking = booking_of(a)
    early = svc.deliver(reservation_modified(booking, aggregate_version=3))  # the bus reordered
    created = svc.deliver(reservation_created(booking))
    confirmed = svc.deliver(booking)
    got = await svc.feed_reaches(a, 3)
    assert [e["id"] for e in got] == [created.id, early.id, confirmed.id]
    assert [e["aggregate_version"] for e in got] == [1, 3, 2]


async def test_a_redelivered_event_is_one_entry(partner_service: PartnerService) -> None:
    svc = partner_service
    a = new_partner_id()
    booking = booking_of(a)
    svc.deliver(reservation_created(booking))
    envelope = svc.deliver(booking)
    svc.deliver(envelope)  # the same envelope again (a retry, a redelivery)
    marker = svc.deliver(reservation_cancelled(booking, aggregate_version=3))
    got = await svc.feed_reaches(a, 3)
    await eventually(lambda: svc.whole_feed(a), lambda all_: all_[-1]["id"] == marker.id)
    assert [e["id"] for e in await svc.whole_feed(a)].count(envelope.id) == 1
    assert len(await svc.whole_feed(a)) == len(got) == 3


def availability(property_id: int, room_type: str, plans: list[str]) -> AvailabilityChanged:
    night = date(2030, 6, 1)
    return AvailabilityChanged(
        property_id=property_id,
        room_type_code=room_type,
        start=night,
        end=night + timedelta(days=2),
        currency="CNY",
        sequence=7,
        free=[3, 2],
        rate_plans=[
            AriRatePlan(code=plan, nights=[AriNight(night=night, amount=88000)]) for plan in plans
        ],
        computed_at=utcnow(),
    )


def mapping(
    partner_id: str, property_id: int, rooms: dict[str, str], plans: dict[str, str], version: int
) -> PartnerMappingChanged:
    return PartnerMappingChanged(
        mapping_key=f"{partner_id}:{property_id}",
        partner_id=partner_id,
        property_id=property_id,
        room_types=rooms,
        rate_plans=plans,
        aggregate_version=version,
    )


async def test_availability_reaches_only_mapped_partners_in_their_codes(
    partner_service: PartnerService,
) -> None:
    svc = partner_service
    mapped, elsewhere, other_room, unmapped = (new_partner_id() for _ in range(4))
    svc.deliver(mapping(mapped, 1, {"A-DBL": "DLX", "A-KNG": "DLX"}, {"A-BAR": "BAR"}, 1))
    svc.deliver(mapping(elsewhere, 2, {"B-DLX": "DLX"}, {"B-BAR": "BAR"}, 1))
    svc.deliver(mapping(other_room, 1, {"C-STD": "STD"}, {"C-BAR": "BAR"}, 1))
    # Unmapped (v2), then the old mapping arriving late (v1): it stays unmapped.
    svc.deliver(mapping(unmapped, 1, {}, {}, 2))
    svc.deliver(mapping(unmapped, 1, {"D-DLX": "DLX"}, {"D-BAR": "BAR"}, 1))
    change = svc.deliver(availability(1, "DLX", ["BAR", "NRF"]))

    [entry] = await svc.feed_reaches(mapped, 1)
    assert entry["id"] == change.id and entry["type"] == "availability.changed"
    assert entry["reservation_id"] is None
    payload = entry["payload"]
    assert (payload["room_type_code"], payload["hotel_room_type_code"]) == ("A-DBL", "DLX")
    assert payload["room_type_codes"] == ["A-DBL", "A-KNG"]
    assert [(p["code"], p["hotel_code"]) for p in payload["rate_plans"]] == [("A-BAR", "BAR")]
    assert payload["free"] == [3, 2]
    # Partners mapped elsewhere, to another room type or no longer: nothing (the last event
    # was handled by the time the mapped partner saw it: one consumer, in order).
    for partner in (elsewhere, other_room, unmapped):
        assert (await svc.feed(partner))["events"] == []


async def test_a_cursor_older_than_what_is_kept_is_410(partner_service: PartnerService) -> None:
    svc = partner_service
    a = new_partner_id()
    lifecycle(svc, booking_of(a))
    await svc.feed_reaches(a, 5)
    later = utcnow() + timedelta(days=31)
    purged = await feed.purge(svc.runtime.sessions, 30, batch=2, now=later)
    assert purged == 5
    newer = lifecycle(svc, booking_of(a))
    await eventually(lambda: svc.feed(a), lambda page: len(page["events"]) == 5)

    partner = partner_principal(a)
    gone = await svc.get_as(partner, "/api/v1/events", after="3")
    assert assert_problem(gone, 410, "cursor_expired")["oldest_cursor"] == "5"
    assert [e["id"] for e in await svc.whole_feed(a)] == newer  # from the oldest kept
    assert [e["id"] for e in await svc.whole_feed(a, after="5")] == newer


async def test_an_erased_guest_is_blanked_in_the_feed(partner_service: PartnerService) -> None:
    svc = partner_service
    a = new_partner_id()
    booking = booking_of(a)
    lifecycle(svc, booking)
    other = booking_of(a)
    lifecycle(svc, other)
    await svc.feed_reaches(a, 10)
    guest = booking.guest
    svc.deliver(
        guest_erased(
            booking.reservation_id,
            email=guest.email,
            phone=guest.phone or "",
            name=guest.name,
            version=5,
        )
    )

    def blanked(events: list[dict[str, Any]]) -> bool:
        mine = [e for e in events if e["reservation_id"] == booking.reservation_id]
        return all(e["payload"].get("guest", {}).get("email", "") == "" for e in mine)

    events = await eventually(lambda: svc.whole_feed(a), blanked)
    for entry in events:
        text = str(entry["payload"])
        if entry["reservation_id"] == booking.reservation_id:
            assert guest.email not in text and guest.name not in text
            assert entry["payload"].get("guest", {}).get("phone") is None
        elif "guest" in entry["payload"]:  # the other booking keeps its guest
            assert entry["payload"]["guest"]["email"] == other.guest.email


async def test_a_new_entry_wakes_the_webhook_sender_once_committed(
    partner_service: PartnerService,
) -> None:
    svc = partner_service
    woken: list[int] = []
    svc.runtime.extras["feed_wake"] = lambda: woken.append(1)  # as the sender sets it
    a = new_partner_id()
    booking = booking_of(a)
    svc.deliver(reservation_created(booking))
    svc.deliver(booking)
    await svc.feed_reaches(a, 2)
    await eventually(lambda: len(woken), lambda n: n >= 2)
    lifecycle(svc, booking_of(None))  # nobody's: no entry, no wake-up
    svc.deliver(reservation_cancelled(booking, aggregate_version=3))  # after them on the bus
    await svc.feed_reaches(a, 3)
    await eventually(lambda: len(woken), lambda n: n >= 3)
    assert len(woken) == 3


async def test_a_cursor_never_handed_out_is_refused(partner_service: PartnerService) -> None:
    """A cursor past the newest entry would skip the entries numbered up to it once they
    exist: refused, naming the newest, rather than read on from silently."""
    svc = partner_service
    a = new_partner_id()
    lifecycle(svc, booking_of(a))
    await svc.feed_reaches(a, 5)
    partner = partner_principal(a)
    ahead = await svc.get_as(partner, "/api/v1/events", after="6")
    assert assert_problem(ahead, 422, "cursor_unknown")["newest_cursor"] == "5"
    assert (await svc.get_as(partner, "/api/v1/events", after="5")).json()["events"] == []
    fresh = partner_principal(new_partner_id())  # no entry yet: only "0" was ever handed out
    assert (await svc.get_as(fresh, "/api/v1/events", after="0")).status_code == 200
    assert_problem(await svc.get_as(fresh, "/api/v1/events", after="1"), 422, "cursor_unknown")
