"""Confirm and cancel: state, held rooms and the events that announce them, once each."""


async def test_confirm_announces_the_booking_once_with_everything_consumers_need(hotel):
    created = await hotel.book(
        room_type="DLX",
        guests=3,
        transfer={
            "flight_number": "CA981",
            "arrival_time": "2030-05-01T06:05:00-04:00",
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
            "arrival_time": "2030-05-01T10:05:00Z",
            "pickup_place": "Hongqiao Railway Station",
            "passengers": 2,
            "luggage": 4,
        },
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
    first, second = await hotel.book(room_type="ONE"), await hotel.book(room_type="ONE")
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
