"""Consumed events: each queues one notice in the handler's transaction. Sending happens
after the commit (the delivery worker is woken by it), never inside the handler.

Concurrency: the booking's and its pickup's events all belong to the reservation, and are
subscribed with their contracts, so their handlers run one at a time per reservation, across
prefetch and replicas (hotel_common/events/inbox.py). The "already cancelled?" check therefore
sees a cancellation notice committed by a concurrent handler, and no confirmation, pickup,
change or expiry notice is queued after the cancellation notice of its booking, whatever order
the events come in. A change or pickup older than one the guest was already told of (by version)
is not told. A cancellation is final (reservation-service never confirms a cancelled booking, so
it always has the highest version): any known cancellation outranks a confirmation or pickup.
Notices queued before the cancellation and still waiting are the delivery worker's to drop at
claim time.
"""

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from hotel_common.contracts.guests import (
    BirthdayBenefitGranted,
    ComplaintNotice,
    GuestContactPreferencesChanged,
    GuestErased,
    LoyaltyTierChanged,
    PointsExpiring,
    SurveyRequested,
)
from hotel_common.contracts.identity import SignInCodeRequested
from hotel_common.contracts.reservations import (
    ReservationCancelled,
    ReservationCheckedOut,
    ReservationConfirmed,
    ReservationCreated,
    ReservationExpired,
    ReservationModified,
    ReservationNoShow,
)
from hotel_common.contracts.transfers import (
    TransferAssigned,
    TransferCancelled,
    TransferReassigned,
    TransferRescheduled,
    TransferStatusChanged,
)
from hotel_common.db import after_commit
from hotel_common.events.envelope import IntegrationEvent, newer
from hotel_common.service import Runtime
from hotel_common.time import as_utc, utcnow
from sqlalchemy import bindparam, exists, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import (
    bad_addresses,
    booking_notices,
    devices,
    erasure,
    inbox,
    notices,
    partner_notices,
    preferences,
    reach,
    reminders,
    rendering,
    staff_inbox,
    statuses,
    templates,
    transfer_notices,
)
from notification_service.booking_handlers import BookingHandlers
from notification_service.config import Settings
from notification_service.delivery import delivery_of
from notification_service.guest_handlers import GuestHandlers
from notification_service.models import Channel, Kind, Notification, Purpose, Reason, Status

log = logging.getLogger(__name__)


class _Contact(Protocol):
    """The guest as a booking's or a pickup's event names them."""

    @property
    def email(self) -> str: ...
    @property
    def phone(self) -> str | None: ...


