"""Events published by reservation-service."""

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

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


def absent(value: object) -> bool:
    """Optional fields added later are left out of a payload while unset, so an event of a
    booking that does not use them is exactly what it was before they existed."""
    return value is None


class TransferRequest(BaseModel):
    """An arrival pickup asked for with the booking."""

    model_config = ConfigDict(frozen=True)

    flight_number: str | None = None
    arrival_time: datetime  # UTC instant the guest lands / arrives at the station
    pickup_place: str
    passengers: int
    luggage: int = 0
    # Issue 18: the party's needs. Left out of a payload while unset (see absent), so an event
    # of a booking that does not use them is exactly what it was before they existed.
    transport: str | None = Field(default=None, exclude_if=absent)  # Transport
    child_seats: int | None = Field(default=None, exclude_if=absent)
    wheelchair: bool | None = Field(default=None, exclude_if=absent)
    language: str | None = Field(default=None, exclude_if=absent)
    sign_name: str | None = Field(default=None, exclude_if=absent)
    notes: str | None = Field(default=None, exclude_if=absent)
    share_ok: bool | None = Field(default=None, exclude_if=absent)


class DepartureRequest(BaseModel):
    """Issue 18: a drop-off from the property for the guest's flight or train home."""

    model_config = ConfigDict(frozen=True)

    flight_number: str | None = None
    departure_time: datetime  # UTC instant the flight takes off / the train leaves
    dropoff_place: str
    passengers: int
    luggage: int = 0
    transport: str | None = None  # Transport
    child_seats: int = 0
    wheelchair: bool = False
    language: str | None = None
    sign_name: str | None = None
    notes: str | None = None
    share_ok: bool = False


class GuaranteeTerms(BaseModel):
    """Issue 20: how the guest guarantees the booking (what the notices tell them): nothing,
    a deposit of `amount`, or prepayment of the whole; due `due_hours` after confirmation
    (`due_at` once confirmed)."""

    model_config = ConfigDict(frozen=True)

    kind: str  # none | deposit | prepayment
    amount: int  # minor units of the booking's currency (0 for none)
    due_hours: int
    due_at: datetime | None = None  # set once the booking is confirmed and the guarantee owed


class ReservationLineInfo(BaseModel):
    """One room of a booking with several rooms under one confirmation number (issue 17)."""

    model_config = ConfigDict(frozen=True)

    line: int
    room_type_code: str
    rate_plan_code: str
    adults: int
    children: list[int] = []  # ages
    guests: int
    nightly_amounts: list[int] = []  # minor units, one per night
    total_amount: int  # minor units, this room's stay


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
    # Issue 18: the departure drop-off, and whether the rate plan includes transfers (free).
    departure: DepartureRequest | None = Field(default=None, exclude_if=absent)
    transfers_included: bool | None = Field(default=None, exclude_if=absent)
    # Issue 17: every room when the booking has several (None: one room, the fields above).
    lines: list[ReservationLineInfo] | None = Field(default=None, exclude_if=absent)
    # Issue 20: the guarantee owed (None: none owed, or met) and the property's clock times,
    # for the notices' calendar entry and reminders ("HH:MM", local).
    guarantee: GuaranteeTerms | None = Field(default=None, exclude_if=absent)
    check_in_time: str | None = Field(default=None, exclude_if=absent)
    check_out_time: str | None = Field(default=None, exclude_if=absent)
    # Issue 21: the partner (gateway partner id) whose key made the booking; None otherwise.
    partner_id: str | None = Field(default=None, exclude_if=absent)


class _StayEvent(IntegrationEvent):
    """The fields an event of a booking's end carries first, in this order (a payload's keys
    follow its fields' order): the booking, its hotel and its stay."""

    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    reservation_id: str
    confirmation_number: str
    property_name: str
    check_in: date
    check_out: date


class ReservationCancelled(_StayEvent):
    event_type: ClassVar[str] = "reservation.cancelled"

    reason: str | None = None
    was_confirmed: bool
    guest: GuestContact
    # Issue 17: why the system cancelled (e.g. "guarantee_expired"; None: a person did), and
    # what the booking's policy charged and gave back (minor units of `currency`).
    reason_code: str | None = None
    cancellation_fee_amount: int = 0
    refund_amount: int = 0
    currency: str | None = None
    # Issue 17: every room when the booking has several (None: one room, the fields above).
    lines: list[ReservationLineInfo] | None = Field(default=None, exclude_if=absent)


