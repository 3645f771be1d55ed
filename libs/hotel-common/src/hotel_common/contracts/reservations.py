"""Events published by reservation-service."""

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from hotel_common.contacts import LanguageTag
from hotel_common.events.envelope import IntegrationEvent

# The shared BCP-47 tag type; what a consumer can serve in, it resolves itself.
Language = LanguageTag


class GuestContact(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    email: str
    phone: str | None = None
    language: LanguageTag = "en"


class TransferRequest(BaseModel):
    """An arrival pickup asked for with the booking."""

    model_config = ConfigDict(frozen=True)

    flight_number: str | None = None
    arrival_time: datetime  # UTC instant the guest lands / arrives at the station
    pickup_place: str
    passengers: int
    luggage: int = 0


# Events about one reservation: consumers serialize them per reservation and order them by
# the reservation's version (envelope.aggregate_version), see hotel_common/events/inbox.py.
RESERVATION = ("reservation", "reservation_id")


class ReservationConfirmed(IntegrationEvent):
    event_type: ClassVar[str] = "reservation.confirmed"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    reservation_id: str
    confirmation_number: str
    property_name: str
    property_timezone: str
    room_type_code: str
    room_type_name: str
    check_in: date
    check_out: date
    guests: int
    total_amount: int  # minor units
    currency: str
    guest: GuestContact
    transfer: TransferRequest | None = None


class ReservationCancelled(IntegrationEvent):
    event_type: ClassVar[str] = "reservation.cancelled"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    reservation_id: str
    confirmation_number: str
    property_name: str
    check_in: date
    check_out: date
    reason: str | None = None
    was_confirmed: bool
    guest: GuestContact
