"""Issue 17, inventory: room type attributes, room numbers per property, housekeeping status,
out-of-order periods counted per night by availability and by holds (SQLite and PostgreSQL)."""

import asyncio
from datetime import date, timedelta
from typing import Any

from hotel_common.principal import Kind, Principal, Role
from hotel_common.settings import DEV_INTERNAL_SECRET
from hotel_common.testing import assert_problem, principal_headers

from .conftest import Hotel, hotel_today


def staff(*roles: Role, properties: frozenset[int] | None = None) -> dict[str, str]:
    principal = Principal(
        id=f"staff:{'-'.join(roles)}",
        kind=Kind.STAFF,
        roles=frozenset(roles),
        properties=properties,
    )
    return principal_headers(principal, DEV_INTERNAL_SECRET)


HOUSEKEEPING = staff(Role.HOUSEKEEPING)
MARKETING = staff(Role.MARKETING)
ELSEWHERE = staff(Role.FRONT_DESK, properties=frozenset({999}))


def days(hotel: Hotel, first: int, last: int) -> dict[str, str]:
    start = date.fromisoformat(hotel.stay[0])
    return {
        "check_in": (start + timedelta(days=first)).isoformat(),
        "check_out": (start + timedelta(days=last)).isoformat(),
    }


def period(hotel: Hotel, room_id: int, first: int, last: int, **extra: Any) -> dict[str, Any]:
    stay = days(hotel, first, last)
    return {
        "room_id": room_id,
        "from_date": stay["check_in"],
        "to_date": stay["check_out"],
        "reason": "Leaking pipe",
        **extra,
    }


async def rooms_of(hotel: Hotel, code: str) -> list[dict[str, Any]]:
    response = await hotel.client.get("/api/v1/rooms", params={"room_type_code": code})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def free_nights(hotel: Hotel, code: str, first: int, last: int) -> list[int]:
    return [await hotel.available(code, **days(hotel, n, n + 1)) for n in range(first, last)]


# -- room types and rooms ----------------------------------------------------------------------


async def test_a_room_type_has_smoking_accessibility_and_a_floor_range(hotel: Hotel) -> None:
    body = {
        "code": "ACC",
        "name": "Accessible King",
        "capacity": 2,
        "bed_type": "king",
        "base_amount": 40000,
        "smoking": False,
        "accessible": True,
        "min_floor": 2,
        "max_floor": 4,
    }
    created = await hotel.client.post("/api/v1/room-types", json=body)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("smoking", "accessible", "min_floor", "max_floor")} == {
        "smoking": False,
        "accessible": True,
        "min_floor": 2,
        "max_floor": 4,
    }
    listed = await hotel.client.get("/api/v1/room-types")
    [found] = [t for t in listed.json()["items"] if t["code"] == "ACC"]
    assert found["accessible"] is True and found["max_floor"] == 4

    # A room outside the type's floors is refused; inside, it is added.
    room = {"number": "ACC-501", "floor": 5, "room_type_code": "ACC"}
    assert_problem(
        await hotel.client.post("/api/v1/rooms", json=room), 422, "floor_outside_room_type"
    )
    room = {"number": "ACC-301", "floor": 3, "room_type_code": "ACC"}
    assert (await hotel.client.post("/api/v1/rooms", json=room)).status_code == 201

    # Defaults: not smoking, not accessible, any floor.
    plain = await hotel.client.post(
        "/api/v1/room-types",
        json={"code": "PLN", "name": "Plain", "capacity": 2, "bed_type": "twin", "base_amount": 1},
    )
    assert plain.status_code == 201, plain.text
    assert (plain.json()["smoking"], plain.json()["accessible"]) == (False, False)
    assert (plain.json()["min_floor"], plain.json()["max_floor"]) == (None, None)


async def test_a_floor_range_upside_down_is_refused(hotel: Hotel) -> None:
    body = {
        "code": "BAD",
        "name": "Bad",
        "capacity": 2,
        "bed_type": "king",
        "base_amount": 1,
        "min_floor": 9,
        "max_floor": 3,
    }
    assert_problem(
        await hotel.client.post("/api/v1/room-types", json=body), 422, "validation_error"
    )
    listed = await hotel.client.get("/api/v1/room-types")
    assert "BAD" not in {t["code"] for t in listed.json()["items"]}


