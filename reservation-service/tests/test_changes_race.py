"""Modifications racing cancellations and each other: the inventory always equals the confirmed
stays, on SQLite and on PostgreSQL (row lock per booking, one lock order for night rows)."""

import asyncio
from typing import Any

from . import changes_support
from .changes_support import Desk

desk_on_each_db = changes_support.desk_on_each_db  # the fixture, for this module's tests


async def test_a_modification_racing_a_cancel_of_the_same_booking(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    await hotel.add_room_type("DUO", rooms=2)
    bookings = [await desk.booked(room_type_code="DUO", **desk.days(0, 2)) for _ in range(2)]

    answers = await asyncio.gather(
        *(desk.patch(b["id"], desk.days(1, 4)) for b in bookings),
        *(hotel.cancel(b["id"]) for b in bookings),
    )

    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    for b in bookings:
        assert (await hotel.reservation(b["id"]))["status"] == "cancelled"
    await desk.assert_inventory_consistent()
    assert await hotel.available("DUO", **_q(desk.days(0, 4))) == 2
    # The history is complete and in order, whatever ran first.
    for b in bookings:
        versions = [h["version"] for h in await desk.history(b["id"])]
        assert versions == list(range(1, len(versions) + 1))


async def test_modifications_racing_on_the_same_booking(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    await desk.hotel.add_room_type("TRIO", rooms=3)
    booking = await desk.booked(room_type_code="TRIO", **desk.days(0, 2))
    stays = [desk.days(i, i + 2) for i in range(1, 5)]

    answers = await asyncio.gather(*(desk.patch(booking["id"], s) for s in stays))

    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    now = await desk.hotel.reservation(booking["id"])
    assert {"check_in": now["check_in"], "check_out": now["check_out"]} in stays
    await desk.assert_inventory_consistent()
    events = await desk.events("reservation.modified")
    assert sorted(e.aggregate_version for e in events) == list(range(3, 3 + len(events)))
    assert events[-1].payload["check_in"] == now["check_in"]


async def test_modifications_crossing_room_types_never_oversell_nor_deadlock(
    desk_on_each_db: Desk,
) -> None:
    """Bookings swap between two small room types at once, against confirms and cancels of
    others: no 5xx (no deadlock), never more held than rooms, and the counts add up."""
    desk = desk_on_each_db
    hotel = desk.hotel
    await hotel.add_room_type("AAA", rooms=2)
    await hotel.add_room_type("BBB", rooms=2)
    in_a = [await desk.booked(room_type_code="AAA", **desk.days(i, i + 3)) for i in range(2)]
    in_b = [await desk.booked(room_type_code="BBB", **desk.days(i, i + 3)) for i in range(2)]
    waiting = [await hotel.book(room_type_code=c, **desk.days(1, 3)) for c in ("AAA", "BBB")]

    calls: list[Any] = [
        *(desk.patch(b["id"], {"room_type_code": "BBB", **desk.days(1, 4)}) for b in in_a),
        *(desk.patch(b["id"], {"room_type_code": "AAA", **desk.days(0, 3)}) for b in in_b),
        *(hotel.confirm(w["id"]) for w in waiting),
        hotel.cancel(in_a[0]["id"]),
    ]
    answers = await asyncio.gather(*calls)

    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    await desk.assert_inventory_consistent()


def _q(days: dict[str, str]) -> dict[str, str]:
    return {"check_in": days["check_in"], "check_out": days["check_out"]}
