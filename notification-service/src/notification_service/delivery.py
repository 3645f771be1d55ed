"""The sender: delivers queued notices after their transaction commits, retries with growing
delay, gives up by age, and never sends one notice twice when several replicas run.

A sender claims due rows by moving their `next_attempt_at` forward by a lease (and noting it
in `leased_until`), in one short transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so replicas
take different rows; SQLite: the IMMEDIATE write lock serialises claims). It sends outside any
transaction, and records each send's outcome right after that send, only if its lease still
holds. A sender that dies mid-batch leaves the notice in flight and the untried rest to be
claimed again once the lease runs out: at most the one in flight is sent twice, like any
mail relay (its Message-ID is stable, so a receiver can drop the copy).

Connection failures (unreachable, refused, timed out while connecting, login failed, hung up)
are the server's, not the notice's: they cost no attempt, the rest of the batch is released
untried, and the whole sender backs off (growing to a cap) until the server answers again.
A notice is given up when it is older than `delivery_give_up_after_seconds`, or at once on a
permanent failure (5xx for the recipient).

Ordering with the cancellation (the claim side of "nothing after the cancellation"): in the
claiming transaction, queued confirmations and pickups of a reservation that has a
cancellation notice become suppressed as `superseded` (unless a sender holds them right now), and a
cancellation is not claimed while an older notice of its reservation is being sent - it waits
for that one send at most, never for a retry that is due later.
"""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotel_common.db import SessionFactory, transaction
from hotel_common.service import Runtime
from hotel_common.tasks import raise_if_cancelled
from hotel_common.time import as_utc, utcnow
from sqlalchemy import and_, func, not_, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import bad_addresses, devices, erasure, staff_inbox, statuses
from notification_service.config import Settings
from notification_service.mailer import (
    Mailer,
    PermanentFailure,
    ServerUnavailable,
    SmtpTarget,
    build_message,
    describe_error,
)
from notification_service.models import Channel, Kind, Notification, Reason, Status
from notification_service.notices import CODE_SLOT
from notification_service.providers import (
    Accepted,
    ProviderChain,
    push_payload,
    sms_payload,
)

log = logging.getLogger(__name__)

EXTRA_KEY = "delivery"
CANCELLATION = Kind.RESERVATION_CANCELLED
# Notices a guest must not get after the cancellation of their booking.
OVERTAKEN_KINDS = (
    Kind.RESERVATION_CONFIRMED,
    Kind.TRANSFER_ASSIGNED,
    Kind.RESERVATION_MODIFIED,
    Kind.RESERVATION_EXPIRED,
    Kind.TRANSFER_RESCHEDULED,
    Kind.TRANSFER_REASSIGNED,
    # Issue 20: a reminder fired just before the cancellation and still waiting (the sender
    # busy or retrying) must not follow the cancellation either; dropping the scheduled
    # reminder does not reach a notice already queued.
    Kind.ARRIVAL_REMINDER,
    Kind.DEPARTURE_REMINDER,
    Kind.GUARANTEE_REMINDER,
)


@dataclass(frozen=True)
class _Outcome:
    id: str
    lease: datetime
    status: str  # sent | logged | queued (transient failure or untried) | failed | suppressed
    attempts: int
    error: str | None = None  # None: keep the last one
    retry_at: datetime | None = None
    reason: Reason | None = None
    accepted: Accepted | None = None  # the provider that took it, and its message id
    # Failed for good on this channel: fall back to the next one (once); `bad`: the (channel,
    # address) to remember as bad.
    fall_back: bool = False
    bad: tuple[str, str] | None = None


class NoDevices(Exception):
    """A push notice whose guest has no app device left: it goes on the next channel."""


