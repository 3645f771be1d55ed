"""Idempotency-Key for POSTs, and bounded request bodies.

A POST with an `Idempotency-Key` runs whole in ONE transaction on one connection:
1. the key's row is inserted (the claim);
2. the route runs, its session joined to that transaction (`deps.get_session`), so the route's
   own commit() or rollback() only releases or rolls back a savepoint;
3. the answer (status, replayed headers, body) is written into the key's row;
4. the transaction commits, after-commit hooks run (db.RequestTransaction), and only then is
   the answer sent.
The effect and its answer therefore commit together or not at all: a client that got an answer
finds it stored, and a retry gets it again (marked `Idempotent-Replayed: true`). A 5xx, an
exception or a crash before the commit leaves neither effect nor key, so the retry runs for
real. Nothing "in progress" is ever committed, so nothing needs taking over after a crash.

Concurrency: a twin (same key) inserting the same row waits on the key's unique index until
the first attempt's transaction ends, then replays its answer if it committed or claims the
key if it rolled back. PostgreSQL bounds that wait (`lock_timeout` = idempotency_wait_seconds,
then 409 `request_in_progress`). SQLite has one writer and one pooled connection per service
(db.py): requests queue for the connection, and a twin runs once the first has committed. So
nothing in a request may open a second session while this one holds the connection.

A key belongs to its caller and its endpoint: the row is keyed by a hash of the principal's
`idempotency_owner`, the method, the path and the client's key, so another client sending the
same key (and body) runs its own request and never receives the first one's answer.

The fingerprint is the method, path, query and the body in canonical form (JSON parsed and
re-serialised with sorted keys; other bodies as raw bytes): the same JSON spelled differently
is the same request, and another request under a used key gets 422 `idempotency_key_reused`.

Every request body (POST, PUT, PATCH, DELETE) is read here first, up to `max_body_bytes`
(413 `request_too_large`) and within `body_read_timeout_seconds` (408), before any database
work.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Text, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import Field, SQLModel, col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotel_common.db import REQUEST_TRANSACTION, RequestTransaction
from hotel_common.errors import database_unavailable, document_problems, is_database_outage
from hotel_common.errors import problem as problem_response
from hotel_common.errors import problems as problem_responses
from hotel_common.principal import SCOPE_KEY, Principal
from hotel_common.settings import ServiceSettings
from hotel_common.time import utcnow

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
REPLAY_MARKER = (b"idempotent-replayed", b"true")
# Headers a replay repeats besides the body; per-request ones (X-Request-ID, Date) are not.
REPLAYED = (b"content-type", b"location", b"etag")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_PATTERN = "^[\\x20-\\x7e]+$"  # 1-255 printable ASCII characters
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout passed


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    # Always set when committed now; NULL only in rows an earlier version left half-done.
    status_code: int | None = None
    headers: str | None = Field(default=None, sa_type=Text)  # JSON: replayed headers (Location)
    body: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class _BodyRefused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.response = problem_response(status, code, detail)


class IdempotencyMiddleware:
    def __init__(
        self, app: ASGIApp, engine: Callable[[], AsyncEngine], settings: ServiceSettings
    ) -> None:
        self.app = app
        self.engine = engine  # resolved per request: the engine exists only after start-up
        self.max_body = settings.max_body_bytes
        self.read_timeout = settings.body_read_timeout_seconds
        self.wait = settings.idempotency_wait_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        try:
            body = await self._read_body(headers, receive)
        except _BodyRefused as refused:
            await refused.response(scope, receive, send)
            return
        if body is None:
            return  # the client went away before sending its request
        receive = _replaying(body, receive)
        key = headers.get(HEADER)
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not 0 < len(key) <= 255 or not all(0x20 <= b <= 0x7E for b in key):
            await problem_response(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 printable ASCII characters.",
            )(scope, receive, send)
            return
        try:
            answer = await self._once(scope, receive, scoped_key(scope, key), body)
        except Exception as exc:
            if not is_database_outage(exc):
                raise  # a bug: rolled back; the app's catch-all answers 500
            log.warning("database unavailable", extra={"error": type(exc).__name__})
            answer = database_unavailable()
        await answer(scope, receive, send)

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes | None:
        """The whole body, or None if the client disconnected; refused if too large or slow."""
        too_large = _BodyRefused(
            413, "request_too_large", f"The request body exceeds {self.max_body} bytes."
        )
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            raise too_large  # refused before reading a byte of it
        parts: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.read_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        raise too_large
                    parts.append(chunk)
                    if not message.get("more_body"):
                        return b"".join(parts)
        except TimeoutError:
            raise _BodyRefused(
                408,
                "request_body_timeout",
                f"The request body did not arrive within {self.read_timeout:g} s.",
            ) from None

    async def _once(self, scope: Scope, receive: Receive, key: str, body: bytes) -> ASGIApp:
        """Run the request in one transaction with its key's row; return the answer to send
        (sent only after the commit, and after the connection is back in the pool)."""
        fingerprints = (fingerprint(scope, body), _legacy_fingerprint(scope, body))
        async with self.engine().connect() as conn:
            outer = await conn.begin()
            try:
                earlier = await self._claim(conn, key, fingerprints)
                if earlier is not None:
                    await outer.rollback()
                    return earlier
                joined = RequestTransaction(conn)
                inner = {**scope, "state": {**scope.get("state", {}), REQUEST_TRANSACTION: joined}}
                answer = _Buffered()
                await self.app(inner, receive, answer.send)
                if answer.status >= 500:  # not an answer to repeat: no effect, no key
                    await outer.rollback()
                    return answer
                await conn.execute(
                    update(IdempotencyRecord)
                    .where(col(IdempotencyRecord.key) == key)
                    .values(
                        status_code=answer.status,
                        headers=json.dumps(answer.replayed_headers()),
                        body=answer.body.decode("utf-8", errors="replace"),
                    )
                )
                await outer.commit()
            except BaseException:
                with contextlib.suppress(Exception):  # the connection may be gone already
                    await outer.rollback()
                raise
        joined.committed()
        return answer

    async def _claim(
        self, conn: AsyncConnection, key: str, fingerprints: tuple[str, str]
    ) -> ASGIApp | None:
        """Insert the key's row for this attempt (None), or return what an earlier one decided."""
        postgres = conn.dialect.name == "postgresql"
        try:
            if postgres:  # bound the wait for a twin; only for the claim, not for the route
                previous = await conn.scalar(text("SELECT current_setting('lock_timeout')"))
                await conn.execute(
                    text("SELECT set_config('lock_timeout', :v, true)"),
                    {"v": f"{max(1, round(self.wait * 1000))}ms"},
                )
            for _ in range(3):
                if await self._claimed(conn, key, fingerprints[0]):
                    if postgres:
                        await conn.execute(
                            text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous}
                        )
                    return None
                record = (
                    await conn.execute(
                        select(
                            IdempotencyRecord.fingerprint,  # type: ignore[call-overload]
                            IdempotencyRecord.status_code,
                            IdempotencyRecord.headers,
                            IdempotencyRecord.body,
                        ).where(col(IdempotencyRecord.key) == key)
                    )
                ).one_or_none()
                if record is None:
                    continue  # purged in between: claim it again
                if record.fingerprint not in fingerprints:
                    return problem_response(
                        422,
                        "idempotency_key_reused",
                        "This Idempotency-Key was used with a different request.",
                    )
                return _replay(record.status_code, record.headers, record.body)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
        return problem_response(
            409,
            "request_in_progress",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        )

    @staticmethod
    async def _claimed(conn: AsyncConnection, key: str, fingerprint: str) -> bool:
        """Insert the key's row, waiting for a twin's transaction that holds the same key; or
        take over a row an earlier version left without an answer (only one retry can: the
        row lock and the condition let the others see the answer instead)."""
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        inserted = await conn.execute(
            insert(IdempotencyRecord)
            .values(key=key, fingerprint=fingerprint, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["key"])
        )
        if inserted.rowcount == 1:
            return True
        taken = await conn.execute(
            update(IdempotencyRecord)
            .where(
                col(IdempotencyRecord.key) == key,
                col(IdempotencyRecord.status_code).is_(None),
            )
            .values(fingerprint=fingerprint, created_at=utcnow())
        )
        return bool(taken.rowcount == 1)


