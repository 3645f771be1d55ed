"""What the Today and Room rack pages read from the API beyond one call: every page of a list,
the hotel's business day, and the room each booking holds.

A booking (`ReservationPublic`) does not carry its room: the room is its assignment, told by
the booking's history (`room_assigned` and `checked_in` lines name `room_number`). The pages
read the history of the few bookings they show (arrivals, in-house), a handful at a time.
"""

import asyncio
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.dashboard.api import Api

ZONE = "Asia/Shanghai"  # the demo hotel's zone; the API's dates are the property's
PAGE = 200  # the list operations' largest page
MAX_PAGES = 20  # a runaway cursor never hangs a page
PARALLEL = 8  # history reads at once


def business_day(zone: str = ZONE) -> date:
    """The property's today: its clock, not the server's."""
    return datetime.now(ZoneInfo(zone)).date()


async def all_items(api: Api, path: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Every item of a cursor-paged list operation."""
    query = {**(params or {}), "limit": PAGE}
    found: list[Any] = []
    for _ in range(MAX_PAGES):
        body = await api.get(path, query)
        if not isinstance(body, dict):
            return found + list(body or [])
        found.extend(body.get("items", []))
        cursor = body.get("next_cursor")
        if not cursor:
            break
        query["cursor"] = cursor
    return found


async def room_number(api: Api, booking_id: str) -> str | None:
    """The room the booking's history last gave it (None: none assigned)."""
    number: str | None = None
    for entry in await api.get(f"/reservations/{booking_id}/history") or []:
        change = (entry.get("changes") or {}).get("room_number")
        if isinstance(change, dict):
            number = change.get("to") or number
        elif isinstance(change, str):
            number = change
    return number


async def room_numbers(api: Api, booking_ids: list[str]) -> dict[str, str | None]:
    """`room_number` for many bookings, at most PARALLEL reads at a time."""
    gate = asyncio.Semaphore(PARALLEL)

    async def one(booking_id: str) -> str | None:
        async with gate:
            return await room_number(api, booking_id)

    numbers = await asyncio.gather(*(one(b) for b in booking_ids))
    return dict(zip(booking_ids, numbers, strict=True))
