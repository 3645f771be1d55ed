"""What each consumed event tells the guest: who gets which notice, with which values.

Values are formatted here for the guest's language (dates, money, local times), so templates
only place them; a template that forgets one is caught by the template completeness test.
"""

import logging
import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from hotel_common.contracts.identity import SignInCodeRequested
from hotel_common.contracts.reservations import (
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationModified,
)
from hotel_common.contracts.transfers import (
    TransferAssigned,
    TransferReassigned,
    TransferRescheduled,
    TransferStatusChanged,
)
from hotel_common.time import as_utc

from notification_service import formatting as fmt
from notification_service.models import Kind
from notification_service.rendering import Rendered, render, resolve_language

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    kind: Kind
    reservation_id: str | None  # None: no booking (a sign-in code, an ad-hoc transfer)
    confirmation_number: str | None
    email: str
    language: str
    context: dict[str, Any]
    phone: str | None = None  # set: a text message to this number instead of an email
    version: int | None = None  # the reservation's version the notice tells of
    transfer_id: str | None = None  # a transfer notice's job
    transfer_version: int | None = None  # the job's version it tells of (its own events)
    guest_id: str | None = None  # the guest profile it goes to, when the event names it
    # Issue 20: goes at once whatever the quiet hours, with the short delivery deadline (a
    # pickup changed within hours, the driver on site, a sign-in code).
    urgent: bool = False
    # Email only: the booking's calendar entry, sent as an ICS attachment (ics.py).
    calendar: dict[str, Any] | None = None

    def render(self) -> Rendered:
        return render(self.kind, self.language, self.context)


GuestEvent = (
    ReservationConfirmed
    | TransferAssigned
    | ReservationCancelled
    | ReservationModified
    | ReservationExpired
)


def _to_guest(kind: Kind, event: GuestEvent, language: str, **context: Any) -> Notice:
    """A notice to the event's guest: every one greets them and names the booking."""
    return Notice(
        kind=kind,
        reservation_id=event.reservation_id,
        confirmation_number=event.confirmation_number,
        email=event.guest.email,
        language=language,
        context={
            "guest_name": event.guest.name,
            "confirmation_number": event.confirmation_number,
            **context,
        },
        version=event.aggregate_version,
        transfer_id=event.transfer_id if isinstance(event, TransferAssigned) else None,
    )


def with_calendar(
    kind: Kind,
    event: ReservationConfirmed | ReservationModified | ReservationCancelled,
    language: str,
    **context: Any,
) -> Notice:
    """A notice to the guest about their stay, with the stay's calendar entry."""
    notice = _to_guest(kind, event, language, **context)
    return replace(notice, calendar=calendar_of(event, language))


# The calendar entry's texts per language: what the guest's calendar shows.
_SUMMARY = {"en": "Stay at {}", "zh-Hans": "入住{}", "zh-Hant": "入住{}"}
_DESCRIPTION = {
    "en": "Confirmation number: {}",
    "zh-Hans": "确认号\uff1a{}",
    "zh-Hant": "確認編號\uff1a{}",
}


def calendar_of(
    event: ReservationConfirmed | ReservationModified | ReservationCancelled, language: str
) -> dict[str, Any]:
    """The booking's calendar entry (ics.py): one event per booking (its UID from the
    reservation id), its SEQUENCE the booking's version so each change updates the guest's
    event, cancelled by a CANCEL; from check-in to check-out at the property's clock times when
    the event carries them (a cancellation does not: its entry is all-day, which a CANCEL may
    be, the UID alone naming the event)."""
    cancelled = isinstance(event, ReservationCancelled)
    clock: tuple[str | None, str | None, str | None] = (
        (None, None, None)
        if isinstance(event, ReservationCancelled)
        else (event.check_in_time, event.check_out_time, event.property_timezone)
    )
    return {
        "uid": event.reservation_id,
        "sequence": event.aggregate_version or 0,
        "method": "CANCEL" if cancelled else "REQUEST",
        "start": event.check_in.isoformat(),
        "end": event.check_out.isoformat(),
        "check_in_time": clock[0],
        "check_out_time": clock[1],
        "timezone": clock[2],
        "summary": _SUMMARY.get(language, _SUMMARY["en"]).format(event.property_name),
        "location": event.property_name,
        "description": _DESCRIPTION.get(language, _DESCRIPTION["en"]).format(
            event.confirmation_number
        ),
        # A request changed before the hotel confirmed it: in the calendar, but tentative.
        "status": (
            "TENTATIVE"
            if isinstance(event, ReservationModified) and event.status == "requested"
            else None
        ),
    }


