"""Merge suggestions: two profiles that may be one person, scored, never merged blindly.

Matching (matching.py) records one when a booking's evidence points at a profile it may not
link to on its own (a shared phone with another name or another email); `review` records them
for a profile the front desk wrote (same ID document, same name and birth date, same phone and
name). One row per pair: later evidence adds reasons and raises the score of an open suggestion;
a dismissed or merged pair stays as staff decided.
"""

from collections.abc import Iterable
from typing import cast

from hotel_common.errors import NotFound, ProblemError
from hotel_common.time import utcnow
from sqlalchemy import Table, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.models import (
    Guest,
    GuestContact,
    GuestStatus,
    MergeSuggestion,
    SuggestionStatus,
    _new_id,
)
from guest_service.models.merges import Reason

# How much each reason weighs (docs/domain.md "Merging"); the score is their sum, at most 100.
# A name alone is common, an email that differs says nothing for or against: both only explain.
WEIGHTS: dict[Reason, int] = {
    Reason.SAME_DOCUMENT: 60,
    Reason.SAME_NAME_AND_BIRTH_DATE: 50,
    Reason.SAME_PHONE: 25,
    Reason.SAME_NAME: 20,
    Reason.OTHER_EMAIL: 0,
}

_suggestions = cast(Table, MergeSuggestion.__table__)  # type: ignore[attr-defined]
_guests = cast(Table, Guest.__table__)  # type: ignore[attr-defined]
_contacts = cast(Table, GuestContact.__table__)  # type: ignore[attr-defined]


def score(reasons: Iterable[Reason]) -> int:
    return min(100, sum(WEIGHTS[r] for r in set(reasons)))


def _ordered(reasons: Iterable[str]) -> list[str]:
    """Reasons in the order of `Reason` (strongest first), once each."""
    given = set(reasons)
    return [r.value for r in Reason if r.value in given]


async def suggest(conn: AsyncConnection, a_id: str, b_id: str, reasons: Iterable[Reason]) -> None:
    """Record that profiles `a_id` and `b_id` may be one person, for `reasons`. Idempotent: a
    redelivered booking finds its reasons there already."""
    if a_id == b_id:
        return
    first, second = sorted((a_id, b_id))
    wanted = _ordered(r.value for r in reasons)
    now = utcnow()
    row = {
        "id": _new_id(),
        "first_id": first,
        "second_id": second,
        "score": score(Reason(r) for r in wanted),
        "reasons": wanted,
        "status": SuggestionStatus.OPEN.value,
        "created_at": now,
        "updated_at": now,
    }
    # ON CONFLICT DO NOTHING: two bookings suggesting one pair at once both end on one row.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = await conn.execute(dialect.insert(_suggestions).values(row).on_conflict_do_nothing())
    if inserted.rowcount:
        return
    pair = and_(_suggestions.c.first_id == first, _suggestions.c.second_id == second)
    found = (
        await conn.execute(
            select(_suggestions.c.id, _suggestions.c.reasons, _suggestions.c.status).where(pair)
        )
    ).first()
    if found is None or found.status != SuggestionStatus.OPEN.value:
        return  # staff decided on this pair: new evidence does not reopen it
    merged = _ordered([*found.reasons, *wanted])
    if merged != list(found.reasons):
        await conn.execute(
            update(_suggestions)
            .where(_suggestions.c.id == found.id)
            .values(reasons=merged, score=score(Reason(r) for r in merged), updated_at=now)
        )


async def review(session: AsyncSession, guest_id: str) -> int:
    """Suggest merges of an active profile with every other active one sharing its ID document,
    its name and birth date, or a phone under the same name; how many pairs were suggested.
    For a profile the front desk created or changed (bookings carry neither documents nor birth
    dates; matching suggests from what they carry)."""
    guest = await session.get(Guest, guest_id)
    if guest is None or guest.status != GuestStatus.ACTIVE:
        return 0
    found: dict[str, set[Reason]] = {}
    conn = await session.connection()
    active = _guests.c.status == GuestStatus.ACTIVE.value
    others = _guests.c.id != guest_id
    for column, reason in (
        (_guests.c.document_hash, Reason.SAME_DOCUMENT),
        (_guests.c.identity_hash, Reason.SAME_NAME_AND_BIRTH_DATE),
    ):
        value = getattr(guest, column.key)
        if value:
            query = select(_guests.c.id).where(column == value, active, others)
            for (other,) in (await conn.execute(query)).all():
                found.setdefault(other, set()).add(reason)
    from guest_service.matching import name_key  # matching imports this module

    mine = select(_contacts.c.value_hash).where(
        _contacts.c.guest_id == guest_id, _contacts.c.kind == "phone"
    )
    sharing = (
        select(_guests.c.id, _guests.c.name)
        .join(_contacts, _contacts.c.guest_id == _guests.c.id)
        .where(_contacts.c.kind == "phone", _contacts.c.value_hash.in_(mine), active, others)
        .distinct()
    )
    for other, name in (await conn.execute(sharing)).all():
        if name_key(name) == name_key(guest.name):
            found.setdefault(other, set()).update({Reason.SAME_PHONE, Reason.SAME_NAME})
    for other, reasons in found.items():
        await suggest(conn, guest_id, other, reasons)
    return len(found)


async def get_suggestion(session: AsyncSession, suggestion_id: str) -> MergeSuggestion:
    suggestion = await session.get(MergeSuggestion, suggestion_id)
    if suggestion is None:
        raise NotFound("merge_suggestion", suggestion_id)
    return suggestion


async def dismiss(session: AsyncSession, suggestion_id: str, by: str) -> MergeSuggestion:
    """Staff say the pair are two people: the suggestion is closed and not reopened."""
    suggestion = await get_suggestion(session, suggestion_id)
    if suggestion.status == SuggestionStatus.DISMISSED:
        return suggestion  # saying it twice is saying it once
    if suggestion.status != SuggestionStatus.OPEN:
        raise ProblemError(
            409,
            "suggestion_closed",
            "This suggestion was acted on already.",
            suggestion_status=str(suggestion.status),
        )
    suggestion.status = SuggestionStatus.DISMISSED
    suggestion.decided_by, suggestion.decided_at = by, utcnow()
    suggestion.updated_at = suggestion.decided_at
    session.add(suggestion)
    return suggestion


async def close_pair(
    session: AsyncSession, a_id: str, b_id: str, status: SuggestionStatus, by: str
) -> None:
    """Mark the pair's suggestion as staff decided it (merged, or dismissed when a merge of them
    is undone), creating none if there was none."""
    first, second = sorted((a_id, b_id))
    now = utcnow()
    conn = await session.connection()
    await conn.execute(
        update(_suggestions)
        .where(_suggestions.c.first_id == first, _suggestions.c.second_id == second)
        .values(status=status.value, decided_by=by, decided_at=now, updated_at=now)
    )
