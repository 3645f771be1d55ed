"""Never oversell: confirmations racing for the last room, on SQLite and on PostgreSQL."""

import asyncio
from collections import Counter


async def test_only_one_of_several_racing_confirmations_gets_the_last_room(hotel_on_each_db):
    hotel = hotel_on_each_db
    await hotel.add_room_type("RACE", rooms=2)
    early = await hotel.book(room_type_code="RACE")
    assert (await hotel.confirm(early["id"])).status_code == 200
    assert await hotel.available("RACE") == 1

    racers = [await hotel.book(room_type_code="RACE") for _ in range(6)]
    answers = await asyncio.gather(*(hotel.confirm(r["id"]) for r in racers))

    assert sorted(a.status_code for a in answers) == [200] + [409] * 5
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"no_availability"}
    assert await hotel.available("RACE") == 0
    statuses = Counter(b["status"] for b in await hotel.reservations())
    assert statuses == {"confirmed": 2, "requested": 5}
    [winner] = [a.json()["id"] for a in answers if a.status_code == 200]
    confirmed = [e.payload["reservation_id"] for e in await hotel.published()]
    assert confirmed == [early["id"], winner]


async def test_racing_confirmations_of_one_booking_hold_one_room_and_announce_once(
    hotel_on_each_db,
):
    hotel = hotel_on_each_db
    await hotel.add_room_type("TWIN", rooms=3)
    created = await hotel.book(room_type_code="TWIN")

    answers = await asyncio.gather(*(hotel.confirm(created["id"]) for _ in range(4)))

    assert [a.status_code for a in answers] == [200] * 4
    assert {a.json()["status"] for a in answers} == {"confirmed"}
    assert await hotel.available("TWIN") == 2
    assert [e.type for e in await hotel.published()] == ["reservation.confirmed"]


async def test_racing_cancel_and_confirm_leave_the_inventory_consistent(hotel_on_each_db):
    hotel = hotel_on_each_db
    await hotel.add_room_type("DUO", rooms=1)
    created = await hotel.book(room_type_code="DUO")

    await asyncio.gather(hotel.confirm(created["id"]), hotel.cancel(created["id"]))

    assert (await hotel.reservation(created["id"]))["status"] == "cancelled"
    assert await hotel.available("DUO") == 1
