"""Availability: rooms free on every night of a stay, derived from rooms and held nights."""

from datetime import date, timedelta

import pytest

PROBLEM = "application/problem+json"


async def test_lists_every_room_type_with_the_price_of_the_stay(hotel):
    response = await hotel.client.get(
        "/api/v1/availability", params={"check_in": hotel.stay[0], "check_out": hotel.stay[1]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["nights"] == 3
    assert [
        (t["room_type_code"], t["available"], t["nightly_amount"], t["total_amount"], t["currency"])
        for t in body["room_types"]
    ] == [
        ("STD", 8, 48800, 3 * 48800, "CNY"),
        ("KNG", 7, 52800, 3 * 52800, "CNY"),
        ("BUS", 6, 68800, 3 * 68800, "CNY"),
        ("DLX", 6, 88800, 3 * 88800, "CNY"),
        ("STE", 3, 168800, 3 * 168800, "CNY"),
    ]


async def test_guests_keeps_room_types_that_sleep_them(hotel):
    response = await hotel.client.get(
        "/api/v1/availability",
        params={"check_in": hotel.stay[0], "check_out": hotel.stay[1], "guests": 3},
    )
    assert [t["room_type_code"] for t in response.json()["room_types"]] == ["DLX", "STE"]


async def test_shrinks_on_confirm_and_grows_back_on_cancel(hotel):
    first, second = (
        await hotel.book(room_type_code="STE", guests=4),
        await hotel.book(room_type_code="STE"),
    )
    assert await hotel.available("STE") == 3  # requested bookings hold nothing

    assert (await hotel.confirm(first["id"])).status_code == 200
    assert (await hotel.confirm(second["id"])).status_code == 200
    assert await hotel.available("STE") == 1
    assert await hotel.available("KNG") == 7  # other room types untouched

    assert (await hotel.cancel(first["id"])).status_code == 200
    assert await hotel.available("STE") == 2


async def test_a_stay_is_free_only_if_every_night_is(hotel):
    start = date.fromisoformat(hotel.stay[0])
    await hotel.add_room_type("ONE", rooms=1)
    middle = await hotel.book(
        room_type_code="ONE",
        check_in=(start + timedelta(days=1)).isoformat(),
        check_out=(start + timedelta(days=2)).isoformat(),
    )
    assert (await hotel.confirm(middle["id"])).status_code == 200

    assert await hotel.available("ONE") == 0  # the three-night stay crosses the held night
    assert await hotel.available("ONE", hotel.stay[0], middle["check_in"]) == 1
    assert await hotel.available("ONE", middle["check_out"], hotel.stay[1]) == 1


async def test_rooms_out_of_order_are_not_for_sale(hotel):
    await hotel.add_room_type("OOO", rooms=2)
    broken = await hotel.client.post(
        "/api/v1/rooms",
        json={
            "number": "OOO-9",
            "floor": 2,
            "room_type_code": "OOO",
            "housekeeping_status": "out_of_order",
        },
    )
    assert broken.status_code == 201
    assert await hotel.available("OOO") == 2


@pytest.mark.parametrize(
    ("shift_in", "shift_out", "code", "field"),
    [
        (10, 10, "check_out_not_after_check_in", "query.check_out"),
        (10, 9, "check_out_not_after_check_in", "query.check_out"),
        (10, 41, "stay_too_long", "query.check_out"),
        (-1, 2, "check_in_in_past", "query.check_in"),
    ],
)
async def test_invalid_stays_are_422_problems(hotel, shift_in, shift_out, code, field):
    today = date.fromisoformat(hotel.stay[0]) - timedelta(days=10)
    response = await hotel.client.get(
        "/api/v1/availability",
        params={
            "check_in": (today + timedelta(days=shift_in)).isoformat(),
            "check_out": (today + timedelta(days=shift_out)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["field"] == field


async def test_thirty_nights_is_the_longest_stay(hotel):
    start = date.fromisoformat(hotel.stay[0])
    response = await hotel.client.get(
        "/api/v1/availability",
        params={"check_in": start.isoformat(), "check_out": (start + timedelta(30)).isoformat()},
    )
    assert response.status_code == 200 and response.json()["nights"] == 30


async def test_missing_or_malformed_dates_are_validation_problems(hotel):
    missing = await hotel.client.get("/api/v1/availability", params={"check_in": hotel.stay[0]})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["query.check_out"]
    malformed = await hotel.client.get(
        "/api/v1/availability", params={"check_in": "tomorrow", "check_out": hotel.stay[1]}
    )
    assert malformed.status_code == 422
    assert [e["field"] for e in malformed.json()["errors"]] == ["query.check_in"]
