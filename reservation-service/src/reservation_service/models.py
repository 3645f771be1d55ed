"""Tables of reservation-service beside their API schemas.

Catalog records (properties, room types, rooms) follow the Base -> Create -> Table -> Public
ladder. A reservation is nested in the API (guest, transfer) and flat in its table, so its
schemas are plain pydantic models with a converter from the row.
"""

import re
import uuid
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotel_common.bounds import INT32_MAX, RowId
from hotel_common.contacts import LANGUAGE_TAG_MAX_LENGTH, Email, LanguageTag, Phone, contact_of
from hotel_common.principal import masked
from hotel_common.strict import StrictModel
from hotel_common.text import SINGLE_LINE, MultilineText, Text
from hotel_common.time import IsoDate, LocalTime, UtcDateTime, utcnow
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    StringConstraints,
    field_validator,
)
from pydantic import Field as PydanticField
from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy import Text as SqlText
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

# Request text: one line without control characters (hotel_common.text), trimmed, then bounded.
Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200), SINGLE_LINE]
# Case-insensitive, as documented by its pattern: "kng" books room type KNG (answers say KNG).
RoomTypeCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9]{2,8}$"),
    AfterValidator(str.upper),
    SINGLE_LINE,
    PydanticField(description="Room type code, 2-8 letters and digits, case-insensitive"),
]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Request bodies made of table fields (SQLModel): unknown fields are a 422 (hotel_common.strict).
STRICT = SQLModelConfig(extra="forbid")
MINOR_UNITS = "an integer in minor units (e.g. cents) of `currency`, ISO 4217"


# -- properties ------------------------------------------------------------------------------------


# A stay of the longest length at this rate still totals within the stored 32-bit integer.
MAX_NIGHTLY_AMOUNT = INT32_MAX // 60
# Taxes of at most 30 %: the highest VAT and lodging taxes stay below it.
MAX_TAX_RATE_BP = 3000


class PropertyBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(max_length=64, description="IANA time zone, e.g. Asia/Shanghai")
    currency: str = Field(min_length=3, max_length=3, regex=r"^[A-Z]{3}$", description="ISO 4217")
    check_in_time: time = Field(description="Local time from which rooms are ready")
    check_out_time: time = Field(description="Local time by which guests leave")
    tax_rate_bp: int = Field(
        default=0,
        ge=0,
        le=MAX_TAX_RATE_BP,
        description="Taxes added to a stay's room amount, in basis points (600 = 6 %)",
        sa_column_kwargs={"server_default": "0"},
    )


class PropertyCreate(PropertyBase):
    model_config = STRICT

    name: Text = Field(min_length=1, max_length=200)
    timezone: Text = Field(max_length=64, description="IANA time zone, e.g. Asia/Shanghai")
    currency: Text = Field(min_length=3, max_length=3, regex=r"^[A-Z]{3}$", description="ISO 4217")
    check_in_time: LocalTime = Field(description="Local time from which rooms are ready")
    check_out_time: LocalTime = Field(description="Local time by which guests leave")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not a known IANA time zone") from exc
        return value


class Property(PropertyBase, table=True):
    __tablename__ = "properties"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PropertyUpdate(StrictModel):
    """Fields given replace the property's; existing bookings keep the taxes they were priced
    with."""

    tax_rate_bp: int | None = PydanticField(
        default=None,
        ge=0,
        le=MAX_TAX_RATE_BP,
        description="Taxes added to a stay's room amount, in basis points (600 = 6 %)",
    )
    check_in_time: LocalTime | None = PydanticField(
        default=None, description="Local time from which rooms are ready"
    )
    check_out_time: LocalTime | None = PydanticField(
        default=None, description="Local time by which guests leave"
    )


class PropertyPublic(PropertyBase):
    id: int
    check_in_time: LocalTime = Field(description="Local time from which rooms are ready")
    check_out_time: LocalTime = Field(description="Local time by which guests leave")


# -- room types ------------------------------------------------------------------------------------


class RoomTypeBase(SQLModel):
    code: str = Field(max_length=8, description="Short code, unique per property, e.g. STD")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    capacity: int = Field(ge=1, le=20, description="Most guests the room sleeps")
    bed_type: str = Field(min_length=1, max_length=40, description="e.g. twin, king")
    base_amount: int = Field(
        gt=0,
        le=MAX_NIGHTLY_AMOUNT,
        description=f"Price per night: {MINOR_UNITS}, at most {MAX_NIGHTLY_AMOUNT}",
    )


