"""A guest's erasure in the feed (helper: feed): their name, email and phone blanked wherever an
entry of their bookings holds them (the `guest` object, a sign name, a note). Amounts, dates
and codes stay: the partner keeps its accounts.

The bus does not promise order and `guest.erased` is the guest's aggregate, not the booking's:
an event of the booking published before the erasure may be handled after it (or the erasure
may come before the booking is known at all). So the erased bookings' ids are kept
(`ErasedBooking`, ids only, as notification-service does) and feed.append blanks such an
event's payload with the person it carries itself (`blank_own`).
"""

from datetime import datetime
from typing import Any

from hotel_common.contracts.guests import GuestErased
from hotel_common.time import UtcDateTime, utcnow
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

ERASED = ""
PERSONAL_KEYS = {"name": ERASED, "email": ERASED, "phone": None}


def blank(payload: dict[str, Any], event: GuestErased) -> dict[str, Any]:
    """A copy of `payload` without the guest of `event`."""
    values = [v for v in [*event.names, *event.emails, *event.phones] if v]
    result = _walk(payload, values)
    assert isinstance(result, dict)
    return result


class ErasedBooking(SQLModel, table=True):
    """A booking whose guest was erased: a late event of it enters the feed blanked."""

    __tablename__ = "partner_erased_bookings"

    reservation_id: str = Field(primary_key=True, max_length=36)
    erased_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


async def remember(session: AsyncSession, reservation_id: str) -> None:
    """Keep the booking's id as erased (the caller holds the booking's lock)."""
    if await session.get(ErasedBooking, reservation_id) is None:
        session.add(ErasedBooking(reservation_id=reservation_id))


def blank_own(payload: dict[str, Any]) -> dict[str, Any]:
    """A copy of `payload` without the person its own `guest` objects name (the erasure's
    values are not kept: the late event carries them)."""
    values: list[str] = []

    def collect(value: Any, key: str | None = None) -> None:
        if isinstance(value, dict):
            if key == "guest":
                values.extend(str(value[k]) for k in ("name", "email", "phone") if value.get(k))
            for k, v in value.items():
                collect(v, k)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(payload)
    result = _walk(payload, values)
    assert isinstance(result, dict)
    return result


def _walk(value: Any, values: list[str], key: str | None = None) -> Any:
    if isinstance(value, dict):
        if key == "guest":
            value = {k: PERSONAL_KEYS.get(k, v) for k, v in value.items()}
        return {k: _walk(v, values, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, values) for v in value]
    if isinstance(value, str):
        return _scrub(value, values)
    return value


def _scrub(text: str, values: list[str]) -> str:
    lowered = text.lower()
    for erased in values:
        start = lowered.find(erased.lower())
        while start >= 0:
            text = text[:start] + ERASED + text[start + len(erased) :]
            lowered = text.lower()
            start = lowered.find(erased.lower())
    return text
