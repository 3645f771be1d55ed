"""Events published by reservation-service."""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from hotel_common.events.envelope import IntegrationEvent

Language = Literal["en", "zh-Hans", "zh-Hant"]


class GuestContact(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    email: str
    phone: str | None = None
    language: Language = "en"


class TransferRequest(BaseModel):
    """An arrival pickup asked for with the booking."""

    model_config = ConfigDict(frozen=True)

    flight_number: str | None = None
    arrival_time: datetime  # UTC instant the guest lands / arrives at the station
    pickup_place: str
    passengers: int
    luggage: int = 0


class ReservationConfirmed(IntegrationEvent):
    event_type: ClassVar[str] = "reservation.confirmed"

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

    reservation_id: str
    confirmation_number: str
    property_name: str
    check_in: date
    check_out: date
    reason: str | None = None
    was_confirmed: bool
    guest: GuestContact