class Delivery:
    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.target = SmtpTarget.parse(settings.smtp_url) if settings.smtp_url else None
        self.lock_rows = not settings.is_sqlite
        # Outlasts a whole batch: each message, connecting included, and the closing QUIT are
        # each bounded by smtp_timeout.
        self.lease = timedelta(seconds=settings.smtp_timeout * (settings.delivery_batch_size + 2))
        self.give_up_after = timedelta(seconds=settings.delivery_give_up_after_seconds)
        # Passes in a row that could not reach the server, per channel ("mail", "sms").
        self._outages: Counter[str] = Counter()
        self._wake = asyncio.Event()
        # The SMTP connection is kept open between passes (a new one per notice cost a TCP and
        # SMTP handshake and QUIT on the way to every mail) and closed once idle this long.
        self._mailer: Mailer | None = None
        self._mail_used_at = 0.0

    def wake(self) -> None:
        """Called after a commit that queued a notice (hotel_common.db.after_commit)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled: on every wake-up, and by polling as a safety net."""
        try:
            await self._run()
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the kept-open SMTP connection (QUIT), if any."""
        mailer, self._mailer = self._mailer, None
        if mailer is not None:
            await mailer.close()

    async def _close_idle_mailer(self) -> float | None:
        """Close the SMTP connection once idle long enough; else how long until it is."""
        if self._mailer is None:
            return None
        idle = asyncio.get_running_loop().time() - self._mail_used_at
        if not self._mailer.connected or idle >= self.settings.smtp_keep_open_seconds:
            await self.close()
            return None
        return self.settings.smtp_keep_open_seconds - idle

    async def _run(self) -> None:
        while True:
            # A cancellation aiosmtplib swallowed (its replies are read through Python 3.11's
            # asyncio.wait_for, which drops a cancel landing with the reply): stop here, else
            # the service's stop waits for this loop forever (hotel_common.tasks).
            raise_if_cancelled()
            delay = self.settings.delivery_poll_seconds
            try:
                while (claimed := await self.deliver_due()) == self.settings.delivery_batch_size:
                    pass
                if (due := await self._next_due()) is not None:
                    # Due but not claimed (a cancellation waiting for a send in flight, or rows
                    # another replica is claiming): look again soon, without spinning.
                    floor = 0.01 if claimed else min(0.1, delay)
                    delay = min(delay, max((due - utcnow()).total_seconds(), floor))
            except Exception:
                log.exception("notice delivery pass failed; will try again")
            if (closing := await self._close_idle_mailer()) is not None:
                delay = min(delay, closing)
            raise_if_cancelled()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
            # that lands as the wake-up completes, and the service's stop would hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Claim one batch of due notices and deliver them, recording each outcome right after
        its send; return how many were claimed."""
        rows, lease = await self._claim()
        if rows:
            await self._deliver(rows, lease)
        return len(rows)

    async def _claim(self) -> tuple[list[Notification], datetime]:
        now = utcnow()
        lease = now + self.lease
        async with transaction(self.sessions) as session:
            await self._supersede(session, now)
            await self._expire(session, now)
            await erasure.stop_late(session, now)
            await self._past_deadline(session, now)
            other = aliased(Notification)  # not correlated with the rows being claimed
            sending = select(other.reservation_id).where(
                col(other.reservation_id).is_not(None),  # NULL in an IN list blocks every row
                other.status == "queued",
                col(other.kind).in_(OVERTAKEN_KINDS),
                col(other.leased_until) > now,
            )
            query = (
                select(Notification)
                .where(
                    Notification.status == "queued",
                    col(Notification.next_attempt_at) <= now,
                    not_(
                        and_(
                            col(Notification.kind) == CANCELLATION,
                            col(Notification.reservation_id).in_(sending),
                        )
                    ),
                )
                .order_by(col(Notification.next_attempt_at), col(Notification.created_at))
                .limit(self.settings.delivery_batch_size)
            )
            if self.lock_rows:
                query = query.with_for_update(skip_locked=True, of=Notification)
            rows = list((await session.exec(query)).all())
            if rows:
                await session.exec(
                    update(Notification)
                    .where(col(Notification.id).in_([r.id for r in rows]))
                    .values(next_attempt_at=lease, leased_until=lease)
                )
            for row in rows:
                if row.deliver_by is None and row.fallback and row.channel in DEADLINED:
                    # The deadline counts from when the notice first became due (queued, or
                    # the end of the guest's quiet hours).
                    row.deliver_by = now + self._deadline(row.urgent)
                    await session.exec(
                        update(Notification)
                        .where(col(Notification.id) == row.id)
                        .values(deliver_by=row.deliver_by)
                    )
        return rows, lease

    def _deadline(self, urgent: bool) -> timedelta:
        s = self.settings
        seconds = s.urgent_delivery_deadline_seconds if urgent else s.delivery_deadline_seconds
        return timedelta(seconds=seconds)

    async def _past_deadline(self, session: AsyncSession, now: datetime) -> None:
        """Notices on sms or push not delivered by their deadline: each goes out on its next
        channel, once (the old row is claimed by setting its reason to fell_back first, so two
        replicas or a re-run never fall back twice). The old row keeps its status: it may
        still be delivered."""
        late = await session.exec(
            select(Notification).where(
                col(Notification.status).in_(WAITING_FOR_RECEIPT),
                col(Notification.channel).in_(DEADLINED),
                col(Notification.deliver_by) <= now,
                col(Notification.reason).is_(None),
            )
        )
        for row in late.all():
            claimed = await session.exec(
                update(Notification)
                .where(
                    col(Notification.id) == row.id,
                    col(Notification.reason).is_(None),
                    col(Notification.status).in_(WAITING_FOR_RECEIPT),
                )
                .values(reason=Reason.FELL_BACK)
            )
            if claimed.rowcount == 1:
                await fall_back(session, row)

    async def _supersede(self, session: AsyncSession, now: datetime) -> None:
        """Confirmations, pickups, changes and expiries of a cancelled booking that no sender
        holds: never sent."""
        other = aliased(Notification)  # not correlated with the rows being superseded
        cancelled = select(other.reservation_id).where(other.kind == CANCELLATION)
        overtaken = select(Notification.id).where(
            Notification.status == "queued",
            col(Notification.kind).in_(OVERTAKEN_KINDS),
            col(Notification.reservation_id).in_(cancelled),
            or_(col(Notification.leased_until).is_(None), col(Notification.leased_until) <= now),
        )
        if self.lock_rows:  # a row another replica is claiming is left to it (it will skip it)
            overtaken = overtaken.with_for_update(skip_locked=True, of=Notification)
        superseded = await statuses.change(
            session,
            col(Notification.id).in_(overtaken.scalar_subquery()),
            values={
                "status": Status.SUPPRESSED,
                "reason": Reason.SUPERSEDED,
                "next_attempt_at": None,
                "leased_until": None,
            },
            at=now,
        )
        if superseded:
            log.info(
                "notices superseded by their booking's cancellation", extra={"count": superseded}
            )

    async def _expire(self, session: AsyncSession, now: datetime) -> None:
        """Sign-in codes whose time ran out, waiting and held by no sender: never sent, and
        the code is forgotten."""
        expired = await statuses.change(
            session,
            col(Notification.status) == Status.QUEUED,
            col(Notification.expires_at) <= now,
            or_(col(Notification.leased_until).is_(None), col(Notification.leased_until) <= now),
            values={
                "status": Status.SUPPRESSED,
                "reason": Reason.EXPIRED,
                "secret": None,
                "next_attempt_at": None,
                "leased_until": None,
            },
            at=now,
        )
        if expired:
            log.info("sign-in codes expired unsent", extra={"count": expired})

    async def _deliver(self, rows: list[Notification], lease: datetime) -> None:
        now = utcnow()
        expired = [r for r in rows if r.expires_at is not None and as_utc(r.expires_at) <= now]
        if expired:
            await self._record(
                [
                    _Outcome(r.id, lease, Status.SUPPRESSED, r.attempts, reason=Reason.EXPIRED)
                    for r in expired
                ]
            )
        gone = {r.id for r in expired}
        live = [r for r in rows if r.id not in gone]
        mail = [r for r in live if r.channel not in (Channel.SMS, Channel.PUSH)]
        if mail:
            await self._deliver_mail(mail, lease)
        for channel in (Channel.SMS, Channel.PUSH):
            if on := [r for r in live if r.channel == channel]:
                await self._deliver_by_provider(on, lease, channel)

    async def _kept(self, rows: list[Notification], lease: datetime, channel: str) -> None:
        """No server for the channel (embedded mode): the notices stay in the log, `logged`."""
        for row in rows:
            log.info(
                f"no {channel} configured; notice kept in the delivery log",
                extra={"notification_id": row.id, "kind": row.kind},
            )
        await self._record([_Outcome(r.id, lease, "logged", r.attempts) for r in rows])

    async def _deliver_by_provider(
        self, rows: list[Notification], lease: datetime, channel: Channel
    ) -> None:
        """Text messages and push through the channel's providers (providers.py), the notice
        id as the idempotency key on every provider."""
        configs = self.settings.providers(channel.value)
        if not configs:
            await self._kept(rows, lease, f"{channel.value} provider")
            return
        async with ProviderChain(configs, self.settings.sms_timeout) as chain:

            async def send(row: Notification) -> Accepted:
                if channel is Channel.SMS:
                    payload = sms_payload(row.id, row.phone or "", filled(row.body, row).strip())
                else:
                    async with self.sessions() as session:
                        tokens = await devices.tokens_for(
                            session, email=row.email or None, phone=row.phone
                        )
                    if not tokens:
                        raise NoDevices("no app device to push to")
                    payload = push_payload(
                        row.id,
                        tokens,
                        filled(row.subject, row),
                        filled(row.body, row).strip(),
                        row.kind,
                        row.reservation_id,
                    )
                return await chain.send(payload, row.id)

            await self._deliver_each(rows, lease, send, channel.value)

    async def _deliver_mail(self, rows: list[Notification], lease: datetime) -> None:
        if self.target is None:
            await self._kept(rows, lease, "SMTP server")
            return
        if self._mailer is None:
            self._mailer = Mailer(self.target, self.settings.smtp_timeout)
        mailer = self._mailer
        try:

            async def send(row: Notification) -> None:
                await mailer.send(
                    build_message(
                        notification_id=row.id,
                        mail_from=self.settings.mail_from,
                        recipient=row.email,
                        subject=filled(row.subject, row),
                        body=filled(row.body, row),
                        html=filled(row.html, row) if row.html else None,
                        calendar=row.calendar,
                    )
                )

            await self._deliver_each(rows, lease, send, "mail")
        finally:
            self._mail_used_at = asyncio.get_running_loop().time()

    async def _deliver_each(
        self,
        rows: list[Notification],
        lease: datetime,
        send: Callable[[Notification], Awaitable[Accepted | None]],
        channel: str,
    ) -> None:
        """Send each in turn, recording each outcome; a server outage stops the batch."""
        for i, row in enumerate(rows):
            try:
                accepted = await send(row)
            except ServerUnavailable as exc:
                # The server, not this notice: nothing later in the batch was tried.
                self._outages[channel] += 1
                retry_at = utcnow() + self._backoff(self._outages[channel])
                await self._record(
                    [self._unreachable(row, lease, describe_error(exc), retry_at)]
                    + [self._unreachable(r, lease, None, retry_at) for r in rows[i + 1 :]]
                )
                return
            except Exception as exc:
                await self._record([self._failure(row, lease, exc)])
            else:
                self._outages[channel] = 0
                if accepted is None and channel == "mail":
                    accepted = Accepted("smtp", row.id)
                await self._record(
                    [_Outcome(row.id, lease, "sent", row.attempts + 1, accepted=accepted)]
                )

    def _backoff(self, count: int) -> timedelta:
        delays = self.settings.delivery_backoff_seconds
        return timedelta(seconds=delays[min(count, len(delays)) - 1])

    def _too_old(self, row: Notification) -> bool:
        # From its creation, a retry through the API, or the end of the guest's quiet hours
        # it waited for, whichever is latest.
        since = max(as_utc(t) for t in (row.created_at, row.requeued_at, row.deferred_until) if t)
        return utcnow() - since >= self.give_up_after

    def _failure(self, row: Notification, lease: datetime, exc: BaseException) -> _Outcome:
        """A failure of this message: it costs an attempt."""
        attempts = row.attempts + 1
        error = describe_error(exc)
        if isinstance(exc, NoDevices):
            return _Outcome(
                row.id, lease, "failed", attempts, error, reason=Reason.NO_CHANNEL, fall_back=True
            )
        if isinstance(exc, PermanentFailure):
            # The address, not the server: remembered as bad (push: the devices' tokens, no
            # address of the guest's), and the notice goes on the next channel.
            address = row.phone if row.channel == Channel.SMS else row.email
            bad = None if row.channel == Channel.PUSH else (str(row.channel), address or "")
            return _Outcome(
                row.id,
                lease,
                "failed",
                attempts,
                error,
                reason=Reason.PERMANENT,
                fall_back=True,
                bad=bad,
            )
        if self._too_old(row):
            return _Outcome(row.id, lease, "failed", attempts, error, reason=Reason.GAVE_UP)
        retry_at = utcnow() + self._backoff(attempts)
        return _Outcome(row.id, lease, "queued", attempts, error, retry_at)

    def _unreachable(
        self, row: Notification, lease: datetime, error: str | None, retry_at: datetime
    ) -> _Outcome:
        """Not tried (the server was down): no attempt; given up only by age."""
        if self._too_old(row):
            reason = error or row.last_error or "the mail server was unreachable"
            return _Outcome(
                row.id,
                lease,
                "failed",
                row.attempts,
                f"gave up by age: {reason}",
                None,
                Reason.GAVE_UP,
            )
        return _Outcome(row.id, lease, "queued", row.attempts, error, retry_at)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = utcnow()
        async with transaction(self.sessions) as session:
            for o in outcomes:
                values: dict[str, object] = {
                    "status": o.status,
                    "attempts": o.attempts,
                    "leased_until": None,
                    "next_attempt_at": o.retry_at if o.status == "queued" else None,
                }
                if o.error is not None:
                    values["last_error"] = o.error
                if o.reason is not None:
                    values["reason"] = o.reason
                if o.status == "sent":
                    values["sent_at"] = now
                if o.status != "queued":  # done with: a sign-in code is forgotten
                    values["secret"] = None
                if o.accepted is not None:
                    values["provider"] = o.accepted.provider
                    values["provider_message_id"] = o.accepted.message_id
                ours = (
                    col(Notification.id) == o.id,
                    col(Notification.status) == "queued",
                    col(Notification.next_attempt_at) == o.lease,  # our claim still holds
                )
                if o.fall_back:
                    # Once: a notice that already fell back (its deadline passed) keeps that
                    # reason and does not fall back again.
                    changed = await statuses.change(
                        session, *ours, col(Notification.reason).is_(None), values=values, at=now
                    )
                    if changed == 1:
                        await _after_failure(session, o)
                        continue
                    values.pop("reason", None)
                changed = await statuses.change(session, *ours, values=values, at=now)
                if changed == 1 and o.reason is Reason.GAVE_UP:
                    # Given up by age: the chain ends here, the guest was not reached.
                    row = await session.get(Notification, o.id)
                    if row is not None:
                        await staff_inbox.guest_unreachable(session, row)
                if changed != 1 and o.status == "sent":
                    # A receipt said delivered before the send was recorded: keep delivered.
                    result = await session.exec(
                        update(Notification)
                        .where(
                            col(Notification.id) == o.id, col(Notification.status) == "delivered"
                        )
                        .values({k: v for k, v in values.items() if k not in ("status", "reason")})
                    )
                    changed = result.rowcount
                if changed != 1:
                    log.warning(
                        "lease lost before the outcome was recorded",
                        extra={"notification_id": o.id},
                    )
        for o in outcomes:
            _log_outcome(o)

    async def _next_due(self) -> datetime | None:
        """The earliest due notice, or delivery deadline to act on."""
        async with self.sessions() as session:
            due = await session.scalar(
                select(func.min(Notification.next_attempt_at)).where(
                    Notification.status == "queued"
                )
            )
            deadline = await session.scalar(
                select(func.min(Notification.deliver_by)).where(
                    col(Notification.status).in_(WAITING_FOR_RECEIPT),
                    col(Notification.reason).is_(None),
                )
            )
        found = [as_utc(t) for t in (due, deadline) if t is not None]
        return min(found) if found else None


