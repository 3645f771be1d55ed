"""Issue 20: reminders scheduled from events, fired by a worker (docs/notifications.md,
"Triggers: bookings and reminders").

- `scheduled_reminders`: one row per reminder, by a stable `key` ("arrival:<reservation>",
  "departure:<reservation>", "guarantee:<reservation>", "survey:<survey>"), with its kind, due
  instant (UTC), the guest's contact, the raw values its notice is built from (`payload`),
  status pending | sent | dropped, and the booking's version it was computed from: an event of
  an older version never moves, revives or drops it (a redelivery changes nothing).
- `reminder_pickups`: what the booking's pickup jobs say (transfer events), so an arrival or
  departure reminder names the car and driver known when it fires.
- The worker claims due pending rows (PostgreSQL: FOR UPDATE SKIP LOCKED; every claim is also a
  conditional pending -> sent update) and queues each notice through NoticeHandlers.tell in
  the same transaction: with two replicas or a re-run, each reminder fires once.
"""

import asyncio
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from hotel_common.contacts import PHONE_MAX_LENGTH
from hotel_common.contracts.guests import GuestErased, SurveyAnswered, SurveyRequested
from hotel_common.contracts.reservations import (
    ReservationCancelled,
    ReservationCheckedIn,
    ReservationCheckedOut,
    ReservationConfirmed,
    ReservationExpired,
    ReservationModified,
    ReservationNoShow,
)
from hotel_common.contracts.transfers import (
    TransferAssigned,
    TransferCancelled,
    TransferReassigned,
    TransferRescheduled,
)
from hotel_common.db import SessionFactory, transaction
from hotel_common.events.envelope import IntegrationEvent, newer
from hotel_common.service import Runtime
from hotel_common.time import UtcDateTime, as_utc, utcnow
from sqlalchemy import JSON, Column, Index, String, func, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import booking_notices, erasure, preferences
from notification_service import formatting as fmt
from notification_service.booking_notices import (
    DEFAULT_CHECK_IN,
    DEFAULT_CHECK_OUT,
    local_moment,
)
from notification_service.config import Settings
from notification_service.models import Kind

if TYPE_CHECKING:
    from notification_service.handlers import NoticeHandlers

log = logging.getLogger(__name__)

PENDING, SENT, DROPPED = "pending", "sent", "dropped"
BOOKING_KINDS = (Kind.ARRIVAL_REMINDER, Kind.DEPARTURE_REMINDER, Kind.GUARANTEE_REMINDER)
_PREFIX = {
    Kind.ARRIVAL_REMINDER: "arrival",
    Kind.DEPARTURE_REMINDER: "departure",
    Kind.GUARANTEE_REMINDER: "guarantee",
    Kind.SURVEY_FOLLOW_UP: "survey",
}
EXTRA_KEY = "reminders"