class NoticeHandlers:
    """One handler per consumed event; `wake` nudges the delivery worker once a notice commits."""

    def __init__(self, wake: Callable[[], None], signature: str) -> None:
        self.wake = wake
        self.signature = signature  # sign-off where the event names no property

    async def reservation_confirmed(
        self, session: AsyncSession, event: ReservationConfirmed
    ) -> None:
        if await _cancelled(session, event.reservation_id):
            return
        await self.tell(
            session, event, lambda lang: notices.confirmation(event, lang), contact=event.guest
        )

    async def transfer_assigned(self, session: AsyncSession, event: TransferAssigned) -> None:
        # An ad-hoc job (no booking) has no cancellation or booking version to compare with.
        if event.reservation_id is not None:
            if await _cancelled(session, event.reservation_id):
                return
            if await _told_later(session, event, Kind.TRANSFER_ASSIGNED):
                return  # a pickup moved since: the guest has the newer one
        await self.tell(
            session,
            event,
            lambda lang: notices.pickup(
                event, self.signature, lang, urgent=self.pickup_is_soon(event.pickup_time)
            ),
            contact=event.guest,
        )

    async def transfer_rescheduled(self, session: AsyncSession, event: TransferRescheduled) -> None:
        if event.reason == "booking_changed":
            # The guest moved it: told by the booking's change and the pickup's new notice.
            log.info("pickup moved with the booking: no notice of its own", extra=_job(event))
            return
        if await self._stale(session, event):
            return
        await self.tell(
            session,
            event,
            lambda lang: notices.rescheduled(
                event, self.signature, lang, urgent=self.pickup_is_soon(event.pickup_time)
            ),
            contact=event.guest,
        )

    async def transfer_reassigned(self, session: AsyncSession, event: TransferReassigned) -> None:
        if await self._stale(session, event):
            return
        await self.tell(
            session,
            event,
            lambda lang: notices.reassigned(
                event, self.signature, lang, urgent=self.pickup_is_soon(event.pickup_time)
            ),
            contact=event.guest,
        )

    async def transfer_status_changed(
        self, session: AsyncSession, event: TransferStatusChanged
    ) -> None:
        """Of the live steps the driver on site (issue 20: where, which car, urgent) and a
        no-show are told (the guest was there for the others; the receipt is the front desk's,
        with the folio)."""
        if event.status == "driver_on_site":
            await self.driver_on_site(session, event)
            return
        if event.status != "no_show":
            return
        if event.reservation_id is not None and await _cancelled(session, event.reservation_id):
            return
        await self.tell(
            session,
            event,
            lambda lang: notices.no_show(event, self.signature, lang),
            contact=event.guest,
        )

    # -- issue 20: the driver on site, a ride called off, urgent pickups ------------------------
    # How close to its time a pickup's notice is urgent (subscribe() sets it from Settings).
    urgent_pickup_within = timedelta(hours=6)

    def pickup_is_soon(self, pickup_time: datetime) -> bool:
        return transfer_notices.pickup_is_soon(pickup_time, self.urgent_pickup_within)

    async def driver_on_site(self, session: AsyncSession, event: TransferStatusChanged) -> None:
        """The driver is waiting: told at once (urgent), unless the booking was cancelled."""
        if event.reservation_id is not None and await _cancelled(session, event.reservation_id):
            return
        await self.tell(
            session,
            event,
            lambda lang: transfer_notices.driver_on_site(event, self.signature, lang),
            contact=event.guest,
        )

    async def transfer_cancelled(self, session: AsyncSession, event: TransferCancelled) -> None:
        """Only a ride called off by itself (dispatch: the guest asked, or operations) is told.
        One called off by its booking (cancelled, no-show, expired, the pickup dropped by a
        change) is the booking's notice's to tell; an event without the guest (published
        before issue 20) cannot be told."""
        extra = {"transfer_id": event.transfer_id, "event_id": event.event_id}
        if event.guest is None:
            log.info("pickup cancelled without the guest named: not told", extra=extra)
            return
        if event.cause == "booking":
            log.info("pickup cancelled with its booking: the booking's notice tells", extra=extra)
            return
        if await _cancelled(session, event.reservation_id):
            return  # the booking's cancellation told the guest (or they were erased)
        soon = event.pickup_time is not None and self.pickup_is_soon(event.pickup_time)
        await self.tell(
            session,
            event,
            lambda lang: transfer_notices.transfer_cancelled(
                event, self.signature, lang, urgent=soon
            ),
            contact=event.guest,
        )

    async def _stale(
        self, session: AsyncSession, event: TransferRescheduled | TransferReassigned
    ) -> bool:
        """The booking was cancelled, or the guest was already told of a later version of the
        job (a retried event overtaken by a newer one would name a time or a car no longer
        true)."""
        if event.reservation_id is not None and await _cancelled(session, event.reservation_id):
            return True
        told = await session.exec(
            select(Notification.transfer_version).where(
                Notification.transfer_id == event.transfer_id,
                col(Notification.kind).in_(JOB_KINDS),
                col(Notification.transfer_version).is_not(None),
            )
        )
        latest = max((v for v in told.all() if v is not None), default=None)
        if latest is None or newer(event.aggregate_version, latest):
            return False
        log.info("notice dropped: a later one of the job was already told", extra=_job(event))
        return True

    async def reservation_cancelled(
        self, session: AsyncSession, event: ReservationCancelled
    ) -> None:
        if event.reason_code == "guarantee_expired":  # issue 20: its own notice
            await self.tell(
                session,
                event,
                lambda lang: booking_notices.guarantee_expired(event, lang),
                contact=event.guest,
                kind=Kind.GUARANTEE_EXPIRED,
            )
            return
        await self.tell(
            session, event, lambda lang: notices.cancellation(event, lang), contact=event.guest
        )

    async def reservation_modified(self, session: AsyncSession, event: ReservationModified) -> None:
        if await _cancelled(session, event.reservation_id):
            return
        if await _told_later(session, event, Kind.RESERVATION_MODIFIED):
            return
        if not notices.shows_change(event):
            log.info("change the guest does not see: no notice", extra={"id": event.event_id})
            return
        await self.tell(
            session, event, lambda lang: notices.modification(event, lang), contact=event.guest
        )

    async def reservation_expired(self, session: AsyncSession, event: ReservationExpired) -> None:
        if await _cancelled(session, event.reservation_id):
            return
        await self.tell(
            session, event, lambda lang: notices.expiry(event, lang), contact=event.guest
        )

    async def sign_in_code_requested(
        self, session: AsyncSession, event: SignInCodeRequested
    ) -> None:
        """Queue the code for sending; one already expired (a late or redelivered event) is
        dropped. The code is stored apart from the body, only until it is sent."""
        now = utcnow()
        if as_utc(event.expires_at) <= now:
            log.info("sign-in code expired before it could be sent", extra={"id": event.event_id})
            return
        if not event.email and not event.phone:
            raise ValueError("a sign-in code needs an email or a phone")  # parked, visible
        notice = notices.sign_in(event, self.signature, now)
        await self._queue(
            session, event, notice, secret=event.code, expires_at=as_utc(event.expires_at)
        )

    async def tell(
        self,
        session: AsyncSession,
        event: IntegrationEvent,
        build: Callable[[str | None], notices.Notice | None],
        *,
        contact: _Contact | None = None,
        guest_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        kind: Kind | None = None,
    ) -> None:
        """Queue the notice `build` makes in the language the guest prefers (None: the event's),
        to the channel and address, and at the time, their contact preferences allow (reach.py),
        with the other usable channels as its fallback; nothing when the guest was erased. With
        no usable channel the notice is recorded as suppressed with the reason (no_channel, or
        no_consent for marketing), never dropped silently. `kind` (known before building)
        decides whether it is marketing and whether it may wait; without it, a service notice
        that goes at once (bookings, pickups). An urgent notice ignores quiet hours."""
        if contact is not None:
            email, phone = contact.email, contact.phone
        # The profiles holding the event's email and phone, and whether they are bad
        # addresses, in one query.
        held, known = await bad_addresses.holders_and_bad(session, email=email, phone=phone)
        wishes = await preferences.wishes_of(
            session, guest_id=guest_id, email=email, phone=phone, held=held
        )
        if wishes is not None and wishes.erased:
            log.info("notice dropped: the guest was erased", extra={"guest_id": wishes.guest_id})
            return
        purpose = reach.purpose_of(kind)
        emails = [e for e in (email, *(wishes.emails if wishes else ())) if e]
        phones = [p for p in (phone, *(wishes.phones if wishes else ())) if p]
        bad = await bad_addresses.bad_of(
            session, [("email", e) for e in emails] + [("sms", p) for p in phones], known
        )
        # Push is a channel this notice could use: any service notice's (its fallback at
        # least), a marketing one's only where the guest listed push (reach.route). Else the
        # devices are not looked up (a marketing notice refused for consent has an email or a
        # phone whenever it has a device: they are how devices are found).
        push_usable = purpose is Purpose.SERVICE or (
            wishes is not None and Channel.PUSH.value in wishes.channels
        )
        tokens = (
            await devices.tokens_for(
                session, email=emails[0] if emails else None, phone=phones[0] if phones else None
            )
            if push_usable
            else []
        )
        way = reach.route(
            wishes,
            purpose=purpose,
            can_wait=reach.can_wait(kind),
            email=email,
            phone=phone,
            now=utcnow(),
            bad=frozenset(bad),
            push=bool(tokens),
        )
        owner = wishes.guest_id if wishes else guest_id
        if way is None:
            refused = purpose is Purpose.MARKETING and bool(emails or phones or tokens)
            reason = Reason.NO_CONSENT if refused else Reason.NO_CHANNEL
            log.info(
                "notice not sent: no channel the guest allows",
                extra={"event_id": event.event_id, "kind": kind, "reason": reason},
            )
            notice = build(wishes.language if wishes else None)
            if notice is not None:
                notice = replace(
                    notice,
                    email=(notice.email or "").strip() if notice.email not in bad else "",
                    phone=notice.phone if notice.phone not in bad else None,
                    guest_id=notice.guest_id or owner,
                )
                row = await self._queue(session, event, notice, purpose=purpose, suppressed=reason)
                if reason is Reason.NO_CHANNEL and purpose is Purpose.SERVICE:
                    # A service notice the guest cannot be told by: the front desk reaches them.
                    await staff_inbox.guest_unreachable(session, row)
            return
        notice = build(way.language)
        if notice is None:
            return
        notice = replace(
            notice, email=way.email, phone=way.phone, guest_id=notice.guest_id or owner
        )
        await self._queue(
            session,
            event,
            notice,
            purpose=purpose,
            not_before=None if notice.urgent else way.not_before,
            channel=way.channel,
            fallback=list(way.fallback),
        )

    async def _queue(
        self,
        session: AsyncSession,
        event: IntegrationEvent,
        notice: notices.Notice,
        *,
        secret: str | None = None,
        expires_at: datetime | None = None,
        purpose: Purpose = Purpose.SERVICE,
        not_before: datetime | None = None,
        channel: Channel | None = None,
        fallback: list[dict[str, str]] | None = None,
        suppressed: Reason | None = None,
    ) -> Notification:
        """Render and add the notice's row (once per event: the inbox keys it by the
        subscription's stable name). `channel`: None: a text message when the notice names a
        phone, else email. `fallback`: the other channels in order, each rendered now for its
        channel (the sender falls back without the template context). `suppressed`: recorded,
        never sent, with that reason. The delivery deadline (`deliver_by`) is set by the sender
        when it first takes the notice (delivery.py)."""
        if channel is None:
            channel = Channel.SMS if notice.phone else Channel.EMAIL
        # As rendering.render_for, per channel, with the kind's overrides read once (one query).
        kind, language, context = notice.kind, notice.language, notice.context
        overrides = await templates.overrides_of(session, kind)
        rendered, served = rendering.render_or_file(kind, channel, language, context, overrides)
        # The email's subject is a short text's title (unless it has its own): kept, not
        # rendered again, when the overrides served it.
        title = rendered.subject if channel is Channel.EMAIL and served else None
        entries: list[dict[str, str]] = []
        for entry in fallback or []:
            again, again_served = rendering.render_or_file(
                kind, entry["channel"], language, context, overrides, title=title
            )
            if entry["channel"] == "email" and again_served and title is None:
                title = again.subject
            entries.append(
                {**entry, "language": again.language, "subject": again.subject, "body": again.body}
                | ({"html": again.html} if again.html and entry["channel"] == "email" else {})
            )
        notification = Notification(
            event_id=event.event_id,
            kind=notice.kind,
            reservation_id=notice.reservation_id,
            confirmation_number=notice.confirmation_number,
            channel=channel,
            email=(notice.email or "").strip(),
            phone=notice.phone,
            language=rendered.language,
            subject=rendered.subject,
            body=rendered.body,
            html=rendered.html if channel is Channel.EMAIL else None,
            # Kept on every channel: an email it falls back to carries it (the ICS).
            calendar=notice.calendar,
            urgent=notice.urgent,
            secret=secret,
            expires_at=expires_at,
            reservation_version=notice.version,
            transfer_id=notice.transfer_id,
            transfer_version=notice.transfer_version,
            guest_id=notice.guest_id,
            purpose=purpose,
            fallback=entries or None,
            partner_id=await partner_of(session, event, notice.reservation_id),
        )
        if suppressed is not None:
            notification.status = Status.SUPPRESSED
            notification.reason = suppressed
            notification.next_attempt_at = None
            notification.secret = None
            session.add(notification)
            statuses.recorded(session, notification)
            log.info(
                "notice recorded as suppressed",
                extra={"kind": notice.kind, "event_id": event.event_id, "reason": suppressed},
            )
            return notification
        if not_before is not None:  # the guest's quiet hours: the sender picks it up then
            notification.next_attempt_at = notification.deferred_until = not_before
        session.add(notification)
        # The app's copy is always the long text, whichever channel the notice goes on (an SMS
        # notice's short text is no message to keep); a no-op for sign-in codes and digests.
        if notice.kind not in inbox.NOT_KEPT:
            long = (
                rendered  # the email's long text, when the same template serves the inbox
                if channel is Channel.EMAIL
                and served
                and rendering.choose(kind, "inbox", language, overrides)
                == rendering.choose(kind, "email", language, overrides)
                else rendering.render_or_file(kind, "inbox", language, context, overrides)[0]
            )
            await inbox.keep(session, notification, long)
        after_commit(session, self.wake)
        log.info(
            "notice queued",
            extra={
                "kind": notice.kind,
                "event_id": event.event_id,
                "language": rendered.language,
                "channel": channel,
                "deferred": not_before is not None,
            },
        )
        return notification


