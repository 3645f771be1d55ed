"""The staff inbox (issue 20): alerts for dispatch and the front desk, with a per-minute digest.

An alert is raised once per (event_id, kind) for an audience: "dispatch" (dispatchers) or
"front_desk" (the front desk); managers (and admins) see both. Each staff member has their own
read state (`staff_alert_reads`). Alerts name bookings and jobs (confirmation number, job id),
never a guest's address or phone: a guest's erasure has nothing to purge here.

Raised by `alert` from the staff subscriptions (`subscribe`, "notification.staff.<x>"), and by
`guest_unreachable`, called where a notice ends without reaching its guest: suppressed for want
of a channel (handlers.tell), failed with no channel left to fall back to (delivery.fall_back,
from the sender and from a provider's receipt), or given up by age (the sender).

Digest: a staff member may ask for one email a minute (`staff_inbox_settings`, PUT
/api/v1/inbox/settings) listing the alerts of their audiences raised since their last digest.
`send_digests` is one pass of the worker (`digest_forever`): per due settings row it claims the
row (FOR UPDATE SKIP LOCKED on PostgreSQL, and a conditional UPDATE of `last_digest_at` from the
value read, so of two replicas exactly one sends), then queues ONE `staff_digest` notice
(a Notification row; the normal sender delivers it). Nothing new: nothing is sent.
"""

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hotel_common.contracts.reservations import ReservationCreated, ReservationNoShow
from hotel_common.contracts.transfers import (
    TransferCancelled,
    TransferReassigned,
    TransferRescheduled,
    TransferStatusChanged,
)
from hotel_common.db import after_commit
from hotel_common.errors import NotFound
from hotel_common.principal import Kind as PrincipalKind
from hotel_common.principal import Principal, Role
from hotel_common.service import Runtime
from hotel_common.time import UtcDateTime, as_utc, utcnow
from hotel_common.uniques import locked_or_inserted
from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint, and_, func, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import rendering
from notification_service.config import Settings
from notification_service.models import Channel, Kind, Notification, Purpose

log = logging.getLogger(__name__)

DISPATCH = "dispatch"
FRONT_DESK = "front_desk"
AUDIENCES = (DISPATCH, FRONT_DESK)


class Digest(StrEnum):
    OFF = "off"
    EVERY_MINUTE = "every_minute"