def scoped_key(scope: Scope, key: bytes) -> str:
    """The stored key: the client's, within its caller, method and path (64 hex characters)."""
    principal: Principal | None = scope.get(SCOPE_KEY)
    owner = principal.idempotency_owner if principal is not None else ""
    return stored_key(owner, scope["method"], scope["path"], key)


def stored_key(owner: str, method: str, path: str, key: bytes) -> str:
    digest = hashlib.sha256()
    for part in (owner.encode(), method.encode(), path.encode(), key):
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.hexdigest()


def fingerprint(scope: Scope, body: bytes) -> str:
    """What makes two requests the same: method, path, query and the body in canonical form."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        canonical = b"raw:" + body
    else:
        canonical = b"json:" + json.dumps(
            parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8", errors="surrogatepass")
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b"")):
        digest.update(part + b"\n")
    digest.update(canonical)
    return digest.hexdigest()


def _legacy_fingerprint(scope: Scope, body: bytes) -> str:
    # The raw-bytes fingerprint of earlier versions, so a key stored before an upgrade still
    # replays (keys live for idempotency_key_retention_hours).
    raw = scope["path"].encode() + b"\n" + scope.get("query_string", b"") + b"\n" + body
    return hashlib.sha256(raw).hexdigest()


class _Buffered:
    """The route's response, held until its answer has committed; then an ASGI app sending it."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start else 500

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def replayed_headers(self) -> list[tuple[str, str]]:
        return [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in (self.start or {}).get("headers", [])
            if k.lower() in REPLAYED
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.start is None:
            raise RuntimeError("the app sent no response")
        await send(self.start)
        await send({"type": "http.response.body", "body": self.body})


def _replay(status: int | None, headers: str | None, body: str | None) -> ASGIApp:
    content = (body or "").encode()
    replayed = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(headers or "[]")]
    replayed += [(b"content-length", str(len(content)).encode()), REPLAY_MARKER]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": replayed})
        await send({"type": "http.response.body", "body": content})

    return app


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the app the body read already, then what the client sends next
    (its disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: a request repeated with the same key and the same request (JSON "
        "compared by value) gets the first answer again, marked `Idempotent-Replayed: true`, "
        "and does nothing more. Another request under a used key gets 422; a retry while the "
        "first is still running waits for it, or gets 409 after a while. Keys are kept 24 h."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
}
REPLAYED_HEADER: dict[str, Any] = {
    "description": "`true` when this is the stored answer to an earlier request with the "
    "same Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}
# What the Idempotency-Key and the body bounds add to every POST: (status, code, meaning).
_POST_PROBLEMS = (
    (400, "invalid_idempotency_key", "the Idempotency-Key is not 1-255 printable ASCII"),
    (408, "request_body_timeout", "the body arrived too slowly"),
    (409, "request_in_progress", "a request with this Idempotency-Key is still running"),
    (413, "request_too_large", "the body is larger than the service accepts"),
    (422, "idempotency_key_reused", "this Idempotency-Key was used for another request"),
)


def document_idempotency(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declare on every POST operation the Idempotency-Key header, the replay marker on its
    answers and the problems the key and the body bounds add. Changes `openapi` in place."""
    for item in (openapi.get("paths") or {}).values():
        operation = item.get("post") if isinstance(item, dict) else None
        if not isinstance(operation, dict):
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name", "").lower() == "idempotency-key" for p in parameters):
            parameters.append(KEY_PARAMETER)
        responses = operation.setdefault("responses", {})
        for status, response in responses.items():
            if str(status).startswith("2") and isinstance(response, dict):
                response.setdefault("headers", {})["Idempotent-Replayed"] = REPLAYED_HEADER
        for status, code, meaning in _POST_PROBLEMS:
            existing = responses.get(str(status))
            if not isinstance(existing, dict):
                responses[str(status)] = problem_responses({status: f"{code}: {meaning}"})[status]
            elif code not in existing.get("description", ""):
                existing["description"] = f"{existing.get('description', '')}; or {code}"
    return document_problems(openapi)  # adds the Problem schema the new responses refer to
