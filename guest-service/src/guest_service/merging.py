"""Merging two profiles of one person, and undoing it.

A merge locks both profiles (in id order, so two merges of overlapping pairs cannot deadlock),
walks every part of the CRM (lifecycle.parts(): contacts, stays, consents, points...) so each
moves what the absorbed profile holds to the survivor and says what it moved (its memo), marks
the absorbed profile merged into the survivor and publishes GuestMerged, all in one
transaction. Nothing is deleted: undo walks the parts backwards with their memos, makes the
absorbed profile its own again and publishes GuestMergeUndone.
"""

from datetime import datetime
from typing import Any

from hotel_common.contracts.guests import GuestMerged, GuestMergeUndone
from hotel_common.errors import NotFound, ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.time import utcnow
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import lifecycle, suggestions, versions
from guest_service.models import (
    Guest,
    GuestMerge,
    GuestMergeCreate,
    GuestMergePublic,
    GuestStatus,
    SuggestionStatus,
)


async def _lock(session: AsyncSession, *guest_ids: str) -> dict[str, Guest]:
    """The profiles, each row locked until commit (PostgreSQL), taken in id order."""
    found: dict[str, Guest] = {}
    for guest_id in sorted(guest_ids):
        guest = await session.get(Guest, guest_id, with_for_update=True, populate_existing=True)
        if guest is None:
            raise NotFound("guest", guest_id)
        found[guest_id] = guest
    return found


def _not_active(guest: Guest) -> ProblemError:
    return ProblemError(
        409,
        "guest_not_active",
        "Only active profiles can be merged; this one was merged or erased.",
        guest_id=guest.id,
        guest_status=guest.status,
    )


async def merge(session: AsyncSession, data: GuestMergeCreate, by: str) -> GuestMerge:
    """Merge `data.absorbed_id` into `data.survivor_id` on behalf of `by` (not committed)."""
    if data.survivor_id == data.absorbed_id:
        raise ProblemError(422, "merge_with_itself", "A profile cannot be merged with itself.")
    suggestion = None
    if data.suggestion_id is not None:
        suggestion = await suggestions.get_suggestion(session, data.suggestion_id)
        if {suggestion.first_id, suggestion.second_id} != {data.survivor_id, data.absorbed_id}:
            raise ProblemError(
                422, "suggestion_mismatch", "The suggestion is about another pair of profiles."
            )
    guests = await _lock(session, data.survivor_id, data.absorbed_id)
    survivor, absorbed = guests[data.survivor_id], guests[data.absorbed_id]
    for guest in (survivor, absorbed):
        if guest.status != GuestStatus.ACTIVE:
            raise _not_active(guest)
    memo: dict[str, Any] = {}
    for part in lifecycle.parts():
        memo[part.name] = await part.merge(session, survivor.id, absorbed.id)
    now = utcnow()
    absorbed.status, absorbed.merged_into_id = GuestStatus.MERGED, survivor.id
    version = await _changed(session, now, survivor, absorbed)
    record = GuestMerge(
        survivor_id=survivor.id,
        absorbed_id=absorbed.id,
        suggestion_id=suggestion.id if suggestion else None,
        merged_by=by,
        merged_at=now,
        memo=memo,
    )
    session.add(record)
    await suggestions.close_pair(session, survivor.id, absorbed.id, SuggestionStatus.MERGED, by)
    add_event(
        session,
        GuestMerged(
            merge_id=record.id,
            guest_id=survivor.id,
            absorbed_id=absorbed.id,
            merged_by=by,
            at=now,
            aggregate_version=version,
        ),
    )
    return record


async def get_merge(session: AsyncSession, merge_id: str, *, lock: bool = False) -> GuestMerge:
    record = await session.get(
        GuestMerge, merge_id, with_for_update=lock or None, populate_existing=lock
    )
    if record is None:
        raise NotFound("guest_merge", merge_id)
    return record


async def undo(session: AsyncSession, merge_id: str, by: str) -> GuestMerge:
    """Make the absorbed profile its own again, each part moving back what its memo says moved
    (not committed). 409 when undone already, or when the survivor has since been merged or
    erased (undo that later merge first; an erased person cannot be split)."""
    record = await get_merge(session, merge_id, lock=True)
    if record.undone_at is not None:
        raise ProblemError(
            409,
            "merge_already_undone",
            "This merge was undone already.",
            undone_at=record.undone_at.isoformat(),
        )
    guests = await _lock(session, record.survivor_id, record.absorbed_id)
    survivor, absorbed = guests[record.survivor_id], guests[record.absorbed_id]
    if survivor.status != GuestStatus.ACTIVE:
        raise ProblemError(
            409,
            "merge_not_undoable",
            "The surviving profile was merged or erased since; undo that first.",
            guest_id=survivor.id,
            guest_status=survivor.status,
        )
    for part in reversed(lifecycle.parts()):
        if part.name in record.memo:  # a part added after the merge moved nothing
            await part.unmerge(session, survivor.id, absorbed.id, record.memo[part.name])
    now = utcnow()
    absorbed.status, absorbed.merged_into_id = GuestStatus.ACTIVE, None
    version = await _changed(session, now, survivor, absorbed)
    record.undone_by, record.undone_at = by, now
    session.add(record)
    # Undone: staff found them to be two people, so the pair is not suggested again.
    await suggestions.close_pair(session, survivor.id, absorbed.id, SuggestionStatus.DISMISSED, by)
    add_event(
        session,
        GuestMergeUndone(
            merge_id=record.id,
            guest_id=survivor.id,
            absorbed_id=absorbed.id,
            undone_by=by,
            at=now,
            aggregate_version=version,
        ),
    )
    return record


async def _changed(session: AsyncSession, now: datetime, survivor: Guest, absorbed: Guest) -> int:
    """Both profiles one version on (versions.next_version), changed at `now`; the survivor's
    new version (the merge event's)."""
    await versions.next_version(session, absorbed.id)
    absorbed.updated_at = survivor.updated_at = now
    session.add_all([survivor, absorbed])
    return await versions.next_version(session, survivor.id)


def public(record: GuestMerge) -> GuestMergePublic:
    return GuestMergePublic.model_validate(record, update={"parts": list(record.memo)})