class StaffAlert(SQLModel, table=True):
    __tablename__ = "staff_alerts"
    __table_args__ = (
        UniqueConstraint("event_id", "kind", name="uq_staff_alerts_event_kind"),
        Index("ix_staff_alerts_audience_created", "audience", "created_at", "id"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    audience: str = Field(max_length=20)
    kind: str = Field(max_length=40)
    title: str = Field(max_length=500)
    body: str = Field(sa_type=Text)
    event_id: str = Field(max_length=36)
    reservation_id: str | None = Field(default=None, max_length=64)
    transfer_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StaffAlertRead(SQLModel, table=True):
    __tablename__ = "staff_alert_reads"

    alert_id: str = Field(primary_key=True, max_length=36)
    staff_id: str = Field(primary_key=True, max_length=100)
    read_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StaffInboxSettings(SQLModel, table=True):
    __tablename__ = "staff_inbox_settings"

    staff_id: str = Field(primary_key=True, max_length=100)
    digest: Digest = Field(default=Digest.OFF, sa_type=String(20))
    email: str | None = Field(default=None, max_length=320)
    language: str = Field(default="en", max_length=16)
    # The audiences of the member when they last saved their settings (their roles then).
    audiences: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The end of the window the last digest covered (or when they subscribed).
    last_digest_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


def audiences_of(principal: Principal) -> list[str]:
    """The alert audiences a staff member reads: managers (and admins) both."""
    if principal.kind not in (PrincipalKind.STAFF, PrincipalKind.SERVICE):
        return []
    if principal.has(Role.MANAGER):
        return list(AUDIENCES)
    found = []
    if principal.has(Role.DISPATCHER):
        found.append(DISPATCH)
    if principal.has(Role.FRONT_DESK):
        found.append(FRONT_DESK)
    return found


def at(moment: datetime) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M} UTC"


async def alert(
    session: AsyncSession,
    *,
    audience: str,  # "dispatch" | "front_desk"
    kind: str,  # what happened, e.g. "guest_unreachable", "pickup_no_show"
    title: str,
    body: str,
    event_id: str,
    reservation_id: str | None = None,
    transfer_id: str | None = None,
) -> StaffAlert | None:
    """Raise one alert for everyone in `audience`, once per (event_id, kind); None when it was
    already raised."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown staff audience {audience!r}")
    raised = await session.exec(
        select(StaffAlert.id).where(StaffAlert.event_id == event_id, StaffAlert.kind == kind)
    )
    if raised.first() is not None:
        return None
    row = StaffAlert(
        audience=audience,
        kind=kind,
        title=title[:500],
        body=body,
        event_id=event_id,
        reservation_id=reservation_id,
        transfer_id=transfer_id,
    )
    session.add(row)
    await session.flush()
    log.info("staff alert raised", extra={"audience": audience, "kind": kind, "id": row.id})
    return row


async def guest_unreachable(session: AsyncSession, notification: Notification) -> None:
    """The front desk's alert that a notice reached the guest on no channel (suppressed
    no_channel, or failed on every channel): someone should call or tell them at the desk.
    Once per notice chain (keyed by the row before the last, or the notice's own id: a chain
    ends once). Nothing for a sign-in code (the person asking sees it did not come) or a staff
    digest or a partner's notice (no guest)."""
    if notification.kind in (Kind.SIGN_IN_CODE, Kind.STAFF_DIGEST, Kind.PARTNER_WEBHOOK_DISABLED):
        return
    booking = notification.confirmation_number or notification.reservation_id
    why = notification.reason or notification.status
    what = str(notification.kind).replace("_", " ")
    await alert(
        session,
        audience=FRONT_DESK,
        kind="guest_unreachable",
        title=f"Guest not reached: {what}" + (f" ({booking})" if booking else ""),
        body=(
            f"The {what} notice could not be delivered on any channel ({why}). "
            "Please reach the guest another way."
        ),
        # Once per notice: its fallback rows name the first one.
        event_id=notification.fallback_of or notification.id,
        reservation_id=notification.reservation_id,
        transfer_id=notification.transfer_id,
    )


# -- the staff's own subscriptions -------------------------------------------------------------


async def booking_requested(session: AsyncSession, event: ReservationCreated) -> None:
    await alert(
        session,
        audience=FRONT_DESK,
        kind="booking_requested",
        title=f"Booking request awaiting confirmation: {event.confirmation_number}",
        body=(
            f"{event.property_name}, {event.check_in} to {event.check_out}, "
            f"{event.room_type_code}, {event.guests} guest(s), via {event.source or event.channel}."
        ),
        event_id=event.event_id,
        reservation_id=event.reservation_id,
    )


async def booking_no_show(session: AsyncSession, event: ReservationNoShow) -> None:
    await alert(
        session,
        audience=FRONT_DESK,
        kind="booking_no_show",
        title=f"No-show: {event.confirmation_number}",
        body=f"{event.property_name}, arrival {event.check_in}: the guest did not arrive.",
        event_id=event.event_id,
        reservation_id=event.reservation_id,
    )


def _job_name(confirmation_number: str | None, transfer_id: str) -> str:
    return confirmation_number or f"job {transfer_id[:8]}"


async def pickup_reassigned(session: AsyncSession, event: TransferReassigned) -> None:
    await alert(
        session,
        audience=DISPATCH,
        kind="pickup_reassigned",
        title=f"Pickup reassigned: {_job_name(event.confirmation_number, event.transfer_id)}",
        body=(
            f"{at(event.pickup_time)} at {event.pickup_place}: now {event.driver_name}, "
            f"{event.vehicle_plate} ({event.reason})."
        ),
        event_id=event.event_id,
        reservation_id=event.reservation_id,
        transfer_id=event.transfer_id,
    )