# -- issue 17: the whole stay. Each event carries the booking's version after the change and
# what its consumers need without calling back (the guest's contact, the stay's dates).


class ReservationCreated(IntegrationEvent):
    """A booking request was taken (status `requested`, nothing held yet)."""

    event_type: ClassVar[str] = "reservation.created"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    reservation_id: str
    confirmation_number: str
    property_name: str
    room_type_code: str
    check_in: date
    check_out: date
    guests: int
    total_amount: int  # minor units
    currency: str
    channel: str
    expires_at: datetime | None = None  # a request not confirmed by then expires
    guest: GuestContact
    # Issue 17, intake: how it reached the hotel (web, app, phone, walk_in, email, ota) and
    # the channel's own reservation id (an OTA's).
    source: str | None = Field(default=None, exclude_if=absent)
    external_id: str | None = Field(default=None, exclude_if=absent)
    # Issue 17: every room when the booking has several (None: one room, the fields above).
    lines: list[ReservationLineInfo] | None = Field(default=None, exclude_if=absent)
    # Issue 20: what the request notice tells the guest: the guarantee its rate plan asks, the
    # room type's name and the property's time zone.
    guarantee: GuaranteeTerms | None = Field(default=None, exclude_if=absent)
    room_type_name: str | None = Field(default=None, exclude_if=absent)
    property_timezone: str | None = Field(default=None, exclude_if=absent)
    # Issue 21: the partner (gateway partner id) whose key made the booking; None otherwise.
    partner_id: str | None = Field(default=None, exclude_if=absent)


class ReservationModified(IntegrationEvent):
    """A booking's dates, room type, guests or arrival changed: `changes` names each changed
    field with its old and new value ({"check_in": {"from": "...", "to": "..."}}); the other
    fields are the booking as it is now, so a consumer reschedules without calling back."""

    event_type: ClassVar[str] = "reservation.modified"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    reservation_id: str
    confirmation_number: str
    status: str
    property_name: str
    property_timezone: str
    room_type_code: str
    room_type_name: str
    check_in: date
    check_out: date
    guests: int
    total_amount: int
    currency: str
    guest: GuestContact
    transfer: TransferRequest | None = None
    # Issue 18: the departure drop-off, and whether the rate plan includes transfers (free).
    departure: DepartureRequest | None = Field(default=None, exclude_if=absent)
    transfers_included: bool | None = Field(default=None, exclude_if=absent)
    changes: dict[str, dict[str, object]]
    # Issue 17: every room when the booking has several (None: one room, the fields above).
    lines: list[ReservationLineInfo] | None = Field(default=None, exclude_if=absent)
    # Issue 20: as on ReservationConfirmed (a guarantee met shows as `guaranteed_at` in changes
    # and no guarantee here).
    guarantee: GuaranteeTerms | None = Field(default=None, exclude_if=absent)
    check_in_time: str | None = Field(default=None, exclude_if=absent)
    check_out_time: str | None = Field(default=None, exclude_if=absent)


class ReservationCheckedIn(IntegrationEvent):
    event_type: ClassVar[str] = "reservation.checked_in"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    reservation_id: str
    confirmation_number: str
    property_name: str
    room_number: str
    check_in: date
    check_out: date
    guest: GuestContact
    # Issue 20: for the departure reminder (the morning of check_out, local).
    property_timezone: str | None = Field(default=None, exclude_if=absent)
    check_out_time: str | None = Field(default=None, exclude_if=absent)


class ReservationCheckedOut(_StayEvent):
    """The stay is over and its folio settled: what loyalty and segmentation count."""

    event_type: ClassVar[str] = "reservation.checked_out"

    # check_out: the day the guest left (an early departure moves it)
    nights: int  # nights actually stayed
    amount_spent: int  # minor units: every charge on the folio
    currency: str
    guest: GuestContact


class ReservationNoShow(_StayEvent):
    event_type: ClassVar[str] = "reservation.no_show"

    fee_amount: int  # minor units, charged per the booking's policy
    currency: str
    guest: GuestContact


class ReservationExpired(_StayEvent):
    """A request never confirmed within its time: it held nothing and now is void."""

    event_type: ClassVar[str] = "reservation.expired"

    guest: GuestContact
