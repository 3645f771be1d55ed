"""A booking's history: one line per change (who, when, which channel, what changed).

Every change of a booking goes through `lifecycle.advance` or `record` here, in the change's
own transaction, so the history can never miss a change or show one that was rolled back.
"""

from datetime import date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.access import Actor
from reservation_service.models import HistoryEntry, Reservation, ReservationHistory


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: dates and instants as ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def change(old: Any, new: Any) -> dict[str, Any]:
    """One changed field as history and `reservation.modified` show it."""
    return {"from": _plain(old), "to": _plain(new)}


def record(
    session: AsyncSession,
    reservation: Reservation,
    action: str,
    actor: Actor,
    *,
    from_status: str | None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Add the history line of the change that gave `reservation` its current version."""
    session.add(
        ReservationHistory(
            reservation_id=reservation.id,
            version=reservation.version,
            action=action,
            from_status=from_status,
            to_status=reservation.status,
            actor=actor.id,
            channel=actor.channel,
            changes=changes or {},
        )
    )


async def entries(session: AsyncSession, reservation_id: str) -> list[HistoryEntry]:
    """The booking's changes, oldest first (the caller checked it may reach the booking)."""
    rows = await session.exec(
        select(ReservationHistory)
        .where(ReservationHistory.reservation_id == reservation_id)
        .order_by(col(ReservationHistory.version))
    )
    return [HistoryEntry.model_validate(row, from_attributes=True) for row in rows]