async def pickup_uncovered(session: AsyncSession, event: TransferRescheduled) -> None:
    if event.driver_name is not None:
        return  # still covered: nothing for dispatch to do
    await alert(
        session,
        audience=DISPATCH,
        kind="pickup_uncovered",
        title=f"Pickup moved, no crew: {_job_name(event.confirmation_number, event.transfer_id)}",
        body=(
            f"Moved from {at(event.previous_pickup_time)} to {at(event.pickup_time)} at "
            f"{event.pickup_place} ({event.reason}): assign a driver and a car."
        ),
        event_id=event.event_id,
        reservation_id=event.reservation_id,
        transfer_id=event.transfer_id,
    )


async def pickup_no_show(session: AsyncSession, event: TransferStatusChanged) -> None:
    if event.status != "no_show":
        return
    await alert(
        session,
        audience=DISPATCH,
        kind="pickup_no_show",
        title=f"Pickup no-show: job {event.transfer_id[:8]}",
        body=f"The guest did not come to the pickup ({at(event.at)}).",
        event_id=event.event_id,
        reservation_id=event.reservation_id,
        transfer_id=event.transfer_id,
    )


async def pickup_cancelled(session: AsyncSession, event: TransferCancelled) -> None:
    when = f" at {at(event.pickup_time)}" if event.pickup_time else ""
    await alert(
        session,
        audience=DISPATCH,
        kind="pickup_cancelled",
        title=f"Pickup cancelled: {_job_name(event.confirmation_number, event.transfer_id)}",
        body=f"The pickup{when} is cancelled ({event.reason}): free its driver and car.",
        event_id=event.event_id,
        reservation_id=event.reservation_id,
        transfer_id=event.transfer_id,
    )


def subscribe(runtime: Runtime[Settings]) -> None:
    """The staff alerts' own subscriptions (called at the end of handlers.subscribe)."""
    runtime.handle(
        ReservationCreated, booking_requested, name="notification.staff.booking_requested"
    )
    runtime.handle(ReservationNoShow, booking_no_show, name="notification.staff.booking_no_show")
    runtime.handle(
        TransferReassigned, pickup_reassigned, name="notification.staff.pickup_reassigned"
    )
    runtime.handle(
        TransferRescheduled, pickup_uncovered, name="notification.staff.pickup_uncovered"
    )
    runtime.handle(TransferStatusChanged, pickup_no_show, name="notification.staff.pickup_no_show")
    runtime.handle(TransferCancelled, pickup_cancelled, name="notification.staff.pickup_cancelled")


# -- reading --------------------------------------------------------------------------------


def read_by(staff_id: str) -> Any:
    return and_(
        col(StaffAlertRead.alert_id) == col(StaffAlert.id), col(StaffAlertRead.staff_id) == staff_id
    )


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    query = (
        select(func.count())
        .select_from(StaffAlert)
        .outerjoin(StaffAlertRead, read_by(principal.id))
        .where(col(StaffAlert.audience).in_(audiences_of(principal)))
        .where(col(StaffAlertRead.alert_id).is_(None))
    )
    return int((await session.exec(query)).one())


async def mark_read(session: AsyncSession, principal: Principal, alert_id: str) -> StaffAlert:
    row = (
        await session.exec(
            select(StaffAlert).where(
                StaffAlert.id == alert_id,
                col(StaffAlert.audience).in_(audiences_of(principal)),
            )
        )
    ).first()
    if row is None:
        raise NotFound("inbox_message", alert_id)
    if await session.get(StaffAlertRead, (alert_id, principal.id)) is None:
        session.add(StaffAlertRead(alert_id=alert_id, staff_id=principal.id))
    return row


async def mark_all_read(session: AsyncSession, principal: Principal) -> int:
    unread = await session.exec(
        select(StaffAlert.id)
        .outerjoin(StaffAlertRead, read_by(principal.id))
        .where(col(StaffAlert.audience).in_(audiences_of(principal)))
        .where(col(StaffAlertRead.alert_id).is_(None))
    )
    ids = list(unread.all())
    now = utcnow()
    for alert_id in ids:
        session.add(StaffAlertRead(alert_id=alert_id, staff_id=principal.id, read_at=now))
    return len(ids)