async def test_room_numbers_are_unique_per_property_not_across_properties(hotel: Hotel) -> None:
    [existing] = (await rooms_of(hotel, "KNG"))[:1]
    other = await hotel.client.post(
        "/api/v1/properties",
        json={
            "name": "Second Hotel",
            "timezone": "Europe/Berlin",
            "currency": "EUR",
            "check_in_time": "15:00",
            "check_out_time": "11:00",
        },
    )
    assert other.status_code == 201, other.text
    second = other.json()["id"]
    room_type = {
        "code": "KNG",
        "name": "King",
        "capacity": 2,
        "bed_type": "king",
        "base_amount": 10000,
        "property_id": second,
    }
    assert (await hotel.client.post("/api/v1/room-types", json=room_type)).status_code == 201
    same_number = {
        "number": existing["number"],
        "floor": existing["floor"],
        "room_type_code": "KNG",
        "property_id": second,
    }
    created = await hotel.client.post("/api/v1/rooms", json=same_number)
    assert created.status_code == 201, created.text
    assert created.json()["property_id"] == second
    assert existing["property_id"] != second

    again = await hotel.client.post("/api/v1/rooms", json=same_number)
    assert_problem(again, 409, "room_number_taken")
    at_first = {**same_number, "property_id": existing["property_id"]}
    assert_problem(
        await hotel.client.post("/api/v1/rooms", json=at_first), 409, "room_number_taken"
    )


# -- housekeeping ------------------------------------------------------------------------------


async def test_housekeeping_sets_a_rooms_status_and_out_of_order_takes_it_out(
    hotel: Hotel,
) -> None:
    await hotel.add_room_type("HK", rooms=2)
    room = (await rooms_of(hotel, "HK"))[0]
    url = f"/api/v1/rooms/{room['id']}"

    dirty = await hotel.client.patch(
        url, json={"housekeeping_status": "dirty"}, headers=HOUSEKEEPING
    )
    assert dirty.status_code == 200, dirty.text
    assert dirty.json()["housekeeping_status"] == "dirty"
    again = await hotel.client.patch(
        url, json={"housekeeping_status": "dirty"}, headers=HOUSEKEEPING
    )
    assert again.status_code == 200 and again.json() == dirty.json()
    listed = await hotel.client.get("/api/v1/rooms", params={"status": "dirty"})
    assert room["id"] in {r["id"] for r in listed.json()["items"]}

    assert await hotel.available("HK") == 2
    broken = await hotel.client.patch(url, json={"housekeeping_status": "out_of_order"})
    assert broken.status_code == 200
    assert await hotel.available("HK") == 1
    fixed = await hotel.client.patch(url, json={"housekeeping_status": "inspected"})
    assert fixed.json()["housekeeping_status"] == "inspected"
    assert await hotel.available("HK") == 2


async def test_a_room_patch_is_for_housekeeping_and_desk_at_their_properties(
    hotel: Hotel,
) -> None:
    room = (await rooms_of(hotel, "KNG"))[0]
    url = f"/api/v1/rooms/{room['id']}"
    body = {"housekeeping_status": "dirty"}
    assert_problem(await hotel.client.patch(url, json=body, headers=MARKETING), 403, "forbidden")
    assert_problem(
        await hotel.client.patch(url, json=body, headers=ELSEWHERE), 404, "room_not_found"
    )
    assert_problem(
        await hotel.client.patch("/api/v1/rooms/999999", json=body), 404, "room_not_found"
    )
    for bad in ({"housekeeping_status": "sparkling"}, {"number": "X1"}, {}):
        assert_problem(await hotel.client.patch(url, json=bad), 422, "validation_error")
    assert (await rooms_of(hotel, "KNG"))[0]["housekeeping_status"] == room["housekeeping_status"]


# -- out-of-order periods ----------------------------------------------------------------------


async def test_a_period_takes_a_room_out_on_its_nights_only(hotel_on_each_db: Hotel) -> None:
    hotel = hotel_on_each_db
    await hotel.add_room_type("OOO", rooms=2)
    room = (await rooms_of(hotel, "OOO"))[0]

    created = await hotel.client.post(
        "/api/v1/out-of-order-periods", json=period(hotel, room["id"], 1, 2), headers=HOUSEKEEPING
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["room_number"], body["room_type_code"]) == (room["number"], "OOO")
    assert body["created_by"] == "staff:housekeeping" and body["held_beyond_rooms"] == []
    assert await free_nights(hotel, "OOO", 0, 3) == [2, 1, 2]
    assert await hotel.available("OOO", **days(hotel, 0, 3)) == 1

    # The night with one room in service sells once: the second stay over it is refused.
    first = await hotel.book(room_type_code="OOO", **days(hotel, 0, 3))
    assert (await hotel.confirm(first["id"])).status_code == 200
    second = await hotel.book(room_type_code="OOO", **days(hotel, 0, 3))
    assert_problem(await hotel.confirm(second["id"]), 409, "no_availability")
    assert await free_nights(hotel, "OOO", 0, 3) == [1, 0, 1]
    # Stays around the night still sell.
    around = await hotel.book(room_type_code="OOO", **days(hotel, 2, 3))
    assert (await hotel.confirm(around["id"])).status_code == 200

    # Ended before it began: the room sells that night again.
    ended = await hotel.client.post(f"/api/v1/out-of-order-periods/{body['id']}/end")
    assert ended.status_code == 200, ended.text
    assert ended.json()["to_date"] == ended.json()["from_date"]
    assert ended.json()["ended_by"] and ended.json()["ended_at"]
    assert (await hotel.client.post(f"/api/v1/out-of-order-periods/{body['id']}/end")).json() == (
        ended.json()
    )
    assert await free_nights(hotel, "OOO", 0, 3) == [1, 1, 0]
    late = await hotel.book(room_type_code="OOO", **days(hotel, 0, 2))
    assert (await hotel.confirm(late["id"])).status_code == 200


