"""GET /api/v1/events: the calling partner's feed (helper: feed).

Partner keys only: a partner reads its own feed (the principal names it), so there is no id to
guess; staff and guests are 403, a caller without credentials 401. Entries about a booking need
the key's `reservations:read` scope (as GET /reservations does); without it, availability only.
See docs/partners.md, "The event feed", for what a partner sees, the order and the catch-up
recipe.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from hotel_common.contract import answers
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.errors import ProblemError
from hotel_common.principal import ApiScope, Kind, PrincipalDep, refused
from pydantic import BaseModel, Field

from partner_service import feed
from partner_service.models import FeedEntry

router = APIRouter(prefix="/api/v1", tags=["events"])

PARTNER_PREFIX = "partner:"
TYPE_PATTERN = r"^[a-z_]+\.[a-z_]+(,[a-z_]+\.[a-z_]+)*$"

EXAMPLE: dict[str, Any] = {
    "events": [
        {
            "cursor": "17",
            "id": "7f0c2d9e-4b1a-4c3e-9a8f-1d2e3f4a5b6c",
            "type": "reservation.confirmed",
            "occurred_at": "2030-05-20T08:15:01Z",
            "reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
            "aggregate_version": 2,
            "payload": {"reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d"},
        }
    ],
    "next_cursor": "17",
    "has_more": False,
}


class FeedEvent(BaseModel):
    cursor: str = Field(description="This entry's place in your feed: pass it as `after`")
    id: str = Field(description="The event's id: the same event is never two entries")
    type: str = Field(description="e.g. reservation.confirmed, availability.changed")
    occurred_at: datetime = Field(description="When it happened (UTC)")
    reservation_id: str | None = Field(
        default=None, description="Your booking it is about (null: availability)"
    )
    aggregate_version: int | None = Field(
        default=None,
        description="The version of what it is about after the change (the booking's for "
        "reservation.*, the room type's sequence for availability.changed; null for "
        "notice.status_changed, ordered by its `at`): of two entries about one thing, the "
        "higher is newer",
    )
    payload: dict[str, Any]


class FeedPage(BaseModel):
    events: list[FeedEvent]
    next_cursor: str = Field(description="Pass as `after` to read on (also when no events)")
    has_more: bool = Field(description="More entries are there now: read again at once")


def _entry(row: FeedEntry) -> FeedEvent:
    return FeedEvent(
        cursor=str(row.seq),
        id=row.event_id,
        type=row.event_type,
        occurred_at=row.occurred_at,
        reservation_id=row.reservation_id,
        aggregate_version=row.aggregate_version,
        payload=row.payload,
    )


@router.get(
    "/events",
    response_model=FeedPage,
    summary="Read my event feed",
    description=(
        "Your bookings' lifecycle, their pickups and notices, and availability of the "
        "properties you are mapped to, in one stable order. Start without `after`, then pass "
        "`next_cursor` each time; entries are kept at least "
        "30 days, an older cursor is a 410 `cursor_expired`."
    ),
    responses=answers(
        200,
        EXAMPLE,
        {
            401: "unauthenticated: send your API key",
            403: "forbidden: partner API keys only",
            410: "cursor_expired: the entries after this cursor were purged; start again "
            "without `after` (and resynchronise your bookings)",
            422: "validation_error: a malformed cursor, limit or types; cursor_unknown: a "
            "cursor past your newest entry (never handed out)",
        },
    ),
)
async def read_events(
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    after: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{1,18}$",
            description="The `cursor` (or `next_cursor`) you read last; none: the oldest kept",
        ),
    ] = None,
    limit: Annotated[
        int,
        Query(ge=1, le=5000, description="Most events returned (at most the service's page max)"),
    ] = 100,
    types: Annotated[
        str | None,
        Query(
            max_length=2000,
            pattern=TYPE_PATTERN,
            description="Only these types, a comma list: reservation.confirmed,transfer.assigned",
        ),
    ] = None,
) -> FeedPage:
    if principal.kind is not Kind.PARTNER:
        raise refused(principal)
    partner_id = principal.id.removeprefix(PARTNER_PREFIX)
    wanted = types.split(",") if types else None
    limit = min(limit, runtime.settings.feed_page_max)
    try:
        page = await feed.read(
            session,
            partner_id,
            int(after) if after is not None else None,
            limit,
            wanted,
            # A booking's entries are what GET /reservations shows: the same scope. A key
            # without it (an ari:write key for rate pushes) reads availability only.
            bookings=principal.may(ApiScope.RESERVATIONS_READ),
        )
    except feed.CursorExpired as gone:
        raise ProblemError(
            410,
            "cursor_expired",
            "Entries after this cursor were purged (older than the retention). Start again "
            "without `after`.",
            oldest_cursor=str(gone.purged_through),
        ) from None
    except feed.CursorAhead as ahead:
        raise ProblemError(
            422,
            "cursor_unknown",
            f"No entry of yours has this cursor yet (your newest is {ahead.newest}): pass a "
            "cursor you were given, or none to start from the oldest kept.",
            newest_cursor=str(ahead.newest),
        ) from None
    return FeedPage(
        events=[_entry(row) for row in page.entries],
        next_cursor=str(page.next_cursor),
        has_more=page.has_more,
    )
