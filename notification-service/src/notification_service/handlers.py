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
from datetime import datetime
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
    TransferReassigned,
    TransferRescheduled,
    TransferStatusChanged,
)
from hotel_common.db import after_commit
from hotel_common.events.envelope import IntegrationEvent, newer
from hotel_common.service import Runtime
from hotel_common.time import as_utc, utcnow
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import (
    booking_notices,
    erasure,
    inbox,
    notices,
    preferences,
    reach,
    reminders,
    rendering,
)
from notification_service.booking_handlers import BookingHandlers
from notification_service.config import Settings
from notification_service.delivery import delivery_of
from notification_service.guest_handlers import GuestHandlers
from notification_service.models import Channel, Kind, Notification, Purpose

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
            lambda lang: notices.pickup(event, self.signature, lang),
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
            lambda lang: notices.rescheduled(event, self.signature, lang),
            contact=event.guest,
        )

    async def transfer_reassigned(self, session: AsyncSession, event: TransferReassigned) -> None:
        if await self._stale(session, event):
            return
        await self.tell(
            session,
            event,
            lambda lang: notices.reassigned(event, self.signature, lang),
            contact=event.guest,
        )

    async def transfer_status_changed(
        self, session: AsyncSession, event: TransferStatusChanged
    ) -> None:
        """Of the live steps only a no-show is told (the guest was there for the others; the
        receipt is the front desk's, with the folio)."""
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
        to the channel and address, and at the time, their contact preferences allow (reach.py);
        nothing when they allow none, or the guest was erased. `kind` (known before building)
        decides whether it is marketing and whether it may wait; without it, a service notice
        that goes at once (bookings, pickups)."""
        if contact is not None:
            email, phone = contact.email, contact.phone
        wishes = await preferences.wishes_of(session, guest_id=guest_id, email=email, phone=phone)
        if wishes is not None and wishes.erased:
            log.info("notice dropped: the guest was erased", extra={"guest_id": wishes.guest_id})
            return
        purpose = reach.purpose_of(kind)
        way = reach.route(
            wishes,
            purpose=purpose,
            can_wait=reach.can_wait(kind),
            email=email,
            phone=phone,
            now=utcnow(),
        )
        if way is None:
            log.info(
                "notice not sent: no channel the guest allows",
                extra={"event_id": event.event_id, "kind": kind, "purpose": purpose},
            )
            return
        notice = build(way.language)
        if notice is None:
            return
        notice = replace(
            notice,
            email=way.email,
            phone=way.phone,
            guest_id=notice.guest_id or (wishes.guest_id if wishes else guest_id),
        )
        await self._queue(session, event, notice, purpose=purpose, not_before=way.not_before)

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
    ) -> None:
        # Once per event: the inbox keys it by the subscription's stable name.
        channel = Channel.SMS if notice.phone else Channel.EMAIL
        rendered = rendering.render_for(notice.kind, channel, notice.language, notice.context)
        notification = Notification(
            event_id=event.event_id,
            kind=notice.kind,
            reservation_id=notice.reservation_id,
            confirmation_number=notice.confirmation_number,
            channel=channel,
            email=notice.email.strip(),
            phone=notice.phone,
            language=rendered.language,
            subject=rendered.subject,
            body=rendered.body,
            html=rendered.html if channel is Channel.EMAIL else None,
            calendar=notice.calendar if channel is Channel.EMAIL else None,
            urgent=notice.urgent,
            secret=secret,
            expires_at=expires_at,
            reservation_version=notice.version,
            transfer_id=notice.transfer_id,
            transfer_version=notice.transfer_version,
            guest_id=notice.guest_id,
            purpose=purpose,
        )
        if not_before is not None:  # the guest's quiet hours: the sender picks it up then
            notification.next_attempt_at = notification.deferred_until = not_before
        session.add(notification)
        await inbox.keep(session, notification)  # the app's copy (a no-op for sign-in codes)
        after_commit(session, self.wake)
        log.info(
            "notice queued",
            extra={
                "kind": notice.kind,
                "event_id": event.event_id,
                "language": rendered.language,
                "deferred": not_before is not None,
            },
        )


JOB_KINDS = (Kind.TRANSFER_RESCHEDULED, Kind.TRANSFER_REASSIGNED)


def _job(event: TransferRescheduled | TransferReassigned) -> dict[str, object]:
    return {"transfer_id": event.transfer_id, "version": event.aggregate_version}


async def _cancelled(session: AsyncSession, reservation_id: str) -> bool:
    """Has the guest been told this booking is cancelled, or been erased? A confirmation or
    pickup retried after the cancellation overtook it must not reach the guest after the
    cancellation; nothing of a booking whose guest was erased reaches anyone (its late events
    still carry the address)."""
    if await erasure.booking_erased(session, reservation_id):
        log.info("notice dropped: the guest was erased", extra={"reservation_id": reservation_id})
        return True
    told = await session.exec(
        select(Notification.id).where(
            Notification.reservation_id == reservation_id,
            Notification.kind == "reservation_cancelled",
        )
    )
    if told.first() is None:
        return False
    log.info("notice dropped: the booking was cancelled", extra={"reservation_id": reservation_id})
    return True


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
    runtime.handle(
        TransferStatusChanged, handlers.transfer_status_changed, name="notification.pickup_no_show"
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