def confirmation(event: ReservationConfirmed, language: str | None = None) -> Notice:
    """Details, booking number, bring ID, front-desk sign-off (docs/domain.md, Notifications)."""
    lang = resolve_language(language or event.guest.language)
    transfer = event.transfer
    return with_calendar(
        Kind.RESERVATION_CONFIRMED,
        event,
        lang,
        property_name=event.property_name,
        room_type=event.room_type_name,
        check_in=fmt.day(event.check_in, lang),
        check_out=fmt.day(event.check_out, lang),
        nights=(event.check_out - event.check_in).days,
        guests=event.guests,
        total=fmt.money(event.total_amount, event.currency),
        # Only a promise here: the driver's details follow in the pickup notice.
        transfer_place=transfer.pickup_place if transfer else None,
        transfer_arrival=(
            fmt.local_time(transfer.arrival_time, fmt.zone(event.property_timezone), lang)
            if transfer
            else None
        ),
    )


def _crew(
    event: TransferAssigned | TransferReassigned | TransferRescheduled, known: bool = True
) -> dict[str, str | None]:
    """Who comes for the guest, as a transfer notice shows it (nothing when not `known`)."""
    return {
        "driver_name": event.driver_name if known else None,
        "driver_phone": event.driver_phone if known else None,
        "vehicle_plate": event.vehicle_plate if known else None,
        "vehicle_description": event.vehicle_description if known else None,
    }


def pickup(
    event: TransferAssigned, signature: str, language: str | None = None, *, urgent: bool = False
) -> Notice:
    """The car, the driver, and when the driver is there (docs/domain.md, Notifications);
    `urgent` (issue 20): the pickup is within hours, the notice goes at once."""
    lang = resolve_language(language or event.guest.language)
    tz = fmt.zone(event.property_timezone)
    same_day = (
        event.pickup_time.astimezone(tz).date() == event.driver_on_site_at.astimezone(tz).date()
    )
    notice = _to_guest(
        Kind.TRANSFER_ASSIGNED,
        event,
        lang,
        pickup_place=event.pickup_place,
        destination=event.destination,
        pickup_time=fmt.local_time(event.pickup_time, tz, lang),
        driver_on_site=fmt.local_time(event.driver_on_site_at, tz, lang, with_date=not same_day),
        flight_number=event.flight_number,
        **_crew(event),
        signature=signature,
    )
    return replace(notice, urgent=urgent)


def cancellation(event: ReservationCancelled, language: str | None = None) -> Notice:
    """The result, why when the hotel's system cancelled (an unmet guarantee), the fee and the
    refund when there are any, thanks (docs/domain.md, Notifications)."""
    lang = resolve_language(language or event.guest.language)
    currency = event.currency
    return with_calendar(
        Kind.RESERVATION_CANCELLED,
        event,
        lang,
        property_name=event.property_name,
        check_in=fmt.day(event.check_in, lang),
        check_out=fmt.day(event.check_out, lang),
        # No `reason`: it is written by and for staff, not for the guest. The code is ours.
        guarantee_expired=event.reason_code == "guarantee_expired",
        fee=(
            fmt.money(event.cancellation_fee_amount, currency)
            if event.cancellation_fee_amount and currency
            else None
        ),
        refund=(
            fmt.money(event.refund_amount, currency) if event.refund_amount and currency else None
        ),
    )


# The changes a guest is told of; the others (the rate plan's code, the tax, the policy's
# snapshot, a guarantee's deadline) are the hotel's, or show in these.
TOLD_CHANGES = ("check_in", "check_out", "room_type_code", "guests", "total_amount", "transfer")


def shows_change(event: ReservationModified) -> bool:
    """Whether anything the guest sees changed (else no notice)."""
    return any(name in event.changes for name in TOLD_CHANGES)


def modification(event: ReservationModified, language: str | None = None) -> Notice | None:
    """The booking as it now is, each changed value beside its former one, and the pickup when
    it changed; None when nothing the guest sees changed (docs/domain.md, Notifications)."""
    if not shows_change(event):
        return None
    changes = event.changes
    lang = resolve_language(language or event.guest.language)
    transfer = event.transfer if "transfer" in changes else None
    old_currency = _was(changes, "currency")
    old_total = _was(changes, "total_amount")
    return with_calendar(
        Kind.RESERVATION_MODIFIED,
        event,
        lang,
        property_name=event.property_name,
        room_type=event.room_type_name,
        check_in=fmt.day(event.check_in, lang),
        check_out=fmt.day(event.check_out, lang),
        nights=(event.check_out - event.check_in).days,
        guests=event.guests,
        total=fmt.money(event.total_amount, event.currency),
        was_check_in=_was_day(changes, "check_in", lang),
        was_check_out=_was_day(changes, "check_out", lang),
        was_guests=_was(changes, "guests"),
        was_total=(
            fmt.money(int(str(old_total)), str(old_currency or event.currency))
            if old_total is not None
            else None
        ),
        room_type_changed="room_type_code" in changes,
        transfer_place=transfer.pickup_place if transfer else None,
        transfer_arrival=(
            fmt.local_time(transfer.arrival_time, fmt.zone(event.property_timezone), lang)
            if transfer
            else None
        ),
        transfer_removed="transfer" in changes and event.transfer is None,
    )


