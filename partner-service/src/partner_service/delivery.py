"""Webhook deliveries: each subscription's entries, in cursor order, at least once.

One loop per process claims due subscriptions (a lease, see subscriptions.py) up to
`webhook_concurrency` at once and runs each in a task of its own: a slow or dead receiver holds
only its own subscription's task. A subscription's task sends one entry at a time:

- 2xx: `delivered_through` moves to it, the next one goes at once;
- timeout, connection error, 5xx, 408, 429, a refused target: the same entry again after a
  growing delay (`webhook_backoff_seconds`, the last one repeating; a Retry-After is honoured up
  to the longest step); the subscription waits, the others do not;
- 3xx (never followed) and other 4xx: recorded as not retried, and it moves on;
- no success for `webhook_disable_after_seconds`: disabled, and WebhookSubscriptionDisabled
  goes to the outbox in the same transaction (notification-service emails the contact).

Redelivery jobs are sent by the same task once the subscription has caught up with its feed.
New feed entries wake the loop at once (`runtime.extras["feed_wake"]`, called after the feed
entry commits); `webhook_poll_seconds` is the safety net (and how another replica's entries
are seen).
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from hotel_common.contracts.partners import WebhookSubscriptionDisabled
from hotel_common.events.outbox import add_event
from hotel_common.service import Runtime
from hotel_common.time import utcnow
from sqlalchemy import delete, exists, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from partner_service import signing
from partner_service.config import Settings
from partner_service.models import FeedEntry, FeedPartner
from partner_service.outbound import Answer, Outbound
from partner_service.subscriptions import (
    ACTIVE,
    ALL_TYPES,
    DELIVERED,
    FAILED,
    NOT_RETRIED,
    REFUSED,
    DeliveryAttempt,
    Redelivery,
    WebhookSubscription,
    bounded,
    disable,
)

log = logging.getLogger(__name__)
STOP_SECONDS = 5.0  # at most this long to stop a sender (its tasks, releasing a lease)

SENDER = "webhook_sender"
WAKE = "feed_wake"
OUTBOUND = "webhook_outbound"
RETRIED_4XX = frozenset({408, 429})
PRUNE_EVERY_SECONDS = 3600.0


def body_of(entry: FeedEntry) -> bytes:
    """What a delivery carries: the entry as the feed shows it."""
    occurred = entry.occurred_at.isoformat().replace("+00:00", "Z")
    document = {
        "id": entry.event_id,
        "cursor": str(entry.seq),
        "type": entry.event_type,
        "occurred_at": occurred,
        "reservation_id": entry.reservation_id,
        # As the feed shows it: two events of one booking that crossed on the bus are sent in
        # their order of arrival, and only the version tells the receiver which is newer.
        "aggregate_version": entry.aggregate_version,
        "payload": entry.payload,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def outcome_of(answer: Answer) -> str:
    code = answer.status_code
    if code is None:
        return REFUSED if (answer.error or "").startswith("refused") else FAILED
    if 200 <= code < 300:
        return DELIVERED
    if code >= 500 or code in RETRIED_4XX:
        return FAILED
    return NOT_RETRIED


@dataclass
class Next:
    """The entry a subscription sends next (and the redelivery job it belongs to, if any)."""

    entry: FeedEntry
    job_id: str | None
    url: str
    secrets: list[str]
    attempt: int


class Sender:
    def __init__(self, runtime: Runtime[Settings]) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.outbound: Outbound = runtime.extras.setdefault(OUTBOUND, Outbound(runtime.settings))
        self.owner = uuid.uuid4().hex  # this process's lease name
        self._wake = asyncio.Event()
        self.running: dict[str, asyncio.Task[None]] = {}

    def wake(self) -> None:
        self._wake.set()

    @property
    def lease(self) -> timedelta:
        # Outlives one attempt (renewed at each) by a wide margin. An attempt is the name's
        # resolution (bounded by the connect timeout, outbound.py) plus the request (the total
        # timeout): a lease running out mid-attempt lets another replica send newer entries
        # while this one still posts an older one (out of cursor order).
        attempt = (
            self.settings.webhook_connect_timeout_seconds + self.settings.webhook_timeout_seconds
        )
        return timedelta(seconds=attempt * 2 + 30)

    async def prune(self, now: datetime) -> int:
        """Drop delivery attempts and finished redelivery jobs older than the feed keeps
        entries (`feed_retention_days`): the log explains what the feed still holds."""
        cutoff = now - timedelta(days=self.settings.feed_retention_days)
        async with self.runtime.sessions() as session:
            attempts = await session.exec(
                delete(DeliveryAttempt).where(col(DeliveryAttempt.at) < cutoff)
            )
            await session.exec(delete(Redelivery).where(col(Redelivery.finished_at) < cutoff))
            await session.commit()
            return int(attempts.rowcount or 0)

    async def run_forever(self) -> None:
        next_prune = 0.0
        try:
            while True:
                self._wake.clear()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                    try:
                        await self.prune(utcnow())
                    except Exception:
                        log.exception("pruning the webhook delivery log failed")
                try:
                    await self.start_due()
                except Exception:  # a database hiccup: the next round tries again
                    log.exception("claiming due webhook subscriptions failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
        finally:
            for task in self.running.values():
                task.cancel()
            # Bounded: a sender stopping never holds the shutdown (a lease not released in
            # time runs out on its own).
            if self.running:
                await asyncio.wait(list(self.running.values()), timeout=STOP_SECONDS)

    async def start_due(self) -> None:
        room = self.settings.webhook_concurrency - len(self.running)
        if room <= 0:
            return
        now = utcnow()
        for sub_id in await self.due(now, room):
            if await self.claim(sub_id, now):
                task = asyncio.create_task(self.run_subscription(sub_id))
                self.running[sub_id] = task
                task.add_done_callback(self._on_done(sub_id))

    def _on_done(self, sub_id: str) -> Callable[[asyncio.Task[None]], None]:
        def finished(_task: asyncio.Task[None]) -> None:
            self.running.pop(sub_id, None)
            self._wake.set()  # room for another, and this one may have more by now

        return finished

    async def due(self, now: datetime, room: int) -> list[str]:
        """Active subscriptions not waiting for a retry nor leased elsewhere, with something
        to send: feed entries after their cursor, or an open redelivery job."""
        sub = WebhookSubscription
        pending = exists().where(
            col(FeedPartner.partner_id) == col(sub.partner_id),
            col(FeedPartner.last_seq) > col(sub.delivered_through),
        )
        job = exists().where(
            col(Redelivery.subscription_id) == col(sub.id), col(Redelivery.finished_at).is_(None)
        )
        query = (
            select(col(sub.id))
            .where(
                sub.status == ACTIVE,
                or_(col(sub.next_attempt_at).is_(None), col(sub.next_attempt_at) <= now),
                or_(col(sub.lease_until).is_(None), col(sub.lease_until) < now),
                or_(pending, job),
                col(sub.id).not_in(list(self.running)),
            )
            .order_by(col(sub.next_attempt_at), col(sub.id))
            .limit(room)
        )
        async with self.runtime.sessions() as session:
            return list((await session.exec(query)).all())

    async def claim(self, sub_id: str, now: datetime) -> bool:
        """Take the lease if nobody holds it (compare-and-set: one replica wins)."""
        sub = WebhookSubscription
        statement = (
            update(sub)
            .where(
                col(sub.id) == sub_id,
                or_(col(sub.lease_until).is_(None), col(sub.lease_until) < now),
            )
            .values(lease_owner=self.owner, lease_until=now + self.lease)
        )
        async with self.runtime.sessions() as session:
            result = await session.exec(statement)
            await session.commit()
            return bool(result.rowcount == 1)

    async def release(self, sub_id: str) -> None:
        sub = WebhookSubscription
        statement = (
            update(sub)
            .where(col(sub.id) == sub_id, col(sub.lease_owner) == self.owner)
            .values(lease_owner=None, lease_until=None)
        )
        async with self.runtime.sessions() as session:
            await session.exec(statement)
            await session.commit()

    async def run_subscription(self, sub_id: str) -> None:
        client: httpx.AsyncClient | None = None
        upcoming: Next | None = None
        try:
            client = self.outbound.client()
            upcoming = await self.next_of(sub_id)
            while upcoming is not None:
                body = body_of(upcoming.entry)
                headers = signing.headers(
                    upcoming.secrets, upcoming.entry.event_id, int(time.time()), body
                )
                answer = await self.outbound.post(client, upcoming.url, body, headers)
                upcoming = await self.record(sub_id, upcoming, answer)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook subscription %s: sending failed", sub_id)
            if upcoming is not None:
                # Recorded as a failed attempt, so it backs off: otherwise the released lease
                # and the wake-up claim it again at once, a tight loop of sends (and nothing in
                # the partner's log) for as long as the cause lasts.
                failed = Answer(None, "internal error while sending (retried)", 0)
                try:
                    await self.record(sub_id, upcoming, failed)
                except Exception:
                    log.exception("webhook subscription %s: recording the failure failed", sub_id)
        finally:
            if client is not None:
                await client.aclose()
            try:
                # Bounded, also when cancelled: releasing is a courtesy (the lease runs out on
                # its own), never a reason for a stopping process to wait on its database.
                await asyncio.wait_for(self.release(sub_id), STOP_SECONDS)
            except Exception:
                log.warning("webhook subscription %s: lease not released", sub_id)

    async def next_of(self, sub_id: str) -> Next | None:
        """The next entry to send, renewing the lease; None when there is nothing (or the
        subscription is no longer ours, active or due)."""
        async with self.runtime.sessions() as session:
            sub = await self._mine(session, sub_id)
            now = utcnow()
            if sub is None or (sub.next_attempt_at is not None and sub.next_attempt_at > now):
                return None
            sub.lease_until = now + self.lease
            upcoming = await self._stream_next(session, sub)
            if upcoming is None:
                upcoming = await self._redelivery_next(session, sub)
            session.add(sub)
            await session.commit()
            return upcoming

    async def _locked(self, session: AsyncSession, sub_id: str) -> WebhookSubscription | None:
        query = select(WebhookSubscription).where(WebhookSubscription.id == sub_id)
        return (await session.exec(query.with_for_update())).first()

    def _is_mine(self, sub: WebhookSubscription | None) -> WebhookSubscription | None:
        if sub is None or sub.lease_owner != self.owner or sub.status != ACTIVE:
            return None
        return sub

    async def _mine(self, session: AsyncSession, sub_id: str) -> WebhookSubscription | None:
        return self._is_mine(await self._locked(session, sub_id))

    def _typed(self, sub: WebhookSubscription, query: Any) -> Any:
        if ALL_TYPES in sub.event_types:
            return query
        return query.where(col(FeedEntry.event_type).in_(sub.event_types))

    async def _stream_next(self, session: AsyncSession, sub: WebhookSubscription) -> Next | None:
        # The counter first: an entry numbered up to it has committed (feed.append writes both
        # in one transaction), so "none of my types up to it" lets the cursor jump there.
        counter = await session.get(FeedPartner, sub.partner_id, populate_existing=True)
        last = counter.last_seq if counter is not None else 0
        if last <= sub.delivered_through:
            return None
        query = self._typed(
            sub,
            select(FeedEntry).where(
                FeedEntry.partner_id == sub.partner_id,
                col(FeedEntry.seq) > sub.delivered_through,
                col(FeedEntry.seq) <= last,
            ),
        )
        entry = (await session.exec(query.order_by(col(FeedEntry.seq)).limit(1))).first()
        if entry is None:
            sub.delivered_through = last  # nothing of its types (or purged): skip ahead
            return None
        now = utcnow()
        return Next(entry, None, sub.url, sub.signing_secrets(now), sub.attempts + 1)

    async def _redelivery_next(
        self, session: AsyncSession, sub: WebhookSubscription
    ) -> Next | None:
        jobs = select(Redelivery).where(
            Redelivery.subscription_id == sub.id, col(Redelivery.finished_at).is_(None)
        )
        for job in (await session.exec(jobs.order_by(col(Redelivery.requested_at)))).all():
            query = self._typed(
                sub,
                select(FeedEntry).where(
                    FeedEntry.partner_id == sub.partner_id,
                    col(FeedEntry.seq) > job.done_through,
                    col(FeedEntry.seq) <= job.through_seq,
                ),
            )
            entry = (await session.exec(query.order_by(col(FeedEntry.seq)).limit(1))).first()
            if entry is None:
                job.finished_at = utcnow()
                session.add(job)
                continue
            now = utcnow()
            return Next(entry, job.id, sub.url, sub.signing_secrets(now), sub.attempts + 1)
        return None

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        steps = self.settings.webhook_backoff_seconds or [60.0]
        delay = steps[min(attempts, len(steps)) - 1]
        if retry_after is not None:  # honoured, within reason: never past the longest step
            delay = max(delay, min(retry_after, max(steps)))
        return delay

    async def record(self, sub_id: str, sent: Next, answer: Answer) -> Next | None:
        """Log the attempt and move the subscription on (or schedule the retry, or disable it),
        in one transaction; after a success, that transaction also takes the next entry to
        send and renews the lease (one transaction per delivery, not two: a subscription's
        deliveries are sequential, so this bounds its rate). None: stop for now."""
        outcome = outcome_of(answer)
        now = utcnow()
        async with self.runtime.sessions() as session:
            found = await self._locked(session, sub_id)
            if found is None:
                # Deleted while the POST was in flight: its delivery log went with it, and a
                # row logged now would be an orphan no partner can read.
                return None
            session.add(
                DeliveryAttempt(
                    subscription_id=sub_id,
                    event_id=sent.entry.event_id,
                    event_type=sent.entry.event_type,
                    seq=sent.entry.seq,
                    attempt=sent.attempt,
                    redelivery=sent.job_id is not None,
                    at=now,
                    duration_ms=answer.duration_ms,
                    status_code=answer.status_code,
                    outcome=outcome,
                    error=bounded(answer.error),
                )
            )
            sub = self._is_mine(found)
            if sub is None:  # lost the lease, or disabled meanwhile
                await session.commit()
                return None
            go_on = outcome in (DELIVERED, NOT_RETRIED)
            upcoming: Next | None = None
            if go_on:
                sub.reset_failing()
                if outcome == DELIVERED:
                    sub.last_delivered_at = now
                else:
                    sub.last_error = bounded(answer.error)
                await self._advance(session, sub, sent)
                sub.lease_until = now + self.lease
                upcoming = await self._stream_next(session, sub)
                if upcoming is None:
                    upcoming = await self._redelivery_next(session, sub)
            else:
                sub.attempts += 1
                sub.last_error = bounded(answer.error)
                sub.failing_since = sub.failing_since or now
                failing_for = (now - sub.failing_since).total_seconds()
                if failing_for >= self.settings.webhook_disable_after_seconds:
                    reason = f"no successful delivery for {int(failing_for)} s: {answer.error}"
                    add_event(session, WebhookSubscriptionDisabled(**disable(sub, reason, now)))
                else:
                    delay = self.backoff(sub.attempts, answer.retry_after)
                    sub.next_attempt_at = now + timedelta(seconds=delay)
            sub.updated_at = now
            session.add(sub)
            await session.commit()
            return upcoming

    async def _advance(self, session: AsyncSession, sub: WebhookSubscription, sent: Next) -> None:
        if sent.job_id is None:
            sub.delivered_through = max(sub.delivered_through, sent.entry.seq)
            return
        job = await session.get(Redelivery, sent.job_id)
        if job is not None:
            job.done_through = max(job.done_through, sent.entry.seq)
            if job.done_through >= job.through_seq:
                job.finished_at = utcnow()
            session.add(job)


async def prepare(runtime: Runtime[Settings]) -> None:
    """on_start: the sender exists before the feed's handlers are subscribed, so they find
    its wake-up in `runtime.extras["feed_wake"]`."""
    sender = Sender(runtime)
    runtime.extras[SENDER] = sender
    runtime.extras[WAKE] = sender.wake


async def deliver_forever(runtime: Runtime[Settings]) -> None:
    sender: Sender = runtime.extras.get(SENDER) or Sender(runtime)
    runtime.extras.setdefault(WAKE, sender.wake)
    await sender.run_forever()


def wake(runtime: Runtime[Any]) -> None:
    """Wake this process's sender (a new subscription, a re-enable, a redelivery)."""
    hook = runtime.extras.get(WAKE)
    if hook is not None:
        hook()