JOB_KINDS = (Kind.TRANSFER_RESCHEDULED, Kind.TRANSFER_REASSIGNED)


def _job(event: TransferRescheduled | TransferReassigned) -> dict[str, object]:
    return {"transfer_id": event.transfer_id, "version": event.aggregate_version}


async def _cancelled(session: AsyncSession, reservation_id: str) -> bool:
    """Has the guest been told this booking is cancelled, or been erased? A confirmation or
    pickup retried after the cancellation overtook it must not reach the guest after the
    cancellation; nothing of a booking whose guest was erased reaches anyone (its late events
    still carry the address)."""
    # Both in one query (every booking's and pickup's notice asks). Core on the connection,
    # after flushing what the caller left pending (as autoflush would).
    if session.new or session.dirty or session.deleted:
        await session.flush()
    conn = await session.connection()
    params = {"reservation_id": reservation_id}
    found = {row[0] for row in await conn.execute(_ERASED_OR_CANCELLED, params)}
    if "erased" in found:
        log.info("notice dropped: the guest was erased", extra={"reservation_id": reservation_id})
        return True
    if "cancelled" not in found:
        return False
    log.info("notice dropped: the booking was cancelled", extra={"reservation_id": reservation_id})
    return True


# Built once (its cache key too): is the booking erased (erasure.booking_erased), has its
# cancellation been told? One row per yes.
_ERASED_OR_CANCELLED = union_all(
    sa_select(literal("erased")).where(
        exists().where(col(erasure.ErasedBooking.reservation_id) == bindparam("reservation_id"))
    ),
    sa_select(literal("cancelled")).where(
        exists().where(
            col(Notification.reservation_id) == bindparam("reservation_id"),
            col(Notification.kind) == Kind.RESERVATION_CANCELLED.value,
        )
    ),
)


