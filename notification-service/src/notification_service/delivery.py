"""The sender: delivers queued notices after their transaction commits, retries with growing
delay, and never sends one notice twice when several replicas run.

A sender claims due rows by moving their `next_attempt_at` forward by a lease, in one short
transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so replicas take different rows; SQLite:
the IMMEDIATE write lock serialises claims). It sends outside any transaction, then records
the outcome only if its lease still holds. A sender that dies mid-batch leaves its rows to be
claimed again once the lease runs out: at-least-once, like any mail relay.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib
from hotel_common.db import SessionFactory, transaction
from hotel_common.service import Runtime, settings_as
from hotel_common.time import as_utc, utcnow
from sqlalchemy import func, update
from sqlmodel import col, select

from notification_service.config import Settings
from notification_service.mailer import (
    Mailer,
    PermanentFailure,
    SmtpTarget,
    build_message,
    describe_error,
)
from notification_service.models import Notification

log = logging.getLogger(__name__)

EXTRA_KEY = "delivery"

# The server itself is unreachable: the rest of the batch would fail the same way.
_CONNECTION_ERRORS = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPTimeoutError,
    TimeoutError,
    OSError,
)


@dataclass(frozen=True)
class _Outcome:
    id: str
    lease: datetime
    status: str  # sent | logged | queued (transient failure) | failed
    attempts: int
    error: str | None = None
    retry_at: datetime | None = None


class Delivery:
    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.target = SmtpTarget.parse(settings.smtp_url) if settings.smtp_url else None
        self.lock_rows = not settings.is_sqlite
        # Outlasts a whole batch: each message, connecting included, and the closing QUIT are
        # each bounded by smtp_timeout.
        self.lease = timedelta(seconds=settings.smtp_timeout * (settings.delivery_batch_size + 2))
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that queued a notice (hotel_common.db.after_commit)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled: on every wake-up, and by polling as a safety net."""
        while True:
            delay = self.settings.delivery_poll_seconds
            try:
                while await self.deliver_due() == self.settings.delivery_batch_size:
                    pass
                if (due := await self._next_due()) is not None:
                    delay = min(delay, max((due - utcnow()).total_seconds(), 0.01))
            except Exception:
                log.exception("notice delivery pass failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Claim one batch of due notices, deliver them, record the outcomes; return the count."""
        rows, lease = await self._claim()
        if rows:
            await self._record(await self._deliver(rows, lease))
        return len(rows)

    async def _claim(self) -> tuple[list[Notification], datetime]:
        now = utcnow()
        lease = now + self.lease
        async with transaction(self.sessions) as session:
            query = (
                select(Notification)
                .where(Notification.status == "queued", col(Notification.next_attempt_at) <= now)
                .order_by(col(Notification.next_attempt_at), col(Notification.created_at))
                .limit(self.settings.delivery_batch_size)
            )
            if self.lock_rows:
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.exec(query)).all())
            if rows:
                await session.exec(
                    update(Notification)
                    .where(col(Notification.id).in_([r.id for r in rows]))
                    .values(next_attempt_at=lease)
                )
        return rows, lease

    async def _deliver(self, rows: list[Notification], lease: datetime) -> list[_Outcome]:
        if self.target is None:
            for row in rows:
                log.info(
                    "no SMTP server configured; notice kept in the delivery log",
                    extra={"notification_id": row.id, "kind": row.kind},
                )
            return [_Outcome(r.id, lease, "logged", r.attempts) for r in rows]
        outcomes: list[_Outcome] = []
        down: BaseException | None = None
        async with Mailer(self.target, self.settings.smtp_timeout) as mailer:
            for row in rows:
                if down is not None:
                    outcomes.append(self._failure(row, lease, down))
                    continue
                try:
                    await mailer.send(
                        build_message(
                            notification_id=row.id,
                            mail_from=self.settings.mail_from,
                            recipient=row.recipient,
                            subject=row.subject,
                            body=row.body,
                        )
                    )
                except Exception as exc:
                    outcomes.append(self._failure(row, lease, exc))
                    if isinstance(exc, _CONNECTION_ERRORS):
                        down = exc
                else:
                    outcomes.append(_Outcome(row.id, lease, "sent", row.attempts + 1))
        return outcomes

    def _failure(self, row: Notification, lease: datetime, exc: BaseException) -> _Outcome:
        attempts = row.attempts + 1
        error = describe_error(exc)
        if isinstance(exc, PermanentFailure) or attempts >= self.settings.delivery_max_attempts:
            return _Outcome(row.id, lease, "failed", attempts, error)
        delays = self.settings.delivery_backoff_seconds
        retry_at = utcnow() + timedelta(seconds=delays[min(attempts, len(delays)) - 1])
        return _Outcome(row.id, lease, "queued", attempts, error, retry_at)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = utcnow()
        async with transaction(self.sessions) as session:
            for o in outcomes:
                values: dict[str, object] = {"status": o.status, "attempts": o.attempts}
                if o.status == "queued":
                    values |= {"next_attempt_at": o.retry_at, "last_error": o.error}
                else:
                    values["next_attempt_at"] = None
                if o.status == "failed":
                    values["last_error"] = o.error
                if o.status == "sent":
                    values["sent_at"] = now
                result = await session.exec(
                    update(Notification)
                    .where(
                        col(Notification.id) == o.id,
                        col(Notification.status) == "queued",
                        col(Notification.next_attempt_at) == o.lease,  # our claim still holds
                    )
                    .values(**values)
                )
                if result.rowcount != 1:
                    log.warning("lease lost before the outcome was recorded", extra={"id": o.id})
        for o in outcomes:
            _log_outcome(o)

    async def _next_due(self) -> datetime | None:
        async with self.sessions() as session:
            due = await session.scalar(
                select(func.min(Notification.next_attempt_at)).where(
                    Notification.status == "queued"
                )
            )
        return None if due is None else as_utc(due)


def _log_outcome(o: _Outcome) -> None:
    extra = {"notification_id": o.id, "attempts": o.attempts, "error": o.error}
    if o.status == "sent":
        log.info("notice sent", extra=extra)
    elif o.status == "queued":
        log.warning("notice delivery failed; will retry", extra=extra)
    elif o.status == "failed":
        log.error("notice delivery failed for good", extra=extra)


async def start(runtime: Runtime) -> None:
    """ServiceSpec.on_start: build the sender before handlers subscribe (they wake it)."""
    runtime.extras[EXTRA_KEY] = Delivery(runtime.sessions, settings_as(runtime, Settings))


def delivery_of(runtime: Runtime) -> Delivery:
    delivery: Delivery = runtime.extras[EXTRA_KEY]
    return delivery


async def deliver_forever(runtime: Runtime) -> None:
    """ServiceSpec worker."""
    await delivery_of(runtime).run()