def _was(changes: dict[str, dict[str, object]], name: str) -> object | None:
    change = changes.get(name)
    return None if change is None else change.get("from")


def _was_day(changes: dict[str, dict[str, object]], name: str, lang: str) -> str | None:
    old = _was(changes, name)
    if old is None:
        return None
    try:
        return fmt.day(date.fromisoformat(str(old)), lang)
    except ValueError:
        log.warning("change with an unreadable former date", extra={"field": name})
        return None


def expiry(event: ReservationExpired, language: str | None = None) -> Notice:
    """A request the hotel never confirmed: it is void, nothing is held or charged."""
    lang = resolve_language(language or event.guest.language)
    return _to_guest(
        Kind.RESERVATION_EXPIRED,
        event,
        lang,
        property_name=event.property_name,
        check_in=fmt.day(event.check_in, lang),
        check_out=fmt.day(event.check_out, lang),
    )


# Where the sender puts a sign-in code: the stored body has this slot, never the code.
CODE_SLOT = "{code}"


def sign_in(event: SignInCodeRequested, signature: str, now: datetime) -> Notice:
    """A one-time sign-in code, by email or by text message; the code itself is left out (the
    body shows CODE_SLOT, filled in at sending)."""
    minutes = max(1, math.ceil((as_utc(event.expires_at) - now).total_seconds() / 60))
    return Notice(
        kind=Kind.SIGN_IN_CODE,
        reservation_id=None,
        confirmation_number=None,
        email=event.email or "",
        phone=event.phone if not event.email else None,
        language=resolve_language(event.language),
        context={"code": CODE_SLOT, "minutes": minutes, "signature": signature},
    )


# -- issue 18: a job's own events (the job's version, not the booking's, orders them) ----------

JobEvent = TransferRescheduled | TransferReassigned | TransferStatusChanged


def _about_job(kind: Kind, event: JobEvent, language: str, **context: Any) -> Notice:
    confirmation_number = getattr(event, "confirmation_number", None)
    return Notice(
        kind=kind,
        reservation_id=event.reservation_id,
        confirmation_number=confirmation_number,
        email=event.guest.email,
        language=language,
        context={
            "guest_name": event.guest.name,
            "confirmation_number": confirmation_number,
            **context,
        },
        transfer_id=event.transfer_id,
        transfer_version=event.aggregate_version,
    )


def rescheduled(
    event: TransferRescheduled, signature: str, language: str | None = None, *, urgent: bool = False
) -> Notice:
    """The pickup's new time (a flight moved), and who comes now; or that dispatch is finding a
    driver for the new time. `urgent`: the new time is within hours."""
    lang = resolve_language(language or event.guest.language)
    tz = fmt.zone(event.property_timezone)
    crew = event.driver_name is not None and event.vehicle_plate is not None
    notice = _about_job(
        Kind.TRANSFER_RESCHEDULED,
        event,
        lang,
        flight_moved=event.reason.startswith("flight"),
        flight_number=event.flight_number,
        previous_pickup_time=fmt.local_time(event.previous_pickup_time, tz, lang),
        pickup_time=fmt.local_time(event.pickup_time, tz, lang),
        driver_on_site=fmt.local_time(event.driver_on_site_at, tz, lang),
        pickup_place=event.pickup_place,
        destination=event.destination,
        crew_known=crew,
        **_crew(event, known=crew),
        signature=signature,
    )
    return replace(notice, urgent=urgent)


def reassigned(
    event: TransferReassigned, signature: str, language: str | None = None, *, urgent: bool = False
) -> Notice:
    """Another car or driver comes: who, and when they are there, with our apology (the
    templates say sorry). `urgent`: the pickup is within hours."""
    lang = resolve_language(language or event.guest.language)
    tz = fmt.zone(event.property_timezone)
    notice = _about_job(
        Kind.TRANSFER_REASSIGNED,
        event,
        lang,
        pickup_place=event.pickup_place,
        destination=event.destination,
        pickup_time=fmt.local_time(event.pickup_time, tz, lang),
        driver_on_site=fmt.local_time(event.driver_on_site_at, tz, lang),
        flight_number=event.flight_number,
        **_crew(event),
        signature=signature,
    )
    return replace(notice, urgent=urgent)


def no_show(event: TransferStatusChanged, signature: str, language: str | None = None) -> Notice:
    """The driver waited and left: the pickup is closed, call us for another ride."""
    lang = resolve_language(language or event.guest.language)
    tz = fmt.zone(event.property_timezone)
    return _about_job(
        Kind.TRANSFER_NO_SHOW,
        event,
        lang,
        closed_at=fmt.local_time(event.at, tz, lang),
        signature=signature,
    )
