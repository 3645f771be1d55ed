"""Adversarial (issue 21): a guest erased, then an event of their booking arriving late.

The bus does not promise order, and `guest.erased` (the guest's aggregate) is not serialized
with the booking's own events: a modification or a pickup published before the erasure can be
handled after it (a partner-service replica down for a while, a redelivery). The feed, and so
the webhooks, must not take the person back in for 30 days.
"""

from typing import Any

from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.testing import (
    eventually,
    guest_erased,
    reservation_confirmed,
    reservation_modified,
    transfer_assigned,
)

from .conftest import PartnerService, new_partner_id, reservation_created


def _of_booking(events: list[dict[str, Any]], booking: ReservationConfirmed) -> list[str]:
    return [str(e["payload"]) for e in events if e["reservation_id"] == booking.reservation_id]


async def test_an_event_arriving_after_its_guests_erasure_is_blanked_too(
    partner_service: PartnerService,
) -> None:
    svc = partner_service
    a = new_partner_id()
    booking = reservation_confirmed(partner_id=a, aggregate_version=2)
    guest = booking.guest
    svc.deliver(reservation_created(booking))
    svc.deliver(booking)
    await svc.feed_reaches(a, 2)
    erased = guest_erased(
        booking.reservation_id,
        email=guest.email,
        phone=guest.phone or "",
        name=guest.name,
        version=5,
    )
    svc.deliver(erased)
    await eventually(
        lambda: svc.whole_feed(a),
        lambda got: all(guest.email not in text for text in _of_booking(got, booking)),
    )

    # Published before the erasure, handled after it.
    svc.deliver(reservation_modified(booking, guests=3, aggregate_version=3))
    svc.deliver(
        transfer_assigned(
            reservation_id=booking.reservation_id,
            confirmation_number=booking.confirmation_number,
            guest=guest,
            aggregate_version=1,
        )
    )
    events = await svc.feed_reaches(a, 4)
    for text in _of_booking(events, booking):
        assert guest.email not in text and guest.name not in text, text
        if guest.phone:
            assert guest.phone not in text, text


async def test_a_booking_whose_guest_was_erased_before_it_was_known_stays_blank(
    partner_service: PartnerService,
) -> None:
    """The erasure is handled before the booking's created/confirmed (both still in flight)."""
    svc = partner_service
    a = new_partner_id()
    booking = reservation_confirmed(partner_id=a, aggregate_version=2)
    guest = booking.guest
    svc.deliver(
        guest_erased(
            booking.reservation_id,
            email=guest.email,
            phone=guest.phone or "",
            name=guest.name,
            version=5,
        )
    )
    svc.deliver(reservation_created(booking))
    svc.deliver(booking)
    events = await svc.feed_reaches(a, 2)
    for text in _of_booking(events, booking):
        assert guest.email not in text and guest.name not in text, text
