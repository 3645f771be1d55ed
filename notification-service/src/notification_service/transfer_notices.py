"""Issue 20: what a pickup's live day and its calling-off tell the guest (the driver is there;
the ride is cancelled), and when a pickup notice is urgent.

Like notices.py, values are formatted here for the guest's language; templates only place them.
"""

from datetime import datetime, timedelta
from typing import Any

from hotel_common.contracts.transfers import TransferCancelled, TransferStatusChanged
from hotel_common.time import as_utc, utcnow

from notification_service import formatting as fmt
from notification_service.models import Kind
from notification_service.notices import Notice
from notification_service.rendering import resolve_language


def pickup_is_soon(pickup_time: datetime, within: timedelta, now: datetime | None = None) -> bool:
    """A pickup at most `within` from now (or already due): its notice cannot wait."""
    return as_utc(pickup_time) - (now or utcnow()) <= within


def driver_on_site(
    event: TransferStatusChanged, signature: str, language: str | None = None
) -> Notice:
    """The driver is waiting: where, the car's plate and the driver's phone (what the event
    names: a publisher before issue 20 names none, and the notice says only that they are
    there). Urgent: it is useful now or never."""
    lang = resolve_language(language or event.guest.language)
    tz = fmt.zone(event.property_timezone)
    return _notice(
        Kind.DRIVER_ON_SITE,
        event.guest.name,
        event.guest.email,
        lang,
        reservation_id=event.reservation_id,
        confirmation_number=event.confirmation_number,
        transfer_id=event.transfer_id,
        transfer_version=event.aggregate_version,
        urgent=True,
        arrived_at=fmt.local_time(event.at, tz, lang),
        pickup_place=event.pickup_place,
        driver_name=event.driver_name,
        driver_phone=event.driver_phone,
        vehicle_plate=event.vehicle_plate,
        vehicle_description=event.vehicle_description,
        signature=signature,
    )


def transfer_cancelled(
    event: TransferCancelled,
    signature: str,
    language: str | None = None,
    *,
    urgent: bool = False,
) -> Notice | None:
    """The pickup is called off: which one (time, place, booking); call us if that is news.
    None for an event without the guest (a publisher before issue 20). No `reason`: it is
    dispatch's words, not the guest's."""
    guest = event.guest
    if guest is None:
        return None
    lang = resolve_language(language or guest.language)
    tz = fmt.zone(event.property_timezone or "UTC")
    return _notice(
        Kind.TRANSFER_CANCELLED,
        guest.name,
        guest.email,
        lang,
        reservation_id=event.reservation_id,
        confirmation_number=event.confirmation_number,
        transfer_id=event.transfer_id,
        version=event.aggregate_version,
        urgent=urgent,
        pickup_time=(
            fmt.local_time(event.pickup_time, tz, lang) if event.pickup_time is not None else None
        ),
        pickup_place=event.pickup_place,
        signature=signature,
    )


def _notice(
    kind: Kind,
    guest_name: str,
    email: str,
    language: str,
    *,
    reservation_id: str | None,
    confirmation_number: str | None,
    transfer_id: str,
    version: int | None = None,
    transfer_version: int | None = None,
    urgent: bool = False,
    **context: Any,
) -> Notice:
    return Notice(
        kind=kind,
        reservation_id=reservation_id,
        confirmation_number=confirmation_number,
        email=email,
        language=language,
        context={
            "guest_name": guest_name,
            "confirmation_number": confirmation_number,
            **context,
        },
        version=version,
        transfer_id=transfer_id,
        transfer_version=transfer_version,
        urgent=urgent,
    )