# Channels whose "sent" is not "delivered" (a receipt tells): they have a delivery deadline.
DEADLINED = (Channel.SMS.value, Channel.PUSH.value)
WAITING_FOR_RECEIPT = (Status.QUEUED.value, Status.SENT.value)


async def _after_failure(session: AsyncSession, o: _Outcome) -> None:
    """A notice failed for good on its channel (its row already says so): remember a bad
    address, and send it on the next channel."""
    if o.bad is not None:
        await bad_addresses.mark(session, o.bad[0], o.bad[1], o.error or "refused")
    row = await session.get(Notification, o.id)
    if row is not None:
        await fall_back(session, row)


async def fall_back(session: AsyncSession, row: Notification) -> Notification | None:
    """Queue `row`'s notice on the next channel of its fallback (rendered for it when it was
    queued); None when none is left, and the front desk is alerted that the guest was not
    reached (staff_inbox.guest_unreachable). The caller has claimed `row` (its reason set), so
    this runs once per row, and a notice's chain ends once."""
    # Read it again now the caller's claim holds its row: it was loaded before the claim, and
    # an erasure committed in between has blanked its fallback (the other channels' addresses
    # and texts); the stale copy would queue them for the erased guest.
    await session.refresh(row)
    if not row.fallback:
        log.info("no channel left to fall back to", extra={"notification_id": row.id})
        # The end of the notice's chain: the front desk should reach the guest another way.
        await staff_inbox.guest_unreachable(session, row)
        return None
    entry, rest = row.fallback[0], row.fallback[1:]
    channel = Channel(entry["channel"])
    address = entry.get("address", "")
    if channel is Channel.EMAIL:
        email, phone = address, None
    elif channel is Channel.SMS:
        email, phone = "", address
    else:
        email, phone = entry.get("email", ""), entry.get("phone") or None
    follow = Notification(
        event_id=row.event_id,
        kind=row.kind,
        reservation_id=row.reservation_id,
        confirmation_number=row.confirmation_number,
        channel=channel,
        email=email,
        phone=phone,
        language=entry.get("language", row.language),
        subject=entry.get("subject", row.subject),
        body=entry.get("body", row.body),
        html=entry.get("html") if channel is Channel.EMAIL else None,
        calendar=row.calendar,
        urgent=row.urgent,
        reservation_version=row.reservation_version,
        transfer_id=row.transfer_id,
        transfer_version=row.transfer_version,
        guest_id=row.guest_id,
        purpose=row.purpose,
        fallback=rest or None,
        fallback_of=row.id,
        partner_id=row.partner_id,
    )
    session.add(follow)
    await session.flush()
    log.info(
        "notice falls back to the next channel",
        extra={"notification_id": row.id, "next": follow.id, "channel": channel.value},
    )
    return follow


def filled(text: str, row: Notification) -> str:
    """A stored subject or body as sent: a sign-in code's slot filled with the code."""
    return text.replace(CODE_SLOT, row.secret) if row.secret is not None else text


def _log_outcome(o: _Outcome) -> None:
    # Ids and the (address-masked) server reply only: never the recipient.
    extra = {"notification_id": o.id, "attempts": o.attempts, "error": o.error}
    if o.status == "sent":
        log.info("notice sent", extra=extra)
    elif o.status == "queued" and o.error is not None:
        log.warning("notice delivery failed; will retry", extra=extra)
    elif o.status == "failed":
        log.error("notice delivery failed for good", extra=extra)


async def start(runtime: Runtime[Settings]) -> None:
    """ServiceSpec.on_start: build the sender before handlers subscribe (they wake it)."""
    runtime.extras[EXTRA_KEY] = Delivery(runtime.sessions, runtime.settings)


def delivery_of(runtime: Runtime[Settings]) -> Delivery:
    delivery: Delivery = runtime.extras[EXTRA_KEY]
    return delivery


async def deliver_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker."""
    await delivery_of(runtime).run()