async def partner_of(
    session: AsyncSession, event: IntegrationEvent, reservation_id: str | None
) -> str | None:
    """Issue 21: the partner whose key made the notice's booking (None: a direct booking, or
    no booking). reservation.created and reservation.confirmed say so themselves (no read);
    any other event's notice takes it from the booking's earlier notices (one indexed read by
    reservation_id; every booking is told its request or confirmation first)."""
    if reservation_id is None:
        return None
    if isinstance(event, ReservationCreated | ReservationConfirmed):
        return event.partner_id
    found = await session.exec(_PARTNER_OF, params={"reservation_id": reservation_id})
    return found.first()


# Built once: a partner id from the booking's earlier notices (None: a direct booking).
_PARTNER_OF = (
    select(Notification.partner_id)
    .where(
        col(Notification.reservation_id) == bindparam("reservation_id"),
        col(Notification.partner_id).is_not(None),
    )
    .limit(1)
)


async def _told_later(
    session: AsyncSession, event: ReservationModified | TransferAssigned, kind: Kind
) -> bool:
    """Was the guest told a notice of `kind` of this booking at this version or a later one? A
    change, or a pickup (each moved pickup carries the version of the change that moved it),
    retried after a later one overtook it would describe the booking as it no longer is."""
    version = event.aggregate_version
    told = await session.exec(
        select(Notification.reservation_version).where(
            Notification.reservation_id == event.reservation_id,
            Notification.kind == kind,
            col(Notification.reservation_version).is_not(None),
        )
    )
    latest = max((v for v in told.all() if v is not None), default=None)
    if latest is None or newer(version, latest):
        return False
    log.info(
        "notice dropped: a later one was already told",
        extra={"reservation_id": event.reservation_id, "kind": kind, "version": version},
    )
    return True


