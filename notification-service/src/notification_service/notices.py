"""What each consumed event tells the guest: who gets which notice, with which values.

Values are formatted here for the guest's language (dates, money, local times), so templates
only place them; a template that forgets one is caught by the template completeness test.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotel_common.contracts.identity import SignInCodeRequested
from hotel_common.contracts.reservations import ReservationCancelled, ReservationConfirmed
from hotel_common.contracts.transfers import TransferAssigned
from hotel_common.time import as_utc

from notification_service import formatting as fmt
from notification_service.models import Kind
from notification_service.rendering import Rendered, render, resolve_language


@dataclass(frozen=True)
class Notice:
    kind: Kind
    reservation_id: str
    confirmation_number: str
    email: str
    language: str
    context: dict[str, Any]
    phone: str | None = None  # set: a text message to this number instead of an email

    def render(self) -> Rendered:
        return render(self.kind, self.language, self.context)


def _to_guest(
    kind: Kind,
    event: ReservationConfirmed | TransferAssigned | ReservationCancelled,
    language: str,
    **context: Any,
) -> Notice:
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
    )


def confirmation(event: ReservationConfirmed) -> Notice:
    """Details, booking number, bring ID, front-desk sign-off (docs/domain.md, Notifications)."""
    lang = resolve_language(event.guest.language)
    transfer = event.transfer
    return _to_guest(
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


def pickup(event: TransferAssigned, signature: str) -> Notice:
    """The car, the driver, and when the driver is there (docs/domain.md, Notifications)."""
    lang = resolve_language(event.guest.language)
    tz = fmt.zone(event.property_timezone)
    same_day = (
        event.pickup_time.astimezone(tz).date() == event.driver_on_site_at.astimezone(tz).date()
    )
    return _to_guest(
        Kind.TRANSFER_ASSIGNED,
        event,
        lang,
        pickup_place=event.pickup_place,
        destination=event.destination,
        pickup_time=fmt.local_time(event.pickup_time, tz, lang),
        driver_on_site=fmt.local_time(event.driver_on_site_at, tz, lang, with_date=not same_day),
        flight_number=event.flight_number,
        driver_name=event.driver_name,
        driver_phone=event.driver_phone,
        vehicle_plate=event.vehicle_plate,
        vehicle_description=event.vehicle_description,
        signature=signature,
    )


def cancellation(event: ReservationCancelled) -> Notice:
    """The result, what happens to money paid, thanks (docs/domain.md, Notifications)."""
    lang = resolve_language(event.guest.language)
    return _to_guest(
        Kind.RESERVATION_CANCELLED,
        event,
        lang,
        property_name=event.property_name,
        check_in=fmt.day(event.check_in, lang),
        check_out=fmt.day(event.check_out, lang),
        # No `reason`: it is written by and for staff, not for the guest.
    )


# Where the sender puts a sign-in code: the stored body has this slot, never the code.
CODE_SLOT = "{code}"


def sign_in(event: SignInCodeRequested, signature: str, now: datetime) -> Notice:
    """A one-time sign-in code, by email or by text message; the code itself is left out (the
    body shows CODE_SLOT, filled in at sending)."""
    minutes = max(1, math.ceil((as_utc(event.expires_at) - now).total_seconds() / 60))
    return Notice(
        kind=Kind.SIGN_IN_CODE,
        reservation_id="",
        confirmation_number="",
        email=event.email or "",
        phone=event.phone if not event.email else None,
        language=resolve_language(event.language),
        context={"code": CODE_SLOT, "minutes": minutes, "signature": signature},
    )
