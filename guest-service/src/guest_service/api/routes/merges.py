"""Merge suggestions and merges, for desk staff who can tell two guests apart (front desk,
managers; admin always): list and dismiss suggestions, merge two profiles, read a merge, undo
it. Who may: docs/access.md; the rules: docs/domain.md "Merging"."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep, keyset_page
from hotel_common.principal import Principal, Role, require
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, merging, suggestions
from guest_service.api.routes.common import UNAUTHENTICATED
from guest_service.models import (
    ContactKind,
    Guest,
    GuestMergeCreate,
    GuestMergePublic,
    GuestStatus,
    MergeSuggestion,
    MergeSuggestionPublic,
    SuggestedGuest,
    SuggestionStatus,
)

# Merging decides whose history, points and consents a person has: staff who meet guests and
# see their documents (front desk, managers) decide it, not reservations or marketing.
MERGERS = (Role.FRONT_DESK, Role.MANAGER)
Merger = Annotated[Principal, Depends(require(*MERGERS))]

suggestion_router = APIRouter(prefix="/api/v1/guests/merge-suggestions", tags=["guest merges"])
router = APIRouter(prefix="/api/v1/guest-merges", tags=["guest merges"])

FIRST = "3c2b1a09-8f7e-4d6c-b5a4-93827160fedc"
SECOND = "7d6e5f40-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
SUGGESTION: dict[str, Any] = {
    "id": "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170",
    "guests": [
        {
            "id": FIRST,
            "name": "Lin Mei",
            "email": "lin.mei@example.com",
            "phone": "+8613900139000",
            "created_at": "2030-05-20T08:15:00Z",
        },
        {
            "id": SECOND,
            "name": "Lin Mei",
            "email": "mei.lin@work.example",
            "phone": "+8613900139000",
            "created_at": "2030-06-02T11:40:00Z",
        },
    ],
    "score": 45,
    "reasons": ["same_phone", "same_name", "other_email"],
    "status": "open",
    "decided_by": None,
    "decided_at": None,
    "created_at": "2030-06-02T11:40:00Z",
    "updated_at": "2030-06-02T11:40:00Z",
}
MERGE: dict[str, Any] = {
    "id": "0f1e2d3c-4b5a-4968-8776-655443322110",
    "survivor_id": FIRST,
    "absorbed_id": SECOND,
    "suggestion_id": SUGGESTION["id"],
    "merged_by": "staff:7",
    "merged_at": "2030-06-03T09:00:00Z",
    "parts": ["profile", "stays", "privacy", "loyalty"],
    "undone_by": None,
    "undone_at": None,
}
FORBIDDEN = {403: "forbidden: front desk and managers only"}


async def _shown(session: AsyncSession, rows: list[MergeSuggestion]) -> list[MergeSuggestionPublic]:
    ids = {i for s in rows for i in (s.first_id, s.second_id)}
    guests = {g.id: g for g in (await session.exec(select(Guest).where(col(Guest.id).in_(ids))))}
    contacts = await contact_book.contacts_for(session, ids)

    def guest(guest_id: str) -> SuggestedGuest:
        g, held = guests[guest_id], contacts.get(guest_id, [])
        return SuggestedGuest(
            id=g.id,
            name=g.name,
            email=contact_book.primary(held, ContactKind.EMAIL),
            phone=contact_book.primary(held, ContactKind.PHONE),
            created_at=g.created_at,
        )

    shown = []
    for s in rows:
        pair = sorted((guest(s.first_id), guest(s.second_id)), key=lambda g: (g.created_at, g.id))
        shown.append(MergeSuggestionPublic.model_validate(s, update={"guests": pair}))
    return shown


@suggestion_router.get(
    "",
    summary="List merge suggestions",
    responses={
        200: example({"items": [SUGGESTION], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **FORBIDDEN}),
    },
)
async def list_merge_suggestions(
    session: SessionDep,
    principal: Merger,
    paging: PagingDep,
    status: Annotated[
        SuggestionStatus, Query(description="Takes one value. Default: open suggestions")
    ] = SuggestionStatus.OPEN,
) -> Page[MergeSuggestionPublic]:
    """Pairs of profiles that may be one person, strongest first (score, then newest). Open
    suggestions show only pairs still both active (a profile merged into a third or erased
    leaves the list)."""
    query = select(MergeSuggestion).where(MergeSuggestion.status == status)
    if status is SuggestionStatus.OPEN:
        first, second = aliased(Guest), aliased(Guest)
        query = (
            query.join(first, col(first.id) == MergeSuggestion.first_id)
            .join(second, col(second.id) == MergeSuggestion.second_id)
            .where(first.status == GuestStatus.ACTIVE, second.status == GuestStatus.ACTIVE)
        )
    order = (
        col(MergeSuggestion.score),
        col(MergeSuggestion.created_at),
        col(MergeSuggestion.id),
    )
    page = await keyset_page(session, query, paging, *order, descending=True)
    shown = iter(await _shown(session, page.items))
    return page.map(lambda _: next(shown))


@suggestion_router.post(
    "/{suggestion_id}/dismiss",
    summary="Dismiss a merge suggestion",
    responses={
        200: example(SUGGESTION | {"status": "dismissed", "decided_by": "staff:7"}),
        **problems(
            {
                **UNAUTHENTICATED,
                **FORBIDDEN,
                404: "merge_suggestion_not_found",
                409: "suggestion_closed: the pair was merged already",
            }
        ),
    },
)
async def dismiss_merge_suggestion(
    session: SessionDep, principal: Merger, suggestion_id: str
) -> MergeSuggestionPublic:
    """The two profiles are two people: the suggestion is closed and later bookings do not
    reopen it. Dismissing twice answers the same."""
    suggestion = await suggestions.dismiss(session, suggestion_id, principal.id)
    await session.commit()
    [shown] = await _shown(session, [suggestion])
    return shown


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Merge two guest profiles",
    responses={
        201: example(MERGE, "Created"),
        **problems(
            {
                **UNAUTHENTICATED,
                **FORBIDDEN,
                404: "guest_not_found / merge_suggestion_not_found",
                409: "guest_not_active: a profile was merged or erased already",
                422: "merge_with_itself, suggestion_mismatch, or a malformed body",
            }
        ),
    },
)
async def merge_guests(
    session: SessionDep, principal: Merger, body: GuestMergeCreate
) -> GuestMergePublic:
    """Merge `absorbed_id` into `survivor_id`: its contacts, stays, consents, points and
    feedback move to the survivor (each part records what moved), it is marked merged, and
    `guest.merged` is published. Bookings of its contacts link to the survivor from now on."""
    record = await merging.merge(session, body, principal.id)
    await session.commit()
    return merging.public(record)


@router.get(
    "/{merge_id}",
    summary="Get a merge",
    responses={
        200: example(MERGE),
        **problems({**UNAUTHENTICATED, **FORBIDDEN, 404: "guest_merge_not_found"}),
    },
)
async def get_guest_merge(
    session: SessionDep, principal: Merger, merge_id: str
) -> GuestMergePublic:
    """Who merged which profiles when, which parts it walked, and whether it was undone."""
    return merging.public(await merging.get_merge(session, merge_id))


@router.post(
    "/{merge_id}/undo",
    summary="Undo a merge",
    responses={
        200: example(MERGE | {"undone_by": "staff:9", "undone_at": "2030-06-04T10:00:00Z"}),
        **problems(
            {
                **UNAUTHENTICATED,
                **FORBIDDEN,
                404: "guest_merge_not_found",
                409: "merge_already_undone / merge_not_undoable (survivor merged or erased since)",
            }
        ),
    },
)
async def undo_guest_merge(
    session: SessionDep, principal: Merger, merge_id: str
) -> GuestMergePublic:
    """Split the profiles again: every part moves back what the merge moved, the absorbed
    profile is active again, and `guest.merge_undone` is published. Undoing twice is 409."""
    record = await merging.undo(session, merge_id, principal.id)
    await session.commit()
    return merging.public(record)
