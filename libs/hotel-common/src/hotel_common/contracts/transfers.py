"""Events published by transfer-service."""

from datetime import datetime
from typing import ClassVar

from hotel_common.contracts.reservations import RESERVATION, GuestContact
from hotel_common.events.envelope import IntegrationEvent


class TransferAssigned(IntegrationEvent):
    """A pickup belongs to its reservation: carries the version of the confirmation it serves."""

    event_type: ClassVar[str] = "transfer.assigned"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    transfer_id: str
    reservation_id: str
    confirmation_number: str
    guest: GuestContact
    pickup_place: str
    destination: str
    pickup_time: datetime  # the agreed meeting time (UTC)
    driver_on_site_at: datetime  # 30 min earlier (docs/domain.md, A pickup job)
    flight_number: str | None = None
    driver_name: str
    driver_phone: str
    vehicle_plate: str
    vehicle_description: str
    property_timezone: str


class TransferCancelled(IntegrationEvent):
    event_type: ClassVar[str] = "transfer.cancelled"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    transfer_id: str
    reservation_id: str
    reason: str