def subscribe(runtime: Runtime[Settings]) -> None:
    handlers = NoticeHandlers(delivery_of(runtime).wake, runtime.settings.sender_name)
    # `formerly`: the keys these handlers were recorded under before they had names.
    former = "notification_service.handlers.NoticeHandlers."
    runtime.handle(
        ReservationConfirmed,
        handlers.reservation_confirmed,
        name="notification.booking_confirmed",
        formerly=[former + "reservation_confirmed"],
    )
    runtime.handle(
        TransferAssigned,
        handlers.transfer_assigned,
        name="notification.pickup_assigned",
        formerly=[former + "transfer_assigned"],
    )
    runtime.handle(
        TransferRescheduled, handlers.transfer_rescheduled, name="notification.pickup_rescheduled"
    )
    runtime.handle(
        TransferReassigned, handlers.transfer_reassigned, name="notification.pickup_reassigned"
    )
    # A job's step the guest hears of: the driver on site, or the guest not found (a no-show).
    runtime.handle(
        TransferStatusChanged,
        handlers.transfer_status_changed,
        name="notification.pickup_step",
        formerly=["notification.pickup_no_show"],
    )
    runtime.handle(
        ReservationCancelled,
        handlers.reservation_cancelled,
        name="notification.booking_cancelled",
        formerly=[former + "reservation_cancelled"],
    )
    runtime.handle(
        ReservationModified, handlers.reservation_modified, name="notification.booking_modified"
    )
    runtime.handle(
        ReservationExpired, handlers.reservation_expired, name="notification.booking_expired"
    )
    runtime.handle(
        SignInCodeRequested, handlers.sign_in_code_requested, name="notification.send_sign_in_code"
    )
    # Issue 20: transfers (the driver on site: notification.pickup_step above).
    handlers.urgent_pickup_within = timedelta(hours=runtime.settings.urgent_pickup_within_hours)
    runtime.handle(
        TransferCancelled, handlers.transfer_cancelled, name="notification.pickup_cancelled"
    )
    # Issue 19: the guest CRM (guest_handlers.py).
    guests = GuestHandlers(handlers)
    runtime.handle(
        GuestContactPreferencesChanged,
        guests.preferences_changed,
        name="notification.contact_preferences",
    )
    runtime.handle(GuestErased, guests.guest_erased, name="notification.guest_erased")
    runtime.handle(SurveyRequested, guests.survey_requested, name="notification.survey_invitation")
    runtime.handle(ComplaintNotice, guests.complaint_notice, name="notification.complaint_notice")
    runtime.handle(PointsExpiring, guests.points_expiring, name="notification.points_expiring")
    runtime.handle(BirthdayBenefitGranted, guests.birthday, name="notification.birthday_greeting")
    runtime.handle(LoyaltyTierChanged, guests.tier_changed, name="notification.loyalty_tier")
    # Issue 20: the staff inbox's own subscriptions ("notification.staff.<x>", staff_inbox.py).
    staff_inbox.subscribe(runtime)
    # Issue 20: the booking's notices and the reminders scheduled from it.
    bookings = BookingHandlers(handlers)
    runtime.handle(
        ReservationCreated, bookings.reservation_created, name="notification.booking_created"
    )
    runtime.handle(
        ReservationNoShow, bookings.reservation_no_show, name="notification.booking_no_show"
    )
    runtime.handle(
        ReservationCheckedOut, bookings.reservation_checked_out, name="notification.stay_thanks"
    )
    reminders.subscribe(runtime, handlers)
    # Issue 21: notices to partners (partner_notices.py).
    partner_notices.subscribe(runtime, delivery_of(runtime).wake)