class RoomTypeCreate(RoomTypeBase):
    model_config = STRICT

    code: RoomTypeCode
    name: Text = Field(min_length=1, max_length=100)
    description: MultilineText = Field(default="", max_length=2000)
    bed_type: Text = Field(min_length=1, max_length=40, description="e.g. twin, king")
    property_id: RowId | None = Field(default=None, description="Defaults to the only property")


class RoomType(RoomTypeBase, table=True):
    __tablename__ = "room_types"
    __table_args__ = (UniqueConstraint("property_id", "code", name="uq_room_types_property_code"),)

    id: int | None = Field(default=None, primary_key=True)
    property_id: int = Field(foreign_key="properties.id", index=True)


class RoomTypePublic(RoomTypeBase):
    id: int
    property_id: int
    currency: str = Field(description="ISO 4217, the property's")


# -- rooms -----------------------------------------------------------------------------------------


class HousekeepingStatus(StrEnum):
    CLEAN = "clean"
    DIRTY = "dirty"
    INSPECTED = "inspected"
    OUT_OF_ORDER = "out_of_order"  # the only status that takes a room out of inventory


_FEATURE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


class RoomBase(SQLModel):
    number: str = Field(min_length=1, max_length=10, regex=r"^[0-9A-Za-z-]+$")
    floor: int = Field(ge=-10, le=300)
    features: list[str] = Field(
        default_factory=list,
        sa_type=JSON,
        description="Slugs such as non-smoking, accessible, sea-view",
    )


class RoomCreate(RoomBase):
    model_config = STRICT

    number: Text = Field(min_length=1, max_length=10, regex=r"^[0-9A-Za-z-]+$")
    features: list[Text] = Field(
        default_factory=list, description="Slugs such as non-smoking, accessible, sea-view"
    )
    housekeeping_status: HousekeepingStatus = HousekeepingStatus.CLEAN
    room_type_code: RoomTypeCode
    property_id: RowId | None = Field(default=None, description="Defaults to the only property")

    @field_validator("features")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        cleaned = [f.strip().lower() for f in value]
        if len(cleaned) > 20 or not all(_FEATURE.match(f) for f in cleaned):
            raise ValueError("up to 20 lowercase slugs (letters, digits, dashes)")
        return list(dict.fromkeys(cleaned))


class Room(RoomBase, table=True):
    __tablename__ = "rooms"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=10, unique=True)
    room_type_id: int = Field(foreign_key="room_types.id", index=True)
    housekeeping_status: str = Field(default=HousekeepingStatus.CLEAN, max_length=20)


class RoomPublic(RoomBase):
    id: int
    housekeeping_status: HousekeepingStatus
    room_type_id: int
    room_type_code: str


# -- inventory -------------------------------------------------------------------------------------


class InventoryNight(SQLModel, table=True):
    """Rooms of one type held by confirmed bookings on one night.

    Free rooms = rooms of the type not out of order - held; the room count is never copied
    here, so taking a room out of order or adding one changes availability at once.
    """

    __tablename__ = "inventory_nights"
    __table_args__ = (CheckConstraint("held >= 0", name="ck_inventory_nights_held_not_negative"),)

    room_type_id: int = Field(foreign_key="room_types.id", primary_key=True)
    night: date = Field(primary_key=True)
    held: int = 0


# -- reservations ----------------------------------------------------------------------------------


