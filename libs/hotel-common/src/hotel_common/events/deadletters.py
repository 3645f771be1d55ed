"""Dead letters as both buses show them: what a parked message carries, how it is described
without personal data, how a listing is paged and what a replay answers.

A parked message carries, besides the event, why and when it was parked: the consuming service,
the handler that failed, the attempts made, the last error (type and a short message that never
holds input values) and when it was first received and dead-lettered. On RabbitMQ these are
message headers (`HEADERS`), so they survive in the queue with the message itself.

Paging: a dead-letter queue can only be read from its head, so a page reads the messages before
it and its own, no more. The cursor names the last item shown by its position, its id and when it
was parked: the next page starts after that id if it is still there (the usual case), else after
the position it had, keeping only items parked after it. Items can only move towards the head
(ones before them replayed), never away from it, so the id is found within `position + 1` reads.
"""

import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from hotel_common.errors import ProblemError
from hotel_common.events.envelope import Envelope
from hotel_common.pagination import Page, decode_cursor, encode_cursor

ATTEMPT_HEADER = "x-attempt"
SERVICE_HEADER = "x-service"
HANDLER_HEADER = "x-handler"
ERROR_TYPE_HEADER = "x-error-type"
ERROR_HEADER = "x-error"
FIRST_RECEIVED_HEADER = "x-first-received-at"
DEAD_LETTERED_HEADER = "x-dead-lettered-at"
HEADERS = (
    ATTEMPT_HEADER,
    SERVICE_HEADER,
    HANDLER_HEADER,
    ERROR_TYPE_HEADER,
    ERROR_HEADER,
    FIRST_RECEIVED_HEADER,
    DEAD_LETTERED_HEADER,
)
ERROR_MAX_CHARS = 300
Handler = Callable[[Envelope], Awaitable[None]]  # as in bus.py, which imports this module
UNREADABLE = "unreadable message"


class DeadLetter(BaseModel):
    """One parked message: the event (None if its body could not be read) and why it is here."""

    id: str = Field(description="The event id (the message id of an unreadable message)")
    type: str | None = Field(default=None, description="The event type, if known")
    service: str
    handler: str | None = Field(default=None, description="The handler that failed, if one did")
    attempts: int = Field(description="Deliveries tried before parking")
    error_type: str | None = None
    error: str | None = Field(
        default=None, description="Short description of the last error; never input values"
    )
    first_received_at: datetime | None = None
    dead_lettered_at: datetime | None = None
    envelope: Envelope | None = None


class ReplayResult(BaseModel):
    replayed: list[str] = Field(description="Ids moved back to the service's queue, once each")
    not_found: list[str] = Field(
        default_factory=list,
        description="Requested ids not parked, or held at that moment by another replica",
    )


class ReplaySelection(BaseModel):
    """Body of `POST /admin/dead-letters/replay`: a list of ids, or every parked message."""

    ids: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=500
    )
    all: bool = False


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


# -- the failed handler and its error, safe to store ------------------------------------------
_HANDLER_ATTR = "_hotel_failed_handler"
# A handler's stable name, set by the subscription (inbox.idempotent): "transfer.open_pickup".
NAME_ATTR = "subscription_name"


def handler_name(handler: Any) -> str:
    name = getattr(handler, NAME_ATTR, None)
    if isinstance(name, str):
        return name
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"


def naming_failures(handler: Handler) -> Handler:
    """Wrap `handler` so an exception it raises says which handler raised it."""
    name = handler_name(handler)

    @functools.wraps(handler)
    async def run(envelope: Envelope) -> None:
        try:
            await handler(envelope)
        except Exception as exc:
            if not hasattr(exc, _HANDLER_ATTR):
                setattr(exc, _HANDLER_ATTR, name)
            raise

    return run


def failed_handler(exc: BaseException) -> str | None:
    return getattr(exc, _HANDLER_ATTR, None)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(type, short message) of `exc`, with no input values: a dead letter must not become a
    second copy of guest data. Validation errors keep only locations and error types; database
    errors only the driver's first line (the statement and its parameters follow it)."""
    kind = type(exc).__name__
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['type']}"
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        text = f"{exc.error_count()} validation error(s): " + "; ".join(parts)
    else:
        orig = getattr(exc, "orig", None)  # sqlalchemy's DBAPIError wraps the driver's error
        source = orig if isinstance(orig, BaseException) else exc
        if source is not exc:
            kind = f"{kind}({type(source).__name__})"
        text = str(source).strip().splitlines()[0] if str(source).strip() else ""
    if len(text) > ERROR_MAX_CHARS:
        text = text[: ERROR_MAX_CHARS - 1] + "…"
    return kind, text