async def test_a_period_over_sold_nights_names_the_nights_to_move(hotel_on_each_db: Hotel) -> None:
    hotel = hotel_on_each_db
    await hotel.add_room_type("FULL", rooms=1)
    booking = await hotel.book(room_type_code="FULL", **days(hotel, 0, 2))
    assert (await hotel.confirm(booking["id"])).status_code == 200
    room = (await rooms_of(hotel, "FULL"))[0]

    created = await hotel.client.post(
        "/api/v1/out-of-order-periods", json=period(hotel, room["id"], 1, 4)
    )
    assert created.status_code == 201, created.text
    assert created.json()["held_beyond_rooms"] == [days(hotel, 1, 2)["check_in"]]
    assert await free_nights(hotel, "FULL", 0, 4) == [0, 0, 0, 0]
    # Cancelling the booking gives back its nights, but the room is still out on 1-3.
    assert (await hotel.cancel(booking["id"])).status_code == 200
    assert await free_nights(hotel, "FULL", 0, 4) == [1, 0, 0, 0]


async def test_periods_of_one_room_do_not_overlap_and_bad_ones_are_refused(hotel: Hotel) -> None:
    await hotel.add_room_type("OVL", rooms=1)
    room_id = (await rooms_of(hotel, "OVL"))[0]["id"]
    url = "/api/v1/out-of-order-periods"
    assert (await hotel.client.post(url, json=period(hotel, room_id, 2, 5))).status_code == 201
    assert_problem(
        await hotel.client.post(url, json=period(hotel, room_id, 4, 6)),
        409,
        "out_of_order_overlaps",
    )
    assert (await hotel.client.post(url, json=period(hotel, room_id, 5, 6))).status_code == 201

    today = hotel_today()
    past = {
        "room_id": room_id,
        "from_date": (today - timedelta(days=1)).isoformat(),
        "to_date": today.isoformat(),
        "reason": "x",
    }
    assert_problem(await hotel.client.post(url, json=past), 422, "from_date_in_past")
    backwards = period(hotel, room_id, 8, 8)
    assert_problem(await hotel.client.post(url, json=backwards), 422, "to_date_not_after_from_date")
    too_long = {
        **period(hotel, room_id, 10, 11),
        "to_date": (today + timedelta(days=900)).isoformat(),
    }
    assert_problem(await hotel.client.post(url, json=too_long), 422, "period_too_long")
    assert_problem(
        await hotel.client.post(url, json=period(hotel, 999999, 1, 2)), 404, "room_not_found"
    )
    assert_problem(
        await hotel.client.post(url, json=period(hotel, room_id, 1, 2, extra="x")),
        422,
        "validation_error",
    )
    assert_problem(
        await hotel.client.post(url, json=period(hotel, room_id, 1, 2), headers=ELSEWHERE),
        404,
        "room_not_found",
    )
    assert_problem(
        await hotel.client.post(url, json=period(hotel, room_id, 1, 2), headers=MARKETING),
        403,
        "forbidden",
    )
    assert_problem(await hotel.client.post(f"{url}/999999/end"), 404, "out_of_order_not_found")

    listed = await hotel.client.get(url, params={"room_id": room_id})
    assert [(p["from_date"], p["to_date"]) for p in listed.json()["items"]] == [
        (period(hotel, room_id, 2, 5)["from_date"], period(hotel, room_id, 2, 5)["to_date"]),
        (period(hotel, room_id, 5, 6)["from_date"], period(hotel, room_id, 5, 6)["to_date"]),
    ]
    window = days(hotel, 5, 9)
    covering = await hotel.client.get(
        url, params={"from": window["check_in"], "to": window["check_out"]}
    )
    assert [p["from_date"] for p in covering.json()["items"]] == [window["check_in"]]
    assert (await hotel.client.get(url, headers=ELSEWHERE)).json()["items"] == []


async def test_racing_confirmations_over_an_out_of_order_night_sell_its_rooms_once(
    hotel_on_each_db: Hotel,
) -> None:
    hotel = hotel_on_each_db
    await hotel.add_room_type("RACEO", rooms=3)
    room_id = (await rooms_of(hotel, "RACEO"))[0]["id"]
    created = await hotel.client.post(
        "/api/v1/out-of-order-periods", json=period(hotel, room_id, 1, 2)
    )
    assert created.status_code == 201
    racers = [await hotel.book(room_type_code="RACEO", **days(hotel, 0, 3)) for _ in range(6)]
    answers = await asyncio.gather(*(hotel.confirm(r["id"]) for r in racers))
    assert sorted(a.status_code for a in answers) == [200] * 2 + [409] * 4
    assert await free_nights(hotel, "RACEO", 0, 3) == [1, 0, 1]
