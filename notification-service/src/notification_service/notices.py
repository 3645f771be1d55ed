"""What each consumed event tells the guest: who gets which notice, with which values.

Values are formatted here for the guest's language (dates, money, local times), so templates
only place them; a template that forgets one is caught by the template completeness test.
"""

from dataclasses import dataclass
from typing import Any

from hotel_common.contracts.reservations import ReservationCancelled, ReservationConfirmed
from hotel_common.contracts.transfers import TransferAssigned

from notification_service import formatting as fmt
from notification_service.models import Kind
from notification_service.rendering import Rendered, render, resolve_language


@dataclass(frozen=True)
class Notice:
    kind: Kind
    reservation_id: str
    confirmation_number: str
    recipient: str
    language: str
    context: dict[str, Any]

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
        recipient=event.guest.email,
        language=language,
        context={
            "guest_name": event.guest.name,
            "confirmation_number": event.confirmation_number,
            **context,
        },
    )


def confirmation(event: ReservationConfirmed) -> Notice:
    """Manual 001 §3.2(4), §4.4: details, booking number, bring ID, front-desk sign-off."""
    lang = resolve_language(event.guest.language)
    transfer = event.transfer
    return _to_guest(
        "reservation_confirmed",
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
    """Manual 000 §6.1(3), §6.3: the car, the driver, and when the driver is there."""
    lang = resolve_language(event.guest.language)
    tz = fmt.zone(event.property_timezone)
    same_day = (
        event.pickup_time.astimezone(tz).date() == event.driver_on_site_at.astimezone(tz).date()
    )
    return _to_guest(
        "transfer_assigned",
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
    """Manual 000 §3.3(5): the result, what happens to money paid, thanks."""
    lang = resolve_language(event.guest.language)
    return _to_guest(
        "reservation_cancelled",
        event,
        lang,
        property_name=event.property_name,
        check_in=fmt.day(event.check_in, lang),
        check_out=fmt.day(event.check_out, lang),
        # No `reason`: it is written by and for staff, not for the guest.
    )