def failure_headers(
    service: str, exc: BaseException, attempts: int, first_received_at: str
) -> dict[str, Any]:
    """What a message retried or parked after `exc` carries (None values are left out)."""
    kind, text = describe_error(exc)
    headers = {
        ATTEMPT_HEADER: attempts,
        SERVICE_HEADER: service,
        HANDLER_HEADER: failed_handler(exc),
        ERROR_TYPE_HEADER: kind,
        ERROR_HEADER: text,
        FIRST_RECEIVED_HEADER: first_received_at,
    }
    return {k: v for k, v in headers.items() if v is not None}


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, bytes):
        value = value.decode()
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else (None if value is None else str(value))


def from_parts(message_id: str | None, body: bytes | None, headers: dict[str, Any]) -> DeadLetter:
    """The dead letter a parked message (its id, body and headers) shows."""
    envelope = None
    if body is not None:
        try:
            envelope = Envelope.from_bytes(body)
        except (ValidationError, ValueError, json.JSONDecodeError):
            envelope = None
    return DeadLetter(
        id=(envelope.id if envelope else None) or message_id or "",
        type=envelope.type if envelope else None,
        service=_text(headers.get(SERVICE_HEADER)) or "",
        handler=_text(headers.get(HANDLER_HEADER)),
        attempts=int(headers.get(ATTEMPT_HEADER) or 0),
        error_type=_text(headers.get(ERROR_TYPE_HEADER)),
        error=_text(headers.get(ERROR_HEADER)),
        first_received_at=_instant(headers.get(FIRST_RECEIVED_HEADER)),
        dead_lettered_at=_instant(headers.get(DEAD_LETTERED_HEADER)),
        envelope=envelope,
    )


# -- paging -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Position:
    index: int
    at: str
    id: str


def _key(item: DeadLetter) -> tuple[str, str]:
    at = item.dead_lettered_at
    return (at.astimezone(UTC).isoformat() if at else "", item.id)


def _decode(cursor: str | None) -> _Position | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    index, _, rest = raw.partition("|")
    at, _, ident = rest.partition("|")
    try:
        return _Position(int(index), at, ident)
    except ValueError as exc:
        raise ProblemError(400, "invalid_cursor", "The cursor is not one this API issued.") from exc


class PageCollector:
    """Feed it the parked messages in queue order until `full`; then `page()` is the page.

    Reading stops as soon as the page and one more item (to know a next page exists) are in.
    """

    def __init__(self, limit: int, cursor: str | None) -> None:
        self.limit = limit
        self.after = _decode(cursor)
        self._seen = 0
        self._found = self.after is None  # first page: everything belongs to it
        self._before: list[tuple[int, DeadLetter]] = []  # read before the cursor's item
        self._items: list[tuple[int, DeadLetter]] = []

    @property
    def full(self) -> bool:
        return len(self._items) > self.limit

    def add(self, item: DeadLetter) -> None:
        index, self._seen = self._seen, self._seen + 1
        after = self.after
        if self._found or after is None:
            self._items.append((index, item))
        elif item.id == after.id:
            self._found, self._before = True, []
        elif index <= after.index:
            self._before.append((index, item))
        else:  # past where the cursor's item was: it left the queue
            self._fall_back()
            self._items.append((index, item))

    def _fall_back(self) -> None:
        assert self.after is not None
        mark = (self.after.at, self.after.id)
        self._items = [(i, d) for i, d in self._before if _key(d) > mark] + self._items
        self._found, self._before = True, []

    def page(self) -> Page[DeadLetter]:
        if not self._found:
            self._fall_back()
        kept = self._items[: self.limit]
        cursor = None
        if len(self._items) > self.limit:
            index, last = kept[-1]
            at, ident = _key(last)
            cursor = encode_cursor(f"{index}|{at}|{ident}")
        return Page[DeadLetter](items=[d for _, d in kept], next_cursor=cursor)


def wanted_ids(ids: Sequence[str] | None) -> dict[str, None] | None:
    """The ids asked for, in order, each once (None: every parked message)."""
    return None if ids is None else dict.fromkeys(ids)
