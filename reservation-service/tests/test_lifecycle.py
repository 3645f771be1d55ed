"""Confirm and cancel: state, held rooms and the events that announce them, once each."""

from datetime import date, timedelta

import pytest
from hotel_common import db
from hotel_common.errors import ProblemError
from hotel_common.events.outbox import SOURCE_INFO
from reservation_service import bookings, lifecycle
from reservation_service.access import EVERY_BOOKING


async def test_confirm_announces_the_booking_once_with_everything_consumers_need(hotel):
    created = await hotel.book(
        room_type_code="DLX",
        guests=3,
        transfer={
            "flight_number": "CA981",
            "arrival_time": f"{hotel.stay[0]}T06:05:00-04:00",
            "pickup_place": "Hongqiao Railway Station",
            "passengers": 2,
            "luggage": 4,
        },
    )
    confirmed = await hotel.confirm(created["id"])
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["confirmed_at"] is not None

    again = await hotel.confirm(created["id"])
    assert again.status_code == 200 and again.json() == confirmed.json()
    assert await hotel.available("DLX") == 5  # held once, not twice

    [event] = await hotel.published()
    assert (event.type, event.source) == ("reservation.confirmed", "reservation-service")
    assert event.payload == {
        "reservation_id": created["id"],
        "confirmation_number": created["confirmation_number"],
        "property_name": "Harbour View Hotel",
        "property_timezone": "Asia/Shanghai",
        "room_type_code": "DLX",
        "room_type_name": "Deluxe Room",
        "check_in": hotel.stay[0],
        "check_out": hotel.stay[1],
        "guests": 3,
        "total_amount": 3 * 88800,
        "currency": "CNY",
        "guest": {
            "name": "Li Wei",
            "email": "li.wei@example.com",
            "phone": "+8613800138000",
            "language": "zh-Hans",
        },
        "transfer": {
            "flight_number": "CA981",
            "arrival_time": f"{hotel.stay[0]}T10:05:00Z",
            "pickup_place": "Hongqiao Railway Station",
            "passengers": 2,
            "luggage": 4,
        },
        # Issue 20: the property's clock (no guarantee owed: the plan asks none).
        "check_in_time": "14:00",
        "check_out_time": "12:00",
    }


async def test_cancel_releases_the_rooms_and_announces_it_once(hotel):
    created = await hotel.book()
    await hotel.confirm(created["id"])
    assert await hotel.available("KNG") == 6

    cancelled = await hotel.cancel(created["id"], reason="Flight cancelled")
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "Flight cancelled")
    assert body["cancelled_at"] is not None
    assert await hotel.available("KNG") == 7

    again = await hotel.cancel(created["id"], reason="Changed my mind")
    assert again.status_code == 200 and again.json() == body
    assert await hotel.available("KNG") == 7  # released once, not twice

    events = await hotel.published()
    assert [e.type for e in events] == ["reservation.confirmed", "reservation.cancelled"]
    assert events[1].payload == {
        "reservation_id": created["id"],
        "confirmation_number": created["confirmation_number"],
        "property_name": "Harbour View Hotel",
        "check_in": hotel.stay[0],
        "check_out": hotel.stay[1],
        "reason": "Flight cancelled",
        "was_confirmed": True,
        "reason_code": None,
        "cancellation_fee_amount": 0,
        "refund_amount": 0,
        "currency": "CNY",
        "guest": {
            "name": "Li Wei",
            "email": "li.wei@example.com",
            "phone": "+8613800138000",
            "language": "zh-Hans",
        },
    }


async def test_cancelling_a_request_holds_nothing_back_and_says_it_was_not_confirmed(hotel):
    created = await hotel.book()
    cancelled = await hotel.cancel(created["id"])
    assert cancelled.status_code == 200 and cancelled.json()["cancel_reason"] is None
    assert await hotel.available("KNG") == 7

    [event] = await hotel.published()
    assert event.type == "reservation.cancelled"
    assert event.payload["was_confirmed"] is False


async def test_a_cancelled_booking_cannot_be_confirmed(hotel):
    created = await hotel.book()
    await hotel.cancel(created["id"])
    response = await hotel.confirm(created["id"])
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "reservation_cancelled"
    assert (await hotel.reservation(created["id"]))["status"] == "cancelled"
    assert await hotel.available("KNG") == 7
    assert [e.type for e in await hotel.published()] == ["reservation.cancelled"]


