"""Segments staff define (rules over profile, stays and value) and their members; a guest's
stay history with their value. Who may do what: marketing and managers read and define
segments; desk staff and marketing read a guest's history (docs/access.md)."""

from typing import Any

from fastapi import APIRouter, Depends, status
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep, Role, require

from guest_service import segments
from guest_service.api.routes.common import GUEST_ID, UNAUTHENTICATED
from guest_service.models.segments import (
    Segment,
    SegmentCreate,
    SegmentMemberPublic,
    SegmentPublic,
    SegmentUpdate,
)

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])

# Segments are a marketing tool: marketing and managers read and define them (admin always).
SEGMENT_STAFF = (Role.MARKETING, Role.MANAGER)
may_use = Depends(require(*SEGMENT_STAFF))

RULE: dict[str, Any] = {
    "companies": ["Acme Trading"],
    "cities": ["Shanghai", "上海市"],
    "stays": {"min": 2, "period": {"this_year": True}},
}
EXAMPLE: dict[str, Any] = {
    "id": "5d1f6a2e-0c7b-4e8a-9b3d-2f4e6a8c0b1d",
    "name": "Business guests from Shanghai, 2+ stays this year",
    "description": "Invite to the corporate rate programme",
    "rule": RULE,
    "members": 42,
    "created_by": "staff:7",
    "created_at": "2030-05-20T08:15:00Z",
    "updated_at": "2030-05-20T08:15:00Z",
    "refreshed_at": "2030-05-20T09:00:00Z",
}
MEMBER: dict[str, Any] = {
    "guest_id": GUEST_ID,
    "name": "Lin Mei",
    "value_class": "key",
    "recency": 3,
    "frequency": 2,
    "monetary": 3,
    "tier": "gold",
    "spend_cny": 18240,
}
FORBIDDEN = {403: "forbidden: marketing and managers only"}
NOT_FOUND = {404: "segment_not_found: no segment with this id"}
EXISTS = {409: "segment_exists: another segment has this name"}
INVALID = {422: "validation_error: the rule or a field is not valid (field paths in errors)"}


async def _shown(session: SessionDep, found: list[Segment]) -> list[SegmentPublic]:
    counted = await segments.counts(session, [s.id for s in found])
    return [
        SegmentPublic.model_validate(s, update={"members": counted.get(s.id, 0)}) for s in found
    ]


@router.get(
    "",
    summary="List segments with their member counts",
    dependencies=[may_use],
    responses={
        200: example({"items": [EXAMPLE], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **FORBIDDEN}),
    },
)
async def list_segments(session: SessionDep, paging: PagingDep) -> Page[SegmentPublic]:
    """Segments oldest first, each with how many guests it holds now."""
    page = await segments.list_segments(session, paging)
    return Page(items=await _shown(session, page.items), next_cursor=page.next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Define a segment",
    dependencies=[may_use],
    responses={
        201: example(EXAMPLE, "Created"),
        **problems({**UNAUTHENTICATED, **FORBIDDEN, **EXISTS, **INVALID}),
    },
)
async def create_segment(
    session: SessionDep, principal: PrincipalDep, body: SegmentCreate
) -> SegmentPublic:
    """A segment by rule: every condition given must hold (see docs/domain.md, Segments); its
    members are computed at once and kept up to date by every stay event and the periodic
    refresh."""
    segment = await segments.create_segment(session, body, principal.id)
    [shown] = await _shown(session, [segment])
    await session.commit()
    return shown


@router.get(
    "/{segment_id}",
    summary="Get a segment with its member count",
    dependencies=[may_use],
    responses={200: example(EXAMPLE), **problems({**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND})},
)
async def get_segment(session: SessionDep, segment_id: str) -> SegmentPublic:
    """One segment, its rule and how many guests it holds now."""
    [shown] = await _shown(session, [await segments.get_segment(session, segment_id)])
    return shown


@router.patch(
    "/{segment_id}",
    summary="Change a segment",
    dependencies=[may_use],
    responses={
        200: example(EXAMPLE),
        **problems({**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND, **EXISTS, **INVALID}),
    },
)
async def update_segment(
    session: SessionDep, segment_id: str, body: SegmentUpdate
) -> SegmentPublic:
    """Rename, describe, or give a new rule (the whole rule: its members are recomputed)."""
    segment = await segments.get_segment(session, segment_id)
    segment = await segments.update_segment(session, segment, body)
    [shown] = await _shown(session, [segment])
    await session.commit()
    return shown


@router.delete(
    "/{segment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a segment",
    dependencies=[may_use],
    responses=problems({**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND}),
)
async def delete_segment(session: SessionDep, segment_id: str) -> None:
    """The segment and its member list go; the guests stay as they are."""
    await segments.delete_segment(session, await segments.get_segment(session, segment_id))
    await session.commit()


@router.get(
    "/{segment_id}/members",
    summary="List a segment's members",
    dependencies=[may_use],
    responses={
        200: example({"items": [MEMBER], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND}),
    },
)
async def list_segment_members(
    session: SessionDep, segment_id: str, paging: PagingDep
) -> Page[SegmentMemberPublic]:
    """The guests in the segment now, by guest id, with their value (no contacts: a guest's
    profile is one call away, masked as the caller may see it)."""
    await segments.get_segment(session, segment_id)
    page = await segments.members(session, segment_id, paging)
    return page.map(lambda row: SegmentMemberPublic.model_validate(dict(row._mapping)))