class ReservationStatus(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


class Reservation(SQLModel, table=True):
    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("check_out > check_in", name="ck_reservations_stay_dates"),
        Index("ix_reservations_created", "created_at", "id"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    confirmation_number: str = Field(max_length=10, unique=True)
    status: str = Field(default=ReservationStatus.REQUESTED, max_length=16, index=True)
    guest_name: str = Field(max_length=200)
    guest_email: str = Field(max_length=320, index=True)  # stored lower-case
    guest_phone: str | None = Field(default=None, max_length=16)
    guest_language: str = Field(default="en", sa_type=String(LANGUAGE_TAG_MAX_LENGTH))
    room_type_id: int = Field(foreign_key="room_types.id", index=True)
    check_in: date = Field(index=True)
    check_out: date
    guests: int
    nightly_amount: int  # minor units, fixed when the booking was made
    total_amount: int
    currency: str = Field(max_length=3)
    special_requests: str | None = Field(default=None, sa_type=SqlText)
    # Arrival transfer asked for with the booking: all set or all empty.
    transfer_flight_number: str | None = Field(default=None, max_length=10)
    transfer_arrival_time: datetime | None = Field(default=None, sa_type=UtcDateTime)
    transfer_pickup_place: str | None = Field(default=None, max_length=200)
    transfer_passengers: int | None = None
    transfer_luggage: int | None = None
    channel: str = Field(default="direct", max_length=32)
    # Who made it: the principal id (e.g. "partner:7", "guest:…", "staff:3", "anonymous");
    # partners reach only their own bookings by it. "legacy" on bookings older than issue 15.
    owner: str = Field(max_length=100, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancel_reason: str | None = Field(default=None, max_length=500)
    checked_in_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    checked_out_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Priced at booking (pricing.quote_stay) and kept: later rate changes never reprice it.
    rate_plan_code: str = Field(default="BASE", max_length=16)
    nightly_amounts: list[int] = Field(default_factory=list, sa_type=JSON)  # one per night
    tax_amount: int = 0
    # The cancellation policy and guarantee agreed at booking (pricing.policy_snapshot): what a
    # cancellation or no-show is charged by, even after the plan's policy changes.
    policy: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # while requested
    guarantee_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancellation_fee_amount: int = 0
    refund_amount: int = 0
    # 1 when requested, one more on every state change; the events announcing a change carry
    # it (envelope.aggregate_version) so consumers can tell a stale event from a new one.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class ReservationHistory(SQLModel, table=True):
    """One line per change of a booking: who, when, on which channel, what changed. Every
    change raises the booking's version, so (reservation, version) is unique: the history is
    complete and in order."""

    __tablename__ = "reservation_history"
    __table_args__ = (
        UniqueConstraint("reservation_id", "version", name="uq_reservation_history_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: str = Field(foreign_key="reservations.id", max_length=36)
    version: int
    action: str = Field(max_length=32)  # created, confirmed, modified, cancelled, checked_in...
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    actor: str = Field(max_length=100)  # principal id, or "system:<worker>"
    channel: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class HistoryEntry(BaseModel):
    version: int
    action: str
    from_status: ReservationStatus | None
    to_status: ReservationStatus
    actor: str
    channel: str
    at: datetime
    changes: dict[str, Any]


class GuestIn(StrictModel):
    name: Text200
    email: Annotated[Email, SINGLE_LINE]
    phone: Annotated[Phone, SINGLE_LINE] | None = None
    language: LanguageTag = "en"


class TransferIn(StrictModel):
    flight_number: Text | None = PydanticField(default=None, examples=["CA1234"])
    arrival_time: Annotated[AwareDatetime, AfterValidator(_utc)] = PydanticField(
        description="When the guest lands or arrives at the station, with its offset"
    )
    pickup_place: Text200 = PydanticField(examples=["Shanghai Pudong International Airport T2"])
    passengers: int | None = PydanticField(
        default=None, ge=1, le=20, description="Defaults to the booking's guests; at most that"
    )
    luggage: int = PydanticField(default=0, ge=0, le=50)

    @field_validator("flight_number")
    @classmethod
    def _flight(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"\s", "", value).upper()
        if not re.fullmatch(r"[A-Z0-9]{3,10}", compact):
            raise ValueError("a flight or train number is 3-10 letters and digits")
        return compact


class ReservationCreate(StrictModel):
    property_id: RowId | None = PydanticField(
        default=None, description="Defaults to the only property"
    )
    guest: GuestIn
    room_type_code: RoomTypeCode = PydanticField(examples=["KNG"])
    check_in: IsoDate
    check_out: IsoDate
    guests: int = PydanticField(ge=1, le=20)
    special_requests: MultilineText | None = PydanticField(default=None, max_length=2000)
    transfer: TransferIn | None = None
    # No channel, status, price or owner: they come from the caller and the catalog (a body
    # naming one is a 422, StrictModel).


class CancelRequest(StrictModel):
    reason: MultilineText | None = PydanticField(default=None, max_length=500)


class GuestOut(BaseModel):
    name: str
    email: str
    phone: str | None
    language: str


class TransferOut(BaseModel):
    flight_number: str | None
    arrival_time: datetime
    pickup_place: str
    passengers: int
    luggage: int


class ReservationPublic(BaseModel):
    id: str
    confirmation_number: str
    status: ReservationStatus
    property_id: int
    guest: GuestOut
    room_type_code: str
    room_type_name: str
    check_in: date
    check_out: date
    nights: int
    guests: int
    nightly_amount: int = PydanticField(description=f"Price per night: {MINOR_UNITS}")
    total_amount: int = PydanticField(description=f"Price of the stay: {MINOR_UNITS}")
    currency: str = PydanticField(description="ISO 4217")
    special_requests: str | None
    transfer: TransferOut | None
    channel: str = PydanticField(
        description="Where the booking was made, set from the caller: direct_web (the hotel's "
        "site, no sign-in), mobile_app (a signed-in guest), front_desk (staff) or the partner "
        "key's channel code; `direct` on bookings made before issue 15",
        examples=["direct_web"],
    )
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    expires_at: datetime | None = PydanticField(
        description="While requested: when the booking expires unless confirmed"
    )
    rate_plan_code: str
    nightly_amounts: list[int] = PydanticField(description=f"Price of each night: {MINOR_UNITS}")
    tax_amount: int = PydanticField(description=f"Taxes included in the total: {MINOR_UNITS}")
    policy: dict[str, Any] = PydanticField(
        description="The cancellation policy and guarantee agreed at booking"
    )
    guarantee_due_at: datetime | None
    cancellation_fee_amount: int = PydanticField(
        description=f"Charged by the policy on cancellation or no-show: {MINOR_UNITS}"
    )
    refund_amount: int = PydanticField(description=f"Given back on cancellation: {MINOR_UNITS}")

    def masked(self) -> "ReservationPublic":
        """As shown to a role that does not need the guest's contact details (marketing)."""
        guest = self.guest.model_copy(
            update={"email": masked(self.guest.email), "phone": masked(self.guest.phone)}
        )
        return self.model_copy(update={"guest": guest})

    @classmethod
    def from_row(cls, r: Reservation, room_type: RoomType) -> "ReservationPublic":
        transfer = None
        if r.transfer_arrival_time is not None:
            transfer = TransferOut(
                flight_number=r.transfer_flight_number,
                arrival_time=r.transfer_arrival_time,
                pickup_place=r.transfer_pickup_place or "",
                passengers=r.transfer_passengers or r.guests,
                luggage=r.transfer_luggage or 0,
            )
        return cls.model_validate(
            {
                **r.model_dump(exclude={"room_type_id", "owner"}),
                "property_id": room_type.property_id,
                "guest": contact_of(r),
                "room_type_code": room_type.code,
                "room_type_name": room_type.name,
                "nights": (r.check_out - r.check_in).days,
                "transfer": transfer,
            }
        )


class ReservationCreated(ReservationPublic):
    """The answer to a booking request: the booking and its access token (shown only here)."""

    access_token: str = PydanticField(
        description="Lets its holder read, confirm and cancel this booking (and see its "
        "transfer and notices): send it as `Authorization: Bearer <access_token>`. Valid until "
        "30 days after check-out. Shown once: keep it.",
        examples=["bk_eyJraW5kIjoiYm9va2luZyJ9.c2lnbmF0dXJl"],
    )


# -- availability ----------------------------------------------------------------------------------


class PlanOffer(BaseModel):
    """A rate plan the stay may be booked under (its restrictions allow the stay)."""

    rate_plan_id: int | None = PydanticField(description="None: the implicit BASE plan")
    rate_plan_code: str
    name: str
    kind: str = PydanticField(description="base or derived")
    nightly_amounts: list[int] = PydanticField(description=f"Price of each night: {MINOR_UNITS}")
    room_amount: int = PydanticField(description=f"Sum of the nights: {MINOR_UNITS}")
    tax_amount: int = PydanticField(description=f"Taxes on the room amount: {MINOR_UNITS}")
    total_amount: int = PydanticField(description=f"Room amount plus taxes: {MINOR_UNITS}")
    currency: str = PydanticField(description="ISO 4217")
    policy: dict[str, Any] = PydanticField(
        description="The cancellation policy and guarantee a booking under it agrees to"
    )


class RoomTypeAvailability(BaseModel):
    room_type_code: str
    name: str
    capacity: int
    bed_type: str
    available: int = PydanticField(description="Rooms free on every night of the stay")
    nightly_amount: int = PydanticField(description=f"Price per night: {MINOR_UNITS}")
    total_amount: int = PydanticField(
        description=f"Price of the stay under the BASE plan, taxes included: {MINOR_UNITS}"
    )
    currency: str = PydanticField(description="ISO 4217")
    free_per_night: list[int] = PydanticField(
        default_factory=list, description="Rooms free each night of the stay, in night order"
    )
    rate_plans: list[PlanOffer] = PydanticField(
        default_factory=list,
        description="Plans the stay may be booked under now (restrictions honoured), cheapest "
        "first; empty when no room is free",
    )


class Availability(BaseModel):
    property_id: int
    check_in: date
    check_out: date
    nights: int
    guests: int | None
    room_types: list[RoomTypeAvailability]