async def save_settings(
    session: AsyncSession,
    principal: Principal,
    *,
    digest: Digest,
    email: str | None,
    language: str,
) -> StaffInboxSettings:
    now = utcnow()
    row, created = await locked_or_inserted(
        session,
        StaffInboxSettings,
        principal.id,
        lambda: StaffInboxSettings(staff_id=principal.id, last_digest_at=now),
    )
    if not created and row.digest is Digest.OFF and digest is Digest.EVERY_MINUTE:
        row.last_digest_at = now  # a new subscription lists what comes from now on
    row.digest = digest
    row.email = email
    row.language = rendering.resolve_language(language)
    row.audiences = audiences_of(principal)
    row.updated_at = now
    session.add(row)
    return row


# -- the digest worker ----------------------------------------------------------------------


# Longer than an alert's transaction (a handler's: short) takes to commit.
DIGEST_LAG = timedelta(seconds=15)


async def _digest_one(
    session: AsyncSession, member: StaffInboxSettings, now: datetime
) -> Notification | None:
    """Claim `member`'s row for the window (last_digest_at, now] and queue its digest; None when
    another replica claimed it first, or nothing new was raised."""
    since = member.last_digest_at
    # The window closes DIGEST_LAG before `now`: an alert's created_at is taken before its
    # transaction commits, and one still uncommitted at this pass (invisible to it) would fall
    # in a window already closed and be in no digest. A later pass lists it instead.
    now = now - DIGEST_LAG
    if as_utc(now) <= as_utc(since):
        return None
    claimed = await session.exec(
        update(StaffInboxSettings)
        .where(
            col(StaffInboxSettings.staff_id) == member.staff_id,
            col(StaffInboxSettings.last_digest_at) == since,
        )
        .values(last_digest_at=now)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        return None
    alerts = list(
        (
            await session.exec(
                select(StaffAlert)
                .where(
                    col(StaffAlert.audience).in_(member.audiences),
                    col(StaffAlert.created_at) > since,
                    col(StaffAlert.created_at) <= now,
                )
                .order_by(col(StaffAlert.created_at), col(StaffAlert.id))
            )
        ).all()
    )
    if not alerts or not member.email:
        return None
    context = {
        "count": len(alerts),
        "alerts": [{"title": a.title, "at": at(a.created_at)} for a in alerts],
    }
    rendered = await rendering.render_for(
        session, Kind.STAFF_DIGEST, Channel.EMAIL, member.language, context
    )
    notice = Notification(
        event_id=str(uuid.uuid4()),
        kind=Kind.STAFF_DIGEST,
        channel=Channel.EMAIL,
        email=member.email,
        language=rendered.language,
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
        purpose=Purpose.SERVICE,
        guest_id=None,
    )
    session.add(notice)
    return notice


async def send_digests(runtime: Runtime[Settings], now: datetime | None = None) -> int:
    """One pass: queue the digest of every subscribed staff member that is due; how many were
    queued. Safe to run on several replicas at once."""
    now = now or utcnow()
    interval = timedelta(seconds=runtime.settings.staff_digest_seconds)
    queued = 0
    async with runtime.sessions() as session:
        due = await session.exec(
            select(StaffInboxSettings)
            .where(
                StaffInboxSettings.digest == Digest.EVERY_MINUTE,
                col(StaffInboxSettings.last_digest_at) <= now - interval,
            )
            .order_by(col(StaffInboxSettings.staff_id))
            .with_for_update(skip_locked=True)
        )
        for member in list(due.all()):
            if await _digest_one(session, member, now) is not None:
                queued += 1
        if queued:
            from notification_service.delivery import delivery_of

            after_commit(session, delivery_of(runtime).wake)
        await session.commit()
    if queued:
        log.info("staff digests queued", extra={"count": queued})
    return queued


async def digest_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker: a digest pass every `staff_digest_seconds`."""
    while True:
        try:
            await send_digests(runtime)
        except Exception:  # a pass that failed is retried at the next tick
            log.exception("staff digest pass failed")
        await asyncio.sleep(runtime.settings.staff_digest_seconds)
