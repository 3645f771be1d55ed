"""Liveness, readiness, dead-letter and outbox operations, mounted on every service."""

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hotel_common.db import ping
from hotel_common.errors import NotFound, ProblemError, problem, problems
from hotel_common.events.bus import PublishRefused
from hotel_common.events.deadletters import DeadLetter, ReplayResult, ReplaySelection
from hotel_common.events.outbox import OutboxMessage
from hotel_common.pagination import Cursor, Limit, Page, PagingDep
from hotel_common.time import as_utc

router = APIRouter(tags=["operations"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", response_model=None)
async def ready(request: Request) -> JSONResponse | dict[str, Any]:
    runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(ping(runtime.engine), timeout=3)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    checks["bus"] = "ok" if await runtime.bus.ready() else "down or queue without consumer"
    ready = all(v == "ok" for v in checks.values())
    # Reported, never failing readiness: every replica shares the database, so a parked row
    # would take them all out of the gateway at once, and a restart does not fix it.
    checks["outbox"] = await _parked(runtime) if checks["database"] == "ok" else "unknown"
    if ready:
        return {"status": "ready", "checks": checks}
    return problem(
        503, "not_ready", f"{runtime.settings.service_name} is not ready.", checks=checks
    )


DEAD_LETTER_PROBLEMS = problems(
    {503: "The broker cannot be reached", 502: "The broker refused to take a message back"}
)


@contextlib.contextmanager
def _broker_problems() -> Iterator[None]:
    try:
        yield
    except ConnectionError as exc:
        raise ProblemError(503, "broker_unavailable", "The broker cannot be reached.") from exc
    except PublishRefused as exc:
        raise ProblemError(502, "broker_refused", "The broker refused to take a message.") from exc


@router.get("/admin/dead-letters", responses=DEAD_LETTER_PROBLEMS)
async def dead_letters(
    request: Request, limit: Limit = 50, cursor: Cursor = None
) -> Page[DeadLetter]:
    """Parked messages, oldest first, with why they were parked; the queue is left as it was.

    Reads only the messages before and on the page. Another replica reading or replaying at the
    same moment holds some messages: they are missing from this page (see docs/DECISIONS.md).
    """
    with _broker_problems():
        page: Page[DeadLetter] = await request.app.state.runtime.bus.dead_letters(limit, cursor)
    return page


@router.post(
    "/admin/dead-letters/replay",
    responses=DEAD_LETTER_PROBLEMS | problems({422: "Neither `ids` nor `all` given, or both"}),
)
async def replay_dead_letters(
    request: Request, selection: Annotated[ReplaySelection, Body()]
) -> ReplayResult:
    """Replay the parked messages with `ids`, or all of them with `{"all": true}`: each once,
    its attempts reset."""
    if (selection.ids is None) == (not selection.all):
        raise ProblemError(
            422, "replay_selection_required", 'Give either "ids" or "all": true, not both.'
        )
    with _broker_problems():
        result: ReplayResult = await request.app.state.runtime.bus.replay_dead_letters(
            None if selection.all else selection.ids
        )
    return result


@router.post(
    "/admin/dead-letters/{event_id}/replay",
    responses=DEAD_LETTER_PROBLEMS | problems({404: "No parked message with this id"}),
)
async def replay_dead_letter(
    request: Request, event_id: Annotated[str, Path(max_length=200)]
) -> ReplayResult:
    """Replay one parked message, its attempts reset."""
    with _broker_problems():
        result: ReplayResult = await request.app.state.runtime.bus.replay_dead_letters([event_id])
    if not result.replayed:
        raise NotFound("dead_letter", event_id)
    return result


async def _parked(runtime: Any) -> str:
    try:
        parked: int = await asyncio.wait_for(runtime.relay.parked_count(), timeout=3)
    except Exception as exc:
        return f"unknown: {type(exc).__name__}"
    return f"{parked} parked" if parked else "ok"


class OutboxRow(BaseModel):
    """An outbox row as operations see it: ids and error, never the payload (guest data)."""

    id: str
    seq: int
    type: str
    attempts: int
    last_error: str | None
    created_at: datetime
    parked_at: datetime | None
    published_at: datetime | None

    @classmethod
    def of(cls, row: OutboxMessage) -> "OutboxRow":
        def utc(instant: datetime | None) -> datetime | None:
            return as_utc(instant) if instant else None

        return cls(
            id=row.id,
            seq=row.seq or 0,
            type=row.type,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=as_utc(row.created_at),
            parked_at=utc(row.parked_at),
            published_at=utc(row.published_at),
        )


class OutboxState(BaseModel):
    """Counts of outbox rows, and a page of the parked ones (oldest first)."""

    pending: int
    parked: int
    kept: int
    published_by_this_process: int
    items: list[OutboxRow]
    next_cursor: str | None = None


@router.get("/admin/outbox", responses=problems({400: "invalid_cursor"}))
async def outbox(request: Request, paging: PagingDep) -> OutboxState:
    relay = request.app.state.runtime.relay
    after = paging.position(int)
    rows = await relay.parked(after[0] if after else None, paging.limit + 1)
    page = paging.page(rows, lambda r: (r.seq,))
    return OutboxState(
        **await relay.counts(),
        published_by_this_process=relay.published,
        items=[OutboxRow.of(r) for r in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("/admin/outbox/retry")
async def retry_parked_outbox_rows(request: Request) -> dict[str, int]:
    """Un-park every parked row: each gets its attempts again."""
    return {"retried": await request.app.state.runtime.relay.retry()}


@router.post(
    "/admin/outbox/{event_id}/retry",
    responses=problems({404: "outbox_row_not_found", 409: "outbox_row_not_parked"}),
)
async def retry_outbox_row(request: Request, event_id: str) -> OutboxRow:
    """Un-park one row (by its event id), once what made it fail is fixed."""
    relay = request.app.state.runtime.relay
    retried = await relay.retry(event_id)
    row = await relay.row(event_id)
    if row is None:
        raise ProblemError(404, "outbox_row_not_found", "No outbox row has this event id.")
    if not retried:
        raise ProblemError(409, "outbox_row_not_parked", "This outbox row is not parked.")
    return OutboxRow.of(row)