class ScheduledReminder(SQLModel, table=True):
    __tablename__ = "scheduled_reminders"
    __table_args__ = (Index("ix_scheduled_reminders_due", "status", "due_at"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    key: str = Field(max_length=120, unique=True)
    kind: str = Field(sa_type=String(40))
    reservation_id: str | None = Field(default=None, max_length=64, index=True)
    guest_id: str | None = Field(default=None, max_length=36, index=True)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=PHONE_MAX_LENGTH)
    language: str = Field(max_length=16)
    due_at: datetime = Field(sa_type=UtcDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=PENDING, sa_type=String(10))
    version: int | None = None  # the booking's version it was computed from
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    fired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ReminderPickup(SQLModel, table=True):
    """A booking's pickup job as its latest transfer event tells it (cancelled: not named)."""

    __tablename__ = "reminder_pickups"

    transfer_id: str = Field(primary_key=True, max_length=36)
    reservation_id: str = Field(max_length=64, index=True)
    # The job's own version (rescheduled, reassigned) once known; an assignment carries the
    # booking's, so it never overwrites what a job event said.
    job_version: int | None = None
    booking_version: int | None = None
    pickup_time: datetime = Field(sa_type=UtcDateTime)
    pickup_place: str = Field(max_length=300)
    destination: str = Field(max_length=300)
    driver_name: str | None = Field(default=None, max_length=200)
    driver_phone: str | None = Field(default=None, max_length=64)
    vehicle_plate: str | None = Field(default=None, max_length=64)
    vehicle_description: str | None = Field(default=None, max_length=300)
    cancelled: bool = False


class ReminderDue(IntegrationEvent):
    """The cause a fired reminder's notice records: the reminder (never on the bus)."""

    event_type: ClassVar[str] = "notification.reminder_due"

    key: str


def key_of(kind: Kind, subject: str) -> str:
    return f"{_PREFIX[kind]}:{subject}"


# -- scheduling ----------------------------------------------------------------------------------


async def _row(session: AsyncSession, key: str) -> ScheduledReminder | None:
    found = await session.exec(select(ScheduledReminder).where(ScheduledReminder.key == key))
    return found.first()


async def _rows(session: AsyncSession, keys: list[str]) -> dict[str, ScheduledReminder]:
    """The rows of `keys` that exist, in one query (a booking's reminders together)."""
    found = await session.exec(
        select(ScheduledReminder).where(col(ScheduledReminder.key).in_(keys))
    )
    return {row.key: row for row in found.all()}


async def _known(
    session: AsyncSession, key: str, rows: dict[str, ScheduledReminder] | None
) -> ScheduledReminder | None:
    """The row of `key`: from `rows` when the caller read it already (with its neighbours)."""
    return rows.get(key) if rows is not None else await _row(session, key)


def _stale(row: ScheduledReminder, version: int | None) -> bool:
    """An event not newer than the one the row was computed from (a redelivery, or one
    overtaken): it changes nothing. Unknown versions compare as equal-or-newer."""
    return version is not None and row.version is not None and not newer(version, row.version)


async def schedule(
    session: AsyncSession,
    *,
    kind: Kind,
    subject: str,
    due_at: datetime | None,
    version: int | None,
    payload: dict[str, Any],
    reservation_id: str | None,
    language: str,
    email: str | None,
    phone: str | None,
    guest_id: str | None = None,
    now: datetime | None = None,
    rows: dict[str, ScheduledReminder] | None = None,
) -> None:
    """Create or move the reminder; `due_at` None or past: not (or no longer) sent. `rows`:
    the existing rows of a set of keys including this one's, read by the caller (_rows)."""
    now = now or utcnow()
    key = key_of(kind, subject)
    row = await _known(session, key, rows)
    if row is not None and _stale(row, version):
        log.info("reminder unchanged: an older event", extra={"key": key, "version": version})
        return
    if row is not None and row.status == DROPPED and row.version is not None and version is None:
        return  # dropped by a versioned event; an unversioned one does not revive it
    live = due_at is not None and due_at > now
    if row is None:
        if due_at is None or not live:
            log.info("reminder not scheduled: its moment has passed", extra={"key": key})
            return
        row = ScheduledReminder(key=key, kind=kind, language=language, due_at=due_at)
    elif row.status == SENT and (not live or as_utc(row.due_at) == due_at):
        row.version = version if version is not None else row.version
        session.add(row)
        return  # told already, and nothing moved it to a later moment
    assert due_at is not None or not live
    row.due_at = due_at if due_at is not None else row.due_at
    row.status = PENDING if live else DROPPED
    row.payload = payload
    row.reservation_id = reservation_id
    row.language = language
    row.email, row.phone, row.guest_id = email, phone, guest_id
    row.version = version if version is not None else row.version
    row.updated_at = now
    session.add(row)
    log.info(
        "reminder scheduled" if live else "reminder dropped: its moment has passed",
        extra={"key": key, "kind": kind, "due_at": due_at.isoformat() if due_at else None},
    )


async def drop(
    session: AsyncSession,
    keys: Iterable[str],
    version: int | None,
    *,
    tombstone: bool = False,
    reservation_id: str | None = None,
    rows: dict[str, ScheduledReminder] | None = None,
) -> None:
    """Drop the pending reminders of `keys` (a booking's end, a guarantee met, a survey
    answered). `tombstone`: also remember the drop (with `version`) for reminders not
    scheduled yet, so their late, older events do not schedule them. `rows`: as schedule's."""
    now = utcnow()
    keys = list(dict.fromkeys(keys))
    if rows is None:  # all the keys' rows in one query
        rows = await _rows(session, keys)
    for key in keys:
        row = rows.get(key)
        if row is None:
            if tombstone:
                kind = next(k for k, p in _PREFIX.items() if key.startswith(p + ":"))
                session.add(
                    ScheduledReminder(
                        key=key,
                        kind=kind,
                        language="en",
                        due_at=now,
                        status=DROPPED,
                        version=version,
                        reservation_id=reservation_id,
                    )
                )
            continue
        if row.version is not None and version is not None and version < row.version:
            continue  # an older event than the one that scheduled it
        if row.status == PENDING:
            row.status = DROPPED
            log.info("reminder dropped", extra={"key": key})
        row.version = max(v for v in (version, row.version, 0) if v is not None) or row.version
        row.updated_at = now
        session.add(row)


async def _guest_erased(
    session: AsyncSession, guest_id: str | None, email: str | None, phone: str | None
) -> bool:
    """Was this guest erased (by profile, address or number)? Nothing is scheduled for them."""
    wishes = await preferences.wishes_of(session, guest_id=guest_id, email=email, phone=phone)
    return wishes is not None and wishes.erased


def _booking_keys(reservation_id: str) -> list[str]:
    return [key_of(k, reservation_id) for k in BOOKING_KINDS]


class Reminders:
    """The scheduling handlers (each in the inbox's transaction, once per event)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _arrival(self, event: ReservationConfirmed | ReservationModified) -> dict[str, Any]:
        return {
            "reservation_id": event.reservation_id,
            "confirmation_number": event.confirmation_number,
            "guest_name": event.guest.name,
            "language": event.guest.language,
            "property_name": event.property_name,
            "property_timezone": event.property_timezone,
            "room_type": event.room_type_name,
            "check_in": event.check_in.isoformat(),
            "check_out": event.check_out.isoformat(),
            "check_in_time": event.check_in_time or DEFAULT_CHECK_IN,
        }

    async def _schedule_booking(
        self, session: AsyncSession, event: ReservationConfirmed | ReservationModified
    ) -> None:
        if await erasure.booking_erased(session, event.reservation_id) or await _guest_erased(
            session, None, event.guest.email, event.guest.phone
        ):
            return
        contact: dict[str, Any] = {
            "reservation_id": event.reservation_id,
            "language": event.guest.language,
            "email": event.guest.email,
            "phone": event.guest.phone,
            "version": event.aggregate_version,
        }
        # The arrival's and the guarantee's rows in one query (distinct keys: neither step
        # changes the other's row).
        rows = await _rows(
            session,
            [
                key_of(k, event.reservation_id)
                for k in (Kind.ARRIVAL_REMINDER, Kind.GUARANTEE_REMINDER)
            ],
        )
        tz = event.property_timezone
        arrival_at = local_moment(
            event.check_in - timedelta(days=1), self.settings.arrival_reminder_local_time, tz
        )
        await schedule(
            session,
            kind=Kind.ARRIVAL_REMINDER,
            subject=event.reservation_id,
            due_at=arrival_at.astimezone(fmt.zone("UTC")),
            payload=self._arrival(event),
            rows=rows,
            **contact,
        )
        terms = event.guarantee
        due = as_utc(terms.due_at) if terms is not None and terms.due_at else None
        hours = self.settings.guarantee_reminder_hours_before
        amount = (
            fmt.money(terms.amount, event.currency)
            if terms is not None and terms.kind != "none"
            else None
        )
        if terms is not None and terms.kind == "none":
            due = None
        payload = self._arrival(event) | {
            "guarantee": terms.kind if terms else "none",
            "guarantee_amount": amount,
            "due_at": due.isoformat() if due else None,
        }
        if due is None:  # none asked, or met
            await drop(
                session,
                [key_of(Kind.GUARANTEE_REMINDER, event.reservation_id)],
                event.aggregate_version,
                rows=rows,
            )
        else:
            await schedule(
                session,
                kind=Kind.GUARANTEE_REMINDER,
                subject=event.reservation_id,
                due_at=due - timedelta(hours=hours),
                payload=payload,
                rows=rows,
                **contact,
            )

    async def confirmed(self, session: AsyncSession, event: ReservationConfirmed) -> None:
        await self._schedule_booking(session, event)

    async def modified(self, session: AsyncSession, event: ReservationModified) -> None:
        if event.status == "checked_in":
            await self._move_departure(session, event)
            return
        if event.status != "confirmed":
            return  # a request's change: nothing scheduled yet
        await self._schedule_booking(session, event)

    async def _move_departure(self, session: AsyncSession, event: ReservationModified) -> None:
        row = await _row(session, key_of(Kind.DEPARTURE_REMINDER, event.reservation_id))
        if row is None or "check_out" not in event.changes:
            return
        payload = dict(row.payload) | {"check_out": event.check_out.isoformat()}
        await schedule(
            session,
            kind=Kind.DEPARTURE_REMINDER,
            subject=event.reservation_id,
            due_at=self._departure_at(event.check_out, payload),
            version=event.aggregate_version,
            payload=payload,
            rows={row.key: row},
            reservation_id=event.reservation_id,
            language=event.guest.language,
            email=event.guest.email,
            phone=event.guest.phone,
        )

    def _departure_at(self, check_out: Any, payload: dict[str, Any]) -> datetime:
        local = local_moment(
            check_out, self.settings.departure_reminder_local_time, payload["property_timezone"]
        )
        return as_utc(local)

    async def checked_in(self, session: AsyncSession, event: ReservationCheckedIn) -> None:
        """The guest is here: no arrival reminder; the departure one is scheduled."""
        version = event.aggregate_version
        await drop(session, [key_of(Kind.ARRIVAL_REMINDER, event.reservation_id)], version)
        if await erasure.booking_erased(session, event.reservation_id):
            return
        payload = {
            "reservation_id": event.reservation_id,
            "confirmation_number": event.confirmation_number,
            "guest_name": event.guest.name,
            "language": event.guest.language,
            "property_name": event.property_name,
            "property_timezone": event.property_timezone or "UTC",
            "check_in": event.check_in.isoformat(),
            "check_out": event.check_out.isoformat(),
            "check_out_time": event.check_out_time or DEFAULT_CHECK_OUT,
        }
        await schedule(
            session,
            kind=Kind.DEPARTURE_REMINDER,
            subject=event.reservation_id,
            due_at=self._departure_at(event.check_out, payload),
            version=version,
            payload=payload,
            reservation_id=event.reservation_id,
            language=event.guest.language,
            email=event.guest.email,
            phone=event.guest.phone,
        )

    async def ended(
        self,
        session: AsyncSession,
        event: ReservationCancelled
        | ReservationExpired
        | ReservationNoShow
        | ReservationCheckedOut,
    ) -> None:
        """The booking is over: none of its reminders is sent (and none is scheduled later by
        an older event)."""
        await drop(
            session,
            _booking_keys(event.reservation_id),
            event.aggregate_version,
            tombstone=True,
            reservation_id=event.reservation_id,
        )

    # -- pickups ---------------------------------------------------------------------------

    async def _pickup(self, session: AsyncSession, transfer_id: str) -> ReminderPickup | None:
        return await session.get(ReminderPickup, transfer_id)

    async def pickup_assigned(self, session: AsyncSession, event: TransferAssigned) -> None:
        if event.reservation_id is None:
            return
        row = await self._pickup(session, event.transfer_id)
        if row is not None and (
            row.cancelled
            or row.job_version is not None
            or not newer(event.aggregate_version, row.booking_version)
        ):
            return
        row = self._held(row, event.reservation_id, event)
        row.booking_version = event.aggregate_version
        session.add(row)

    @staticmethod
    def _held(
        row: ReminderPickup | None,
        reservation_id: str,
        event: TransferAssigned | TransferRescheduled | TransferReassigned,
    ) -> ReminderPickup:
        """`row` (a new one for a job not seen yet) as `event` tells the pickup and its crew."""
        row = row or ReminderPickup(
            transfer_id=event.transfer_id,
            reservation_id=reservation_id,
            pickup_time=event.pickup_time,
            pickup_place=event.pickup_place,
            destination=event.destination,
        )
        row.pickup_time = event.pickup_time
        row.pickup_place = event.pickup_place
        row.destination = event.destination
        row.driver_name = event.driver_name
        row.driver_phone = event.driver_phone
        row.vehicle_plate = event.vehicle_plate
        row.vehicle_description = event.vehicle_description
        return row

    async def pickup_changed(
        self, session: AsyncSession, event: TransferRescheduled | TransferReassigned
    ) -> None:
        if event.reservation_id is None:
            return
        row = await self._pickup(session, event.transfer_id)
        if row is not None and (
            row.cancelled
            or (row.job_version is not None and not newer(event.aggregate_version, row.job_version))
        ):
            return
        row = self._held(row, event.reservation_id, event)
        row.job_version = event.aggregate_version
        session.add(row)

    async def pickup_cancelled(self, session: AsyncSession, event: TransferCancelled) -> None:
        row = await self._pickup(session, event.transfer_id)
        if row is None:
            row = ReminderPickup(
                transfer_id=event.transfer_id,
                reservation_id=event.reservation_id,
                pickup_time=event.pickup_time or utcnow(),
                pickup_place=event.pickup_place or "",
                destination="",
            )
        row.cancelled = True
        session.add(row)

    # -- surveys -----------------------------------------------------------------------------

    async def survey_requested(self, session: AsyncSession, event: SurveyRequested) -> None:
        """A stay survey's follow-up, `survey_follow_up_days` later, unless the link runs out
        first."""
        if event.about != "stay":
            return
        if await _guest_erased(session, event.guest_id, event.email, event.phone):
            return
        due = utcnow() + timedelta(days=self.settings.survey_follow_up_days)
        if due >= as_utc(event.expires_at):
            log.info("no follow-up: the survey link runs out first", extra={"id": event.event_id})
            return
        await schedule(
            session,
            kind=Kind.SURVEY_FOLLOW_UP,
            subject=event.survey_id,
            due_at=due,
            version=None,
            payload={
                "guest_name": event.name,
                "guest_id": event.guest_id,
                "reservation_id": event.reservation_id,
                "language": event.language,
                "survey_url": event.survey_url,
                "expires_on": as_utc(event.expires_at).date().isoformat(),
                "expires_at": as_utc(event.expires_at).isoformat(),
                "signature": self.signature,
            },
            reservation_id=event.reservation_id,
            language=event.language,
            email=event.email,
            phone=event.phone,
            guest_id=event.guest_id,
        )

    signature = ""

    async def survey_answered(self, session: AsyncSession, event: SurveyAnswered) -> None:
        await drop(
            session,
            [key_of(Kind.SURVEY_FOLLOW_UP, event.survey_id)],
            None,
            tombstone=True,
            reservation_id=event.reservation_id,
        )


async def forget(session: AsyncSession, event: GuestErased) -> None:
    """Nothing more reaches an erased guest: their reminders are dropped and blanked (called
    in the erasure's own transaction, guest_handlers.py)."""
    emails = [e.strip().lower() for e in event.emails if e.strip()]
    phones = [p.strip() for p in event.phones if p.strip()]
    theirs = [col(ScheduledReminder.guest_id) == event.guest_id]
    if event.reservation_ids:
        theirs.append(col(ScheduledReminder.reservation_id).in_(event.reservation_ids))
    if emails:
        theirs.append(func.lower(ScheduledReminder.email).in_(emails))
    if phones:
        theirs.append(col(ScheduledReminder.phone).in_(phones))
    await session.exec(
        update(ScheduledReminder)
        .where(or_(*theirs), col(ScheduledReminder.status) == PENDING)
        .values(status=DROPPED)
    )
    await session.exec(
        update(ScheduledReminder)
        .where(or_(*theirs))
        .values(email=None, phone=None, payload={})
        .execution_options(synchronize_session=False)
    )


# -- firing --------------------------------------------------------------------------------------


async def _pickup_for(session: AsyncSession, row: ScheduledReminder) -> dict[str, Any] | None:
    """The pickup the reminder names: on the check-in day (or the night before) for an
    arrival, on the check-out day for a departure; none when cancelled or unknown."""
    if row.reservation_id is None or row.kind == Kind.GUARANTEE_REMINDER:
        return None
    found = await session.exec(
        select(ReminderPickup).where(
            ReminderPickup.reservation_id == row.reservation_id,
            col(ReminderPickup.cancelled).is_(False),
        )
    )
    tz = fmt.zone(row.payload["property_timezone"])
    arrival = row.kind == Kind.ARRIVAL_REMINDER
    day = datetime.fromisoformat(row.payload["check_in" if arrival else "check_out"]).date()
    fits = []
    for p in found.all():
        local = as_utc(p.pickup_time).astimezone(tz).date()
        if local == day or (arrival and local == day - timedelta(days=1)):
            fits.append(p)
    if not fits:
        return None
    chosen = max(fits, key=lambda p: as_utc(p.pickup_time)) if arrival else fits[0]
    return {
        "pickup_time": as_utc(chosen.pickup_time).isoformat(),
        "pickup_place": chosen.pickup_place,
        "destination": chosen.destination,
        "driver_name": chosen.driver_name,
        "driver_phone": chosen.driver_phone,
        "vehicle_plate": chosen.vehicle_plate,
        "vehicle_description": chosen.vehicle_description,
    }


class Firing:
    def __init__(self, sessions: SessionFactory, settings: Settings, notices: "NoticeHandlers"):
        self.sessions = sessions
        self.settings = settings
        self.notices = notices
        self.lock_rows = not settings.is_sqlite

    async def fire_due(self, now: datetime | None = None) -> int:
        """One pass: claim due pending reminders and queue their notices in the same
        transaction; how many fired."""
        now = now or utcnow()
        fired = 0
        async with transaction(self.sessions) as session:
            query = (
                select(ScheduledReminder)
                .where(ScheduledReminder.status == PENDING, col(ScheduledReminder.due_at) <= now)
                .order_by(col(ScheduledReminder.due_at))
                .limit(self.settings.reminder_batch_size)
            )
            if self.lock_rows:
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.exec(query)).all())
            for row in rows:
                claimed = await session.exec(
                    update(ScheduledReminder)
                    .where(
                        col(ScheduledReminder.id) == row.id,
                        col(ScheduledReminder.status) == PENDING,
                    )
                    .values(status=SENT, fired_at=now, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount != 1:
                    continue  # another worker fired it
                if await self._fire(session, row):
                    fired += 1
        return fired

    async def _fire(self, session: AsyncSession, row: ScheduledReminder) -> bool:
        if row.reservation_id and await erasure.booking_erased(session, row.reservation_id):
            return False
        kind = Kind(row.kind)
        if kind is Kind.SURVEY_FOLLOW_UP:
            expires = row.payload.get("expires_at")
            if expires and datetime.fromisoformat(expires) <= utcnow():
                log.info("follow-up skipped: the survey link ran out", extra={"key": row.key})
                return False
        pickup = await _pickup_for(session, row) if kind in BOOKING_KINDS else None
        cause = ReminderDue(key=row.key)
        cause._event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{row.key}@{row.due_at}"))
        payload = dict(row.payload)
        await self.notices.tell(
            session,
            cause,
            lambda lang: booking_notices.reminder(kind, payload, lang, pickup),
            guest_id=row.guest_id,
            email=row.email,
            phone=row.phone,
            kind=kind,
        )
        return True

    async def run(self) -> None:
        while True:
            try:
                while await self.fire_due() == self.settings.reminder_batch_size:
                    pass
            except Exception:
                log.exception("reminder pass failed; will try again")
            await asyncio.sleep(self.settings.reminder_poll_seconds)


def subscribe(runtime: Runtime[Settings], notices: "NoticeHandlers") -> None:
    """The scheduling subscriptions (names "notification.reminders.<x>") and the firing."""
    r = Reminders(runtime.settings)
    r.signature = notices.signature
    runtime.extras[EXTRA_KEY] = Firing(runtime.sessions, runtime.settings, notices)
    name = "notification.reminders."
    runtime.handle(ReservationConfirmed, r.confirmed, name=name + "confirmed")
    runtime.handle(ReservationModified, r.modified, name=name + "modified")
    runtime.handle(ReservationCheckedIn, r.checked_in, name=name + "checked_in")
    runtime.handle(ReservationCancelled, r.ended, name=name + "cancelled")
    runtime.handle(ReservationExpired, r.ended, name=name + "expired")
    runtime.handle(ReservationNoShow, r.ended, name=name + "no_show")
    runtime.handle(ReservationCheckedOut, r.ended, name=name + "checked_out")
    runtime.handle(TransferAssigned, r.pickup_assigned, name=name + "pickup_assigned")
    runtime.handle(TransferRescheduled, r.pickup_changed, name=name + "pickup_rescheduled")
    runtime.handle(TransferReassigned, r.pickup_changed, name=name + "pickup_reassigned")
    runtime.handle(TransferCancelled, r.pickup_cancelled, name=name + "pickup_cancelled")
    runtime.handle(SurveyRequested, r.survey_requested, name=name + "survey_requested")
    runtime.handle(SurveyAnswered, r.survey_answered, name=name + "survey_answered")


def firing_of(runtime: Runtime[Settings]) -> Firing:
    firing: Firing = runtime.extras[EXTRA_KEY]
    return firing


async def fire_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker."""
    await firing_of(runtime).run()
