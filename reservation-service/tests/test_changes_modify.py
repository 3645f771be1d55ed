"""Modifying a booking (PATCH): re-checked, re-priced, holds moved in one step or not at all,
recorded and announced with what changed; a PATCH that changes nothing changes nothing."""

from datetime import date, timedelta

import pytest
from hotel_common.errors import ProblemError
from hotel_common.testing import assert_problem
from reservation_service import changes
from reservation_service.access import EVERY_BOOKING, system
from reservation_service.changes import ReservationUpdate
from reservation_service.config import Settings
from reservation_service.models import Room

from . import changes_support
from .changes_support import Desk
from .test_access import PARTNER_B, who

desk = changes_support.desk  # the fixture, for this module's tests


async def test_new_dates_move_the_holds_reprice_and_announce_what_changed(desk: Desk) -> None:
    hotel = desk.hotel
    booking = await desk.booked(**desk.days(0, 3))
    before = await hotel.available("KNG", **_q(desk.days(3, 5)))

    answer = await desk.patch(booking["id"], desk.days(1, 5))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["check_in"], body["check_out"], body["nights"]) == (
        desk.days(1, 5)["check_in"],
        desk.days(1, 5)["check_out"],
        4,
    )
    assert body["status"] == "confirmed"
    assert body["nightly_amounts"] == [booking["nightly_amount"]] * 4
    assert body["total_amount"] == 4 * booking["nightly_amount"]
    # Night 0 released, nights 3-4 taken: the rooms follow the stay.
    assert await hotel.available("KNG", **_q(desk.days(0, 1))) == 7
    assert await hotel.available("KNG", **_q(desk.days(3, 5))) == before - 1
    await desk.assert_inventory_consistent()

    [line] = [h for h in await desk.history(booking["id"]) if h["action"] == "modified"]
    assert line["version"] == 3  # requested (1), confirmed (2), modified (3)
    assert line["changes"]["check_in"] == {
        "from": booking["check_in"],
        "to": body["check_in"],
    }
    assert line["changes"]["total_amount"] == {
        "from": booking["total_amount"],
        "to": body["total_amount"],
    }
    [event] = await desk.events("reservation.modified")
    assert event.aggregate_version == line["version"]
    assert event.payload["changes"] == line["changes"]
    assert event.payload["check_out"] == body["check_out"]
    assert event.payload["status"] == "confirmed"
    # Issue 20: the property's clock times, for the guest's calendar entry.
    assert (event.payload["check_in_time"], event.payload["check_out_time"]) == ("14:00", "12:00")


def _q(days: dict[str, str]) -> dict[str, str]:
    return {"check_in": days["check_in"], "check_out": days["check_out"]}


async def test_a_patch_that_changes_nothing_answers_the_booking_and_announces_nothing(
    desk: Desk,
) -> None:
    booking = await desk.booked()
    same = {
        "check_in": booking["check_in"],
        "check_out": booking["check_out"],
        "room_type_code": "kng",
        "guests": booking["guests"],
    }
    for body in ({}, same):
        answer = await desk.patch(booking["id"], body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == booking
    assert await desk.events("reservation.modified") == []
    assert [h["action"] for h in await desk.history(booking["id"])] == ["created", "confirmed"]


async def test_a_full_new_stay_is_409_and_changes_nothing(desk: Desk) -> None:
    hotel = desk.hotel
    await hotel.add_room_type("ONE", rooms=1)
    other = await desk.booked(room_type_code="ONE", **desk.days(3, 4))
    booking = await desk.booked(room_type_code="ONE", **desk.days(0, 3))

    refused = await desk.patch(booking["id"], {"check_out": desk.days(0, 4)["check_out"]})
    assert_problem(refused, 409, "no_availability")
    assert await hotel.reservation(booking["id"]) == booking
    assert await hotel.available("ONE", **_q(desk.days(0, 3))) == 0
    await desk.assert_inventory_consistent()

    # Another room type that is full refuses too, and the old nights stay held.
    await hotel.add_room_type("TWO", rooms=1)
    await desk.booked(room_type_code="TWO", **desk.days(1, 2))
    refused = await desk.patch(booking["id"], {"room_type_code": "TWO"})
    assert_problem(refused, 409, "no_availability")
    assert await hotel.reservation(booking["id"]) == booking
    await desk.assert_inventory_consistent()
    assert await desk.events("reservation.modified") == []
    assert other["status"] == "confirmed"


async def test_a_stay_moves_onto_its_own_nights_in_a_one_room_type(desk: Desk) -> None:
    """The old nights are released before the new ones are held, in one step."""
    await desk.hotel.add_room_type("ONE", rooms=1)
    booking = await desk.booked(room_type_code="ONE", **desk.days(0, 3))
    answer = await desk.patch(booking["id"], desk.days(1, 4))
    assert answer.status_code == 200, answer.text
    await desk.assert_inventory_consistent()


async def test_a_new_room_type_moves_the_room_and_reprices(desk: Desk) -> None:
    hotel = desk.hotel
    booking = await desk.booked()
    kng, dlx = await hotel.available("KNG"), await hotel.available("DLX")
    answer = await desk.patch(booking["id"], {"room_type_code": "DLX", "guests": 3})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["room_type_code"], body["guests"]) == ("DLX", 3)
    assert body["total_amount"] == 3 * body["nightly_amount"] != booking["total_amount"]
    assert (await hotel.available("KNG"), await hotel.available("DLX")) == (kng + 1, dlx - 1)
    [event] = await desk.events("reservation.modified")
    assert event.payload["changes"]["room_type_code"] == {"from": "KNG", "to": "DLX"}
    assert event.payload["changes"]["guests"] == {"from": 2, "to": 3}


