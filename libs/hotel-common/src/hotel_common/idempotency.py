"""Idempotency-Key for POSTs: a retry with the same body gets the first answer, a reuse of the
key with another body gets 422, and a retry racing the first attempt gets 409.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Text, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotel_common.db import SessionFactory, transaction
from hotel_common.errors import problem
from hotel_common.time import as_utc, utcnow

HEADER = b"idempotency-key"
# Headers a replay repeats besides the body; per-request ones (X-Request-ID, Date) are not.
REPLAYED = (b"content-type", b"location", b"etag")
STALE_AFTER = timedelta(minutes=2)  # an attempt that died mid-way may be retried after this


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = None
    headers: str | None = Field(default=None, sa_type=Text)  # JSON: replayed headers (Location)
    body: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, sessions: Callable[[], SessionFactory]) -> None:
        self.app = app
        self.sessions = sessions  # resolved per request: the factory exists only after start-up

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = dict(scope.get("headers", [])).get(HEADER) if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not 0 < len(key) <= 255:
            await problem(
                400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 characters."
            )(scope, receive, send)
            return
        body = await _read_body(receive)
        fingerprint = hashlib.sha256(
            scope["path"].encode() + b"\n" + scope.get("query_string", b"") + b"\n" + body
        ).hexdigest()
        sessions = self.sessions()
        stored = await self._claim(sessions, key.decode("latin-1"), fingerprint)
        if stored is not None:
            await stored(scope, receive, send)
            return

        status, headers, chunks = 500, [], []

        async def replay_receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                    if k.lower() in REPLAYED
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            await self._finish(sessions, key.decode("latin-1"), status, headers, b"".join(chunks))

    async def _claim(self, sessions: SessionFactory, key: str, fingerprint: str) -> ASGIApp | None:
        """Claim the key for this attempt, or return the response an earlier one decided."""
        for _ in range(3):
            try:
                async with transaction(sessions) as session:
                    record = await session.get(IdempotencyRecord, key)
                    if record is None:
                        session.add(IdempotencyRecord(key=key, fingerprint=fingerprint))
                        return None
                    if record.fingerprint != fingerprint:
                        return problem(
                            422,
                            "idempotency_key_reused",
                            "This Idempotency-Key was used with a different request.",
                        )
                    if record.status_code is not None:
                        return _replay(record)
                    if utcnow() - as_utc(record.created_at) < STALE_AFTER:
                        return problem(
                            409,
                            "request_in_progress",
                            "A request with this Idempotency-Key is still being processed.",
                        )
                    record.created_at = utcnow()  # the earlier attempt died: take it over
                    return None
            except IntegrityError:
                continue  # a twin inserted first: read what it decided
        return problem(
            409, "request_in_progress", "Concurrent requests share this Idempotency-Key."
        )

    async def _finish(
        self,
        sessions: SessionFactory,
        key: str,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        async with transaction(sessions) as session:
            if status >= 500:  # not an answer worth repeating: let the client retry for real
                await session.exec(delete(IdempotencyRecord).where(IdempotencyRecord.key == key))  # type: ignore[arg-type]
                return
            record = await session.get(IdempotencyRecord, key)
            if record is not None:
                record.status_code = status
                record.headers = json.dumps(headers)
                record.body = body.decode("utf-8", errors="replace")


def _replay(record: IdempotencyRecord) -> ASGIApp:
    body = (record.body or "").encode()
    headers = [
        (k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(record.headers or "[]")
    ]
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": record.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})

    return app


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)
