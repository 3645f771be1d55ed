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

from hotel_common.contracts.reservations import Language
from hotel_common.time import as_utc, utcnow
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    EmailStr,
    StringConstraints,
    field_validator,
)
from pydantic import Field as PydanticField
from sqlalchemy import JSON, CheckConstraint, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _assume_utc(value: Any) -> Any:
    # SQLite hands back naive datetimes from timezone-aware columns; they were written as UTC.
    return as_utc(value) if isinstance(value, datetime) else value


UtcDatetime = Annotated[datetime, BeforeValidator(_assume_utc)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
RoomTypeCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z0-9]{2,8}$"),
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# -- properties ------------------------------------------------------------------------------------


class PropertyBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(max_length=64, description="IANA time zone, e.g. Asia/Shanghai")
    currency: str = Field(min_length=3, max_length=3, regex=r"^[A-Z]{3}$", description="ISO 4217")
    check_in_time: time = Field(description="Local time from which rooms are ready")
    check_out_time: time = Field(description="Local time by which guests leave")


class PropertyCreate(PropertyBase):
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
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class PropertyPublic(PropertyBase):
    id: int


# -- room types ------------------------------------------------------------------------------------


class RoomTypeBase(SQLModel):
    code: str = Field(max_length=8, description="Short code, unique per property, e.g. STD")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    capacity: int = Field(ge=1, le=20, description="Most guests the room sleeps")
    bed_type: str = Field(min_length=1, max_length=40, description="e.g. twin, king")
    base_price: int = Field(gt=0, description="Price per night in minor units")


class RoomTypeCreate(RoomTypeBase):
    code: RoomTypeCode
    property_id: int | None = Field(default=None, description="Defaults to the only property")


class RoomType(RoomTypeBase, table=True):
    __tablename__ = "room_types"
    __table_args__ = (UniqueConstraint("property_id", "code", name="uq_room_types_property_code"),)

    id: int | None = Field(default=None, primary_key=True)
    property_id: int = Field(foreign_key="properties.id", index=True)


class RoomTypePublic(RoomTypeBase):
    id: int
    property_id: int
    currency: str


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
    housekeeping_status: HousekeepingStatus = HousekeepingStatus.CLEAN
    room_type: RoomTypeCode = Field(description="Room type code")
    property_id: int | None = Field(default=None, description="Defaults to the only property")

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
    room_type: str


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
    CANCELLED = "cancelled"


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
    guest_language: str = Field(default="en", max_length=8)
    room_type_id: int = Field(foreign_key="room_types.id", index=True)
    check_in: date = Field(index=True)
    check_out: date
    guests: int
    nightly_price: int  # minor units, fixed when the booking was made
    total_amount: int
    currency: str = Field(max_length=3)
    special_requests: str | None = Field(default=None, sa_type=Text)
    # Arrival transfer asked for with the booking: all set or all empty.
    transfer_flight_number: str | None = Field(default=None, max_length=10)
    transfer_arrival_time: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    transfer_pickup_place: str | None = Field(default=None, max_length=200)
    transfer_passengers: int | None = None
    transfer_luggage: int | None = None
    channel: str = Field(default="direct", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    confirmed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancelled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancel_reason: str | None = Field(default=None, max_length=500)


class GuestIn(BaseModel):
    name: Text200
    email: EmailStr
    phone: str | None = PydanticField(
        default=None,
        description="+ then 7-15 digits; spaces and dashes are ignored",
        examples=["+86 138 0013 8000"],
    )
    language: Language = "en"

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"[\s-]", "", value)
        if not re.fullmatch(r"\+\d{7,15}", compact):
            raise ValueError("a phone number is + followed by 7-15 digits")
        return compact


class TransferIn(BaseModel):
    flight_number: str | None = PydanticField(default=None, examples=["CA1234"])
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


class ReservationCreate(BaseModel):
    property_id: int | None = PydanticField(
        default=None, description="Defaults to the only property"
    )
    guest: GuestIn
    room_type: RoomTypeCode = PydanticField(description="Room type code", examples=["KNG"])
    check_in: date
    check_out: date
    guests: int = PydanticField(ge=1, le=20)
    special_requests: str | None = PydanticField(default=None, max_length=2000)
    transfer: TransferIn | None = None
    channel: str = PydanticField(default="direct", pattern=r"^[a-z][a-z0-9_-]{0,31}$")


class CancelRequest(BaseModel):
    reason: str | None = PydanticField(default=None, max_length=500)


class GuestOut(BaseModel):
    name: str
    email: str
    phone: str | None
    language: Language


class TransferOut(BaseModel):
    flight_number: str | None
    arrival_time: UtcDatetime
    pickup_place: str
    passengers: int
    luggage: int


class ReservationPublic(BaseModel):
    id: str
    confirmation_number: str
    status: ReservationStatus
    property_id: int
    guest: GuestOut
    room_type: str
    room_type_name: str
    check_in: date
    check_out: date
    nights: int
    guests: int
    nightly_price: int
    total_amount: int
    currency: str
    special_requests: str | None
    transfer: TransferOut | None
    channel: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    confirmed_at: UtcDatetime | None
    cancelled_at: UtcDatetime | None
    cancel_reason: str | None

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
                **r.model_dump(exclude={"room_type_id"}),
                "property_id": room_type.property_id,
                "guest": {
                    "name": r.guest_name,
                    "email": r.guest_email,
                    "phone": r.guest_phone,
                    "language": r.guest_language,
                },
                "room_type": room_type.code,
                "room_type_name": room_type.name,
                "nights": (r.check_out - r.check_in).days,
                "transfer": transfer,
            }
        )


# -- availability ----------------------------------------------------------------------------------


class RoomTypeAvailability(BaseModel):
    room_type: str
    name: str
    capacity: int
    bed_type: str
    available: int = PydanticField(description="Rooms free on every night of the stay")
    nightly_price: int
    total_price: int
    currency: str


class Availability(BaseModel):
    property_id: int
    check_in: date
    check_out: date
    nights: int
    guests: int | None
    room_types: list[RoomTypeAvailability]


TABLES = {"properties", "room_types", "rooms", "inventory_nights", "reservations"}