async def test_a_request_is_repriced_and_holds_nothing(desk: Desk) -> None:
    hotel = desk.hotel
    created = await hotel.book()
    answer = await desk.patch(created["id"], desk.days(0, 5))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "requested"
    assert answer.json()["total_amount"] == 5 * created["nightly_amount"]
    assert await hotel.available("KNG", **_q(desk.days(0, 5))) == 7
    [event] = await desk.events("reservation.modified")
    assert event.payload["status"] == "requested"


async def test_bad_changes_are_4xx_and_change_nothing(desk: Desk) -> None:
    hotel = desk.hotel
    booking = await desk.booked()
    past = (date.fromisoformat(hotel.stay[0]) - timedelta(days=12)).isoformat()
    cases = [
        ({"check_out": booking["check_in"]}, 422, "check_out_not_after_check_in"),
        ({"check_in": past}, 422, "check_in_in_past"),
        ({"guests": 3}, 422, "too_many_guests"),
        ({"room_type_code": "STD", "guests": 2, "check_out": past}, 422, None),
        ({"room_type_code": "NOPE"}, 422, "unknown_room_type"),
        ({"status": "checked_in"}, 422, None),
        ({"guests": 0}, 422, None),
    ]
    for body, status, code in cases:
        answer = await desk.patch(booking["id"], body)
        assert answer.status_code == status, (body, answer.text)
        if code:
            assert answer.json()["code"] == code, body
    assert await hotel.reservation(booking["id"]) == booking
    await desk.assert_inventory_consistent()

    cancelled = await hotel.book()
    await hotel.cancel(cancelled["id"])
    assert_problem(await desk.patch(cancelled["id"], {"guests": 1}), 409, "not_modifiable")
    missing = await desk.patch("no-such-booking", {"guests": 1})
    assert missing.status_code == 404
    assert await desk.events("reservation.modified") == []


async def test_another_partners_booking_is_404(desk: Desk) -> None:
    booking = await desk.booked()
    answer = await desk.hotel.client.patch(
        f"/api/v1/reservations/{booking['id']}", json={"guests": 1}, headers=who(PARTNER_B)
    )
    assert_problem(answer, 404, "reservation_not_found")


async def test_the_pickup_follows_the_stay_or_is_refused(desk: Desk) -> None:
    hotel = desk.hotel
    arrival = f"{hotel.stay[0]}T06:05:00+08:00"
    transfer = {"arrival_time": arrival, "pickup_place": "Pudong T2", "flight_number": "MU5101"}
    created = await hotel.book(transfer=transfer)
    booking = (await hotel.confirm(created["id"])).json()

    # Moving the dates away from a kept pickup: its arrival no longer fits the stay.
    moved = await desk.patch(booking["id"], desk.days(3, 5))
    assert_problem(moved, 422, "arrival_outside_stay")
    # Fewer guests than the pickup carries.
    fewer = await desk.patch(booking["id"], {"guests": 1})
    assert_problem(fewer, 422, "too_many_passengers")

    later = f"{desk.days(3, 5)['check_in']}T09:00:00+08:00"
    answer = await desk.patch(
        booking["id"], {**desk.days(3, 5), "transfer": {**transfer, "arrival_time": later}}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["transfer"]["arrival_time"].startswith(desk.days(3, 5)["check_in"])

    removed = await desk.patch(booking["id"], {"transfer": None})
    assert removed.status_code == 200 and removed.json()["transfer"] is None
    events = await desk.events("reservation.modified")
    assert [e.aggregate_version for e in events] == [3, 4]
    assert events[1].payload["changes"]["transfer"]["to"] is None
    assert events[1].payload["transfer"] is None


async def test_a_refused_move_keeps_the_old_holds_even_if_the_caller_commits(desk: Desk) -> None:
    """Run as a consumer would (the caller owns the transaction): after the 409 the released
    nights are taken back, so committing anyway changes nothing."""
    await desk.hotel.add_room_type("ONE", rooms=1)
    await desk.booked(room_type_code="ONE", **desk.days(3, 4))
    booking = await desk.booked(room_type_code="ONE", **desk.days(0, 3))
    update = ReservationUpdate(check_out=date.fromisoformat(desk.days(0, 4)["check_out"]))
    async with desk.sessions() as session:
        with pytest.raises(ProblemError) as refused:
            await changes.modify(
                session, booking["id"], update, EVERY_BOOKING, system("test"), Settings()
            )
        assert refused.value.code == "no_availability"
        await session.commit()
    assert await desk.hotel.reservation(booking["id"]) == booking
    await desk.assert_inventory_consistent()


async def test_fewer_guests_in_a_full_room_type_is_no_move(desk: Desk) -> None:
    """Only new dates or a new room type move the holds: a room type left over-held (a room
    taken out of order under holds) does not refuse a change of guests."""
    await desk.hotel.add_room_type("ONE", rooms=1)
    booking = await desk.booked(room_type_code="ONE")
    rooms = (await desk.hotel.client.get("/api/v1/rooms", params={"limit": 200})).json()["items"]
    [room] = [r for r in rooms if r["room_type_code"] == "ONE"]
    async with desk.sessions() as session:
        found = await session.get(Room, room["id"])
        assert found is not None
        found.housekeeping_status = "out_of_order"
        await session.commit()
    answer = await desk.patch(booking["id"], {"guests": 1})
    assert answer.status_code == 200, answer.text
    assert answer.json()["guests"] == 1
