"""Issue 16: holding the nights of a stay is one statement, with no savepoint; when a night is
full, the nights that went up are put back (on SQLite and on PostgreSQL)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from hotel_common import context
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .conftest import Hotel


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL requests run (not the relay's nor a consumer's), on any engine."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if context.request_id.get() is not None:
            seen.append(" ".join(sql.split()))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def days(hotel: Hotel, first: int, last: int) -> dict[str, str]:
    start = date.fromisoformat(hotel.stay[0])
    return {
        "check_in": (start + timedelta(days=first)).isoformat(),
        "check_out": (start + timedelta(days=last)).isoformat(),
    }


async def test_a_full_night_puts_back_the_nights_already_held(hotel_on_each_db: Hotel) -> None:
    hotel = hotel_on_each_db
    await hotel.add_room_type("ONE", rooms=1)
    # A night (day 3) that has a row, held by nobody: the hold below updates it.
    earlier = await hotel.book(room_type_code="ONE", **days(hotel, 3, 4))
    assert (await hotel.confirm(earlier["id"])).status_code == 200
    assert (await hotel.cancel(earlier["id"])).status_code == 200

    first = await hotel.book(room_type_code="ONE", **days(hotel, 0, 2))
    with statements() as sql:
        assert (await hotel.confirm(first["id"])).status_code == 200
    touching = [s for s in sql if "inventory_nights" in s]
    assert len(touching) == 1, touching  # every night in one statement
    assert not [s for s in sql if "SAVEPOINT" in s.upper()]

    # Nights 1 (full), 2 (no row yet), 3 (a row at 0): 2 and 3 go up, then back down.
    second = await hotel.book(room_type_code="ONE", **days(hotel, 1, 4))
    with statements() as sql:
        refused = await hotel.confirm(second["id"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_availability"
    assert len([s for s in sql if "inventory_nights" in s]) == 2  # the hold, the putting back
    assert await hotel.available("ONE", **days(hotel, 2, 4)) == 1
    assert await hotel.available("ONE", **days(hotel, 1, 2)) == 0

    # Nothing was left held: a stay on exactly those nights confirms.
    after = await hotel.book(room_type_code="ONE", **days(hotel, 2, 4))
    assert (await hotel.confirm(after["id"])).status_code == 200
    assert await hotel.available("ONE", **days(hotel, 0, 4)) == 0
    assert (await hotel.reservation(second["id"]))["status"] == "requested"


async def test_a_room_type_without_rooms_in_service_holds_nothing(
    hotel_on_each_db: Hotel,
) -> None:
    hotel = hotel_on_each_db
    await hotel.add_room_type("NIL", rooms=0)
    booking = await hotel.book(room_type_code="NIL", **days(hotel, 0, 2))
    refused = await hotel.confirm(booking["id"])
    assert refused.status_code == 409
    assert await hotel.available("NIL", **days(hotel, 0, 2)) == 0


async def test_a_booking_request_is_one_read_and_its_inserts_without_savepoint(
    hotel_on_each_db: Hotel,
) -> None:
    hotel = hotel_on_each_db
    with statements() as sql:
        await hotel.book()
    work = [s for s in sql if not s.upper().startswith(("BEGIN", "PRAGMA"))]
    # The property with its room type; the booking, its history line and its event (outbox).
    # Issue 17: + the rate plan read (pricing); issue 19: + the guest's member rate.
    assert len(work) == 6, work
    assert work[3].startswith("INSERT INTO reservations")
    assert sorted(w.split()[2] for w in work[4:]) == ["outbox", "reservation_history"], work
    assert not any("SAVEPOINT" in w.upper() for w in work), work