async def test_no_room_left_is_409_and_the_booking_stays_requested(hotel):
    await hotel.add_room_type("ONE", rooms=1)
    first, second = await hotel.book(room_type_code="ONE"), await hotel.book(room_type_code="ONE")
    assert (await hotel.confirm(first["id"])).status_code == 200

    refused = await hotel.confirm(second["id"])
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "no_availability"
    assert (await hotel.reservation(second["id"]))["status"] == "requested"
    assert [e.payload["reservation_id"] for e in await hotel.published()] == [first["id"]]

    # Once the room is free again the waiting request can be confirmed.
    await hotel.cancel(first["id"])
    assert (await hotel.confirm(second["id"])).status_code == 200


async def test_events_name_the_reservation_and_its_version_after_each_change(
    hotel_on_each_db,
):
    """Consumers may get a booking's events in any order: the version says which is newer."""
    hotel = hotel_on_each_db
    confirmed_then_cancelled = await hotel.book()
    await hotel.confirm(confirmed_then_cancelled["id"])
    await hotel.cancel(confirmed_then_cancelled["id"])
    await hotel.cancel(confirmed_then_cancelled["id"])  # no change: no event, no new version
    cancelled_request = await hotel.book()
    await hotel.cancel(cancelled_request["id"])

    events = await hotel.published()
    assert [(e.type, e.aggregate_type, e.aggregate_id, e.aggregate_version) for e in events] == [
        ("reservation.confirmed", "reservation", confirmed_then_cancelled["id"], 2),
        ("reservation.cancelled", "reservation", confirmed_then_cancelled["id"], 3),
        ("reservation.cancelled", "reservation", cancelled_request["id"], 2),
    ]
    assert "aggregate_version" not in events[0].payload  # in the envelope, not the payload


@pytest.fixture
async def sessions(hotel, sqlite_url):
    """Sessions of one's own on the service's database, to run a domain step as a consumer."""
    engine = db.create_engine(sqlite_url)
    yield db.create_session_factory(engine, **{SOURCE_INFO: "reservation-service"})
    await engine.dispose()


async def test_confirm_leaves_the_transaction_to_its_caller(hotel, sessions):
    """Run as a consumer would: nothing is kept unless the caller commits."""
    created, free = await hotel.book(), await hotel.available("KNG")
    async with sessions() as session:
        booking = await lifecycle.confirm(session, created["id"], EVERY_BOOKING)
        assert booking.reservation.status == "confirmed"
        await session.rollback()
    assert (await hotel.reservation(created["id"]))["status"] == "requested"
    assert await hotel.available("KNG") == free
    assert await hotel.published() == []

    async with sessions() as session:
        await lifecycle.confirm(session, created["id"], EVERY_BOOKING)
        await session.commit()
    assert (await hotel.reservation(created["id"]))["status"] == "confirmed"
    assert await hotel.available("KNG") == free - 1
    assert [e.type for e in await hotel.published()] == ["reservation.confirmed"]


async def test_a_confirmation_refused_for_a_full_night_holds_no_other_night(hotel, sessions):
    """The caller may commit after the 409 (a handler going on): no night stays held."""
    await hotel.add_room_type("ONE", rooms=1)
    last_night = (date.fromisoformat(hotel.stay[1]) - timedelta(days=1)).isoformat()
    late = await hotel.book(room_type_code="ONE", check_in=last_night)
    assert (await hotel.confirm(late["id"])).status_code == 200
    whole = await hotel.book(room_type_code="ONE")

    async with sessions() as session:
        with pytest.raises(ProblemError) as refused:
            await lifecycle.confirm(session, whole["id"], EVERY_BOOKING)
        assert refused.value.code == "no_availability"
        await session.commit()
    assert await hotel.available("ONE", check_out=last_night) == 1
    assert (await hotel.reservation(whole["id"]))["status"] == "requested"


async def test_a_taken_confirmation_number_is_drawn_again(hotel, monkeypatch):
    first = await hotel.book()
    numbers = iter([first["confirmation_number"], "HVNEWNUM22"])
    monkeypatch.setattr(bookings, "new_confirmation_number", lambda: next(numbers))
    second = await hotel.book()
    assert second["confirmation_number"] == "HVNEWNUM22"
    assert len(await hotel.reservations()) == 2
