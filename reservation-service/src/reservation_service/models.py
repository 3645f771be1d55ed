"""Tables of reservation-service beside their API schemas.

Catalog records (properties, room types, rooms) follow the Base -> Create -> Table -> Public
ladder. A reservation is nested in the API (guest, transfer) and flat in its table, so its
schemas are plain pydantic models with a converter from the row.
"""

import re
import uuid
from collections.abc import Sequence
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
    model_validator,
)
from pydantic import Field as PydanticField
from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint, false
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
# Issue 21: a code in a booking, quote or modification is the hotel's, or a partner's own where
# the partner has a mapping at the property (partner_mappings.py translates it first). Wider
# than the hotel's patterns so a channel's codes ("DBL-SEA") fit; a hotel code that does not
# exist is refused by the catalog (422 unknown_room_type / unknown_rate_plan) as before.
REQUESTED_CODE_PATTERN = r"^[A-Za-z0-9._-]{1,32}$"
RequestedRoomTypeCode = Annotated[
    str,
    StringConstraints(pattern=REQUESTED_CODE_PATTERN),
    AfterValidator(str.upper),
    SINGLE_LINE,
    PydanticField(
        description="Room type code, case-insensitive: the hotel's, or your own where your "
        "channel has a code mapping at the property (docs/partners.md)"
    ),
]
RequestedRatePlanCode = Annotated[
    str,
    StringConstraints(pattern=REQUESTED_CODE_PATTERN),
    AfterValidator(str.upper),
    SINGLE_LINE,
    PydanticField(
        description="Rate plan code, case-insensitive, default the base plan: the hotel's, or "
        "your own where your channel has a code mapping at the property (docs/partners.md)"
    ),
]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Request bodies made of table fields (SQLModel): unknown fields are a 422 (hotel_common.strict).
STRICT = SQLModelConfig(extra="forbid")
MINOR_UNITS = "an integer in minor units (e.g. cents) of `currency`, ISO 4217"


# -- properties ------------------------------------------------------------------------------------


# A stay of the longest length at this rate still totals within the stored 32-bit integer.
MAX_NIGHTLY_AMOUNT = INT32_MAX // 60
MIN_FLOOR, MAX_FLOOR = -10, 300
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
    smoking: bool = Field(default=False, description="Smoking allowed in its rooms")
    accessible: bool = Field(default=False, description="Its rooms are wheelchair accessible")
    min_floor: int | None = Field(
        default=None, ge=MIN_FLOOR, le=MAX_FLOOR, description="Lowest floor of its rooms"
    )
    max_floor: int | None = Field(
        default=None, ge=MIN_FLOOR, le=MAX_FLOOR, description="Highest floor of its rooms"
    )


class RoomTypeCreate(RoomTypeBase):
    model_config = STRICT

    @model_validator(mode="after")
    def _floor_range(self) -> "RoomTypeCreate":
        if (
            self.min_floor is not None
            and self.max_floor is not None
            and self.min_floor > self.max_floor
        ):
            raise ValueError("min_floor is above max_floor")
        return self

    code: RoomTypeCode
    name: Text = Field(min_length=1, max_length=100)
    description: MultilineText = Field(default="", max_length=2000)
    bed_type: Text = Field(min_length=1, max_length=40, description="e.g. twin, king")
    property_id: RowId | None = Field(default=None, description="Defaults to the only property")


class RoomType(RoomTypeBase, table=True):
    __tablename__ = "room_types"
    __table_args__ = (
        UniqueConstraint("property_id", "code", name="uq_room_types_property_code"),
        CheckConstraint(
            "min_floor IS NULL OR max_floor IS NULL OR min_floor <= max_floor",
            name="ck_room_types_floor_range",
        ),
    )

    smoking: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    accessible: bool = Field(default=False, sa_column_kwargs={"server_default": false()})

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
    floor: int = Field(ge=MIN_FLOOR, le=MAX_FLOOR)
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
    # Numbers are unique per property: "101" exists at every hotel.
    __table_args__ = (UniqueConstraint("property_id", "number", name="uq_rooms_property_number"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=10)
    # The room type's property, kept here so the unique above can name it (never changes: a
    # room does not move to another hotel).
    property_id: int = Field(foreign_key="properties.id")
    room_type_id: int = Field(foreign_key="room_types.id", index=True)
    housekeeping_status: str = Field(default=HousekeepingStatus.CLEAN, max_length=20)


class RoomPublic(RoomBase):
    id: int
    property_id: int
    housekeeping_status: HousekeepingStatus
    room_type_id: int
    room_type_code: str


class RoomUpdate(StrictModel):
    """What housekeeping and the desk change on a room."""

    housekeeping_status: HousekeepingStatus = PydanticField(
        description="clean, dirty, inspected or out_of_order (out_of_order takes the room out "
        "of inventory until it gets another status)"
    )


# -- out-of-order periods --------------------------------------------------------------------------


class OutOfOrderPeriod(SQLModel, table=True):
    """A room out of service for the nights from `from_date` to before `to_date` (a repair, a
    renovation): availability and holds do not count it on those nights. Ending a period early
    moves `to_date` (to `from_date` when it never began, an empty period) and stamps who and
    when; rows are never deleted."""

    __tablename__ = "room_out_of_order"
    __table_args__ = (
        CheckConstraint("to_date >= from_date", name="ck_room_out_of_order_dates"),
        Index("ix_room_out_of_order_room_dates", "room_id", "from_date", "to_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id")
    property_id: int = Field(foreign_key="properties.id", index=True)
    from_date: date
    to_date: date
    reason: str = Field(max_length=500)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    ended_by: str | None = Field(default=None, max_length=100)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OutOfOrderCreate(StrictModel):
    room_id: RowId
    from_date: IsoDate = PydanticField(description="First night out of service, property time")
    to_date: IsoDate = PydanticField(description="First night back in service (exclusive)")
    reason: Text200


class OutOfOrderPublic(BaseModel):
    id: int
    room_id: int
    room_number: str
    room_type_code: str
    property_id: int
    from_date: date
    to_date: date
    reason: str
    created_by: str
    created_at: datetime
    ended_by: str | None
    ended_at: datetime | None
    held_beyond_rooms: list[date] = PydanticField(
        default_factory=list,
        description="Nights on which the room type now has more rooms held than in service "
        "(bookings to move); empty when none",
    )


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
        # An OTA's own reservation id names one booking per channel (NULLs never collide).
        UniqueConstraint("channel", "external_id", name="uq_reservations_channel_external_id"),
        # The unpaid holds of a channel are counted by (channel, status).
        Index("ix_reservations_channel_status", "channel", "status"),
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
    # Issue 18: the pickup party's needs (TransferNeeds, only what was given), and the
    # departure drop-off asked for (DepartureIn as JSON, the time as ISO text); None: none.
    transfer_needs: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    departure: dict[str, Any] | None = Field(default=None, sa_type=JSON)
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
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    guarantee_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    guaranteed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # guarantee met
    no_show_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancellation_fee_amount: int = 0
    refund_amount: int = 0
    # 1 when requested, one more on every state change; the events announcing a change carry
    # it (envelope.aggregate_version) so consumers can tell a stale event from a new one.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    # Issue 17, intake. The party of the first room (guests = adults + len(children_ages)).
    adults: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    children_ages: list[int] = Field(default_factory=list, sa_type=JSON)
    # Typed special requests ([{"code": "bed_type", "value": "king"}, {"code": "crib"}]).
    requests: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    # How the booking reached the hotel: web, app, phone, walk_in, email, ota (BookingSource).
    source: str = Field(default="web", max_length=16)
    # The channel's own reservation id (an OTA's), unique per channel.
    external_id: str | None = Field(default=None, max_length=64)
    # Rooms under this confirmation number; above 1 the rooms are `reservation_lines` rows
    # (line 1 is the room this row's room type, party and nightly amounts describe).
    room_count: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class ReservationLine(SQLModel, table=True):
    """One room of a booking with several rooms under one confirmation number (issue 17).

    Written only when a booking has more than one room (`Reservation.room_count` > 1); line 1
    repeats the room the reservation row itself describes. Each line is priced on its own
    (its plan, its party) and holds one room per night while the booking is confirmed.
    """

    __tablename__ = "reservation_lines"
    __table_args__ = (UniqueConstraint("reservation_id", "line", name="uq_reservation_lines_line"),)

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: str = Field(foreign_key="reservations.id", max_length=36)
    line: int  # 1, 2, ... in the order of the request's `rooms`
    room_type_id: int = Field(foreign_key="room_types.id")
    rate_plan_code: str = Field(max_length=16)
    adults: int
    children_ages: list[int] = Field(default_factory=list, sa_type=JSON)
    guests: int
    nightly_amounts: list[int] = Field(default_factory=list, sa_type=JSON)
    tax_amount: int = 0
    total_amount: int
    policy: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


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


def transfers_included(r: Reservation, lines: Sequence[tuple[ReservationLine, Any]] = ()) -> bool:
    """The booking's rate plan (any of its rooms' plans) includes transfers: its terms, kept
    from booking (Reservation.policy), say so."""
    return bool((r.policy or {}).get("transfers_included")) or any(
        bool((line.policy or {}).get("transfers_included")) for line, _ in lines
    )


class GuestIn(StrictModel):
    name: Text200
    email: Annotated[Email, SINGLE_LINE]
    phone: Annotated[Phone, SINGLE_LINE] | None = None
    language: LanguageTag = "en"


class TransferTransport(StrEnum):
    """What the guest travels on: sets the driver's free waiting time."""

    INTERNATIONAL_FLIGHT = "international_flight"
    DOMESTIC_FLIGHT = "domestic_flight"
    TRAIN = "train"


def _flight_number(value: str | None) -> str | None:
    if value is None:
        return None
    compact = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[A-Z0-9]{3,10}", compact):
        raise ValueError("a flight or train number is 3-10 letters and digits")
    return compact


# The party's needs on a ride (issue 18), each optional: only what was given is stored.
NEEDS = ("transport", "child_seats", "wheelchair", "language", "sign_name", "notes", "share_ok")


class TransferNeeds(StrictModel):
    transport: TransferTransport | None = PydanticField(
        default=None, description="international_flight, domestic_flight or train"
    )
    child_seats: int | None = PydanticField(default=None, ge=0, le=6)
    wheelchair: bool | None = PydanticField(default=None, description="A wheelchair-accessible car")
    language: LanguageTag | None = PydanticField(
        default=None, description="A language the driver must speak, BCP-47"
    )
    sign_name: Text | None = PydanticField(
        default=None, max_length=60, description="Name on the meet-and-greet sign"
    )
    notes: MultilineText | None = PydanticField(default=None, max_length=500)
    share_ok: bool | None = PydanticField(
        default=None, description="The party agrees to share a car with guests on its flight"
    )

    def needs(self) -> dict[str, Any] | None:
        """The needs given, as stored and sent (None: none)."""
        given = {k: getattr(self, k) for k in NEEDS if getattr(self, k) is not None}
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in given.items()} or None


class TransferIn(TransferNeeds):
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
        return _flight_number(value)


class DepartureIn(TransferNeeds):
    """A drop-off from the property in time for the guest's flight or train home."""

    flight_number: Text | None = PydanticField(default=None, examples=["MU5101"])
    departure_time: Annotated[AwareDatetime, AfterValidator(_utc)] = PydanticField(
        description="When the flight takes off or the train leaves, with its offset"
    )
    dropoff_place: Text200 = PydanticField(examples=["Shanghai Hongqiao T2"])
    passengers: int | None = PydanticField(
        default=None, ge=1, le=20, description="Defaults to the booking's guests; at most that"
    )
    luggage: int = PydanticField(default=0, ge=0, le=50)

    @field_validator("flight_number")
    @classmethod
    def _flight(cls, value: str | None) -> str | None:
        return _flight_number(value)

    def stored(self, guests: int) -> dict[str, Any]:
        """The departure as the reservation keeps it (Reservation.departure)."""
        return {
            "flight_number": self.flight_number,
            "departure_time": self.departure_time.isoformat(),
            "dropoff_place": self.dropoff_place,
            "passengers": self.passengers or guests,
            "luggage": self.luggage,
            **(self.needs() or {}),
        }


class BookingSource(StrEnum):
    """How a booking reached the hotel (its channel says who took it)."""

    WEB = "web"
    APP = "app"
    PHONE = "phone"
    WALK_IN = "walk_in"
    EMAIL = "email"
    OTA = "ota"


class RequestCode(StrEnum):
    NON_SMOKING = "non_smoking"
    ACCESSIBLE = "accessible"
    BED_TYPE = "bed_type"  # with value twin or king
    HIGH_FLOOR = "high_floor"
    QUIET_ROOM = "quiet_room"
    CRIB = "crib"
    LATE_ARRIVAL = "late_arrival"


class BedPreference(StrEnum):
    TWIN = "twin"
    KING = "king"


class SpecialRequest(StrictModel):
    """A typed request the desk can act on at room assignment (the free text is
    `special_requests`). Requests are wishes, not guarantees."""

    code: RequestCode
    value: BedPreference | None = PydanticField(
        default=None, description="Only with `bed_type`, and required there: twin or king"
    )

    @model_validator(mode="after")
    def _value_only_for_bed_type(self) -> "SpecialRequest":
        if (self.code is RequestCode.BED_TYPE) != (self.value is not None):
            raise ValueError("`value` (twin or king) goes with `bed_type` and only with it")
        return self


# Rate plan codes: 1-16 letters, digits, dashes or underscores, case-insensitive.
RatePlanCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,16}$"),
    AfterValidator(str.upper),
    SINGLE_LINE,
    PydanticField(description="Rate plan code, case-insensitive; default the base plan"),
]
ChildAge = Annotated[int, PydanticField(ge=0, le=17, description="Age on arrival, 0-17")]
MAX_ROOMS_PER_BOOKING = 9


class RoomLineIn(StrictModel):
    room_type_code: RequestedRoomTypeCode = PydanticField(examples=["KNG"])
    rate_plan_code: RequestedRatePlanCode | None = None
    adults: int = PydanticField(ge=1, le=20)
    children: list[ChildAge] = PydanticField(default_factory=list, max_length=19)


class ReservationCreate(StrictModel):
    property_id: RowId | None = PydanticField(
        default=None, description="Defaults to the only property"
    )
    guest: GuestIn
    # Required unless `rooms` is given (then absent: the rooms say it).
    # (Typed without None so the documented pattern stays the field's own; None: not given.)
    room_type_code: RequestedRoomTypeCode = PydanticField(default=None, examples=["KNG"])  # type: ignore[assignment]
    check_in: IsoDate
    check_out: IsoDate
    guests: int = PydanticField(  # type: ignore[assignment]
        default=None,
        ge=1,
        le=20,
        description="The party's size; with `adults` (and `children`) it may be left out, "
        "and if given must equal adults + children",
    )
    adults: int | None = PydanticField(default=None, ge=1, le=20)
    children: list[ChildAge] | None = PydanticField(
        default=None, max_length=19, description="Each child's age; children count as guests"
    )
    rate_plan_code: RequestedRatePlanCode | None = None
    rooms: list[RoomLineIn] | None = PydanticField(
        default=None,
        min_length=1,
        max_length=MAX_ROOMS_PER_BOOKING,
        description="Several rooms under one confirmation number, each with its room type, "
        "plan and party; instead of the top-level room_type_code, rate_plan_code, guests, "
        "adults and children",
    )
    special_requests: MultilineText | None = PydanticField(default=None, max_length=2000)
    requests: list[SpecialRequest] = PydanticField(default_factory=list, max_length=10)
    transfer: TransferIn | None = None
    departure: DepartureIn | None = PydanticField(
        default=None, description="A drop-off from the property for the flight or train home"
    )
    source: BookingSource | None = PydanticField(
        default=None,
        description="How the booking reached the hotel; defaults from the caller (web, app, "
        "ota for partners, walk_in for desk staff); desk staff may say phone, walk_in or email",
    )
    external_id: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:/-]{1,64}$"), SINGLE_LINE] | None
    ) = PydanticField(
        default=None,
        description="Partners: your own reservation id, unique on your channel. A second "
        "request with it returns the first booking (200) instead of making another",
    )
    # No channel, status, price or owner: they come from the caller and the catalog (a body
    # naming one is a 422, StrictModel).


class CancelRequest(StrictModel):
    reason: MultilineText | None = PydanticField(default=None, max_length=500)


class GuestOut(BaseModel):
    name: str
    email: str
    phone: str | None
    language: str


class NeedsOut(BaseModel):
    transport: str | None = PydanticField(
        default=None, description="international_flight, domestic_flight or train"
    )
    child_seats: int | None = None
    wheelchair: bool | None = None
    language: str | None = None
    sign_name: str | None = None
    notes: str | None = None
    share_ok: bool | None = None


class TransferOut(NeedsOut):
    flight_number: str | None
    arrival_time: datetime
    pickup_place: str
    passengers: int
    luggage: int


class DepartureOut(NeedsOut):
    flight_number: str | None
    departure_time: datetime
    dropoff_place: str
    passengers: int
    luggage: int


class LinePublic(BaseModel):
    line: int
    room_type_code: str
    room_type_name: str
    rate_plan_code: str
    adults: int
    children: list[int]
    guests: int
    nightly_amounts: list[int] = PydanticField(description=f"Price of each night: {MINOR_UNITS}")
    tax_amount: int = PydanticField(description=f"Taxes included in the total: {MINOR_UNITS}")
    total_amount: int = PydanticField(description=f"Price of this room's stay: {MINOR_UNITS}")
    currency: str = PydanticField(description="ISO 4217")


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
    departure: DepartureOut | None = PydanticField(
        default=None, description="The drop-off for the way home"
    )
    transfers_included: bool = PydanticField(
        default=False, description="The booking's rate plan includes its transfers (no fare)"
    )
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
    guaranteed_at: datetime | None = PydanticField(
        description="When the guarantee (deposit or prepayment) was received"
    )
    no_show_at: datetime | None
    cancellation_fee_amount: int = PydanticField(
        description=f"Charged by the policy on cancellation or no-show: {MINOR_UNITS}"
    )
    refund_amount: int = PydanticField(description=f"Given back on cancellation: {MINOR_UNITS}")
    adults: int = 1
    children: list[int] = PydanticField(default_factory=list, description="Children's ages")
    requests: list[SpecialRequest] = PydanticField(default_factory=list)
    source: BookingSource = BookingSource.WEB
    external_id: str | None = None
    room_count: int = 1
    lines: list[LinePublic] = PydanticField(
        default_factory=list,
        description="Every room under this confirmation number (one for a single room); the "
        "top-level room type, party and nightly amounts are line 1's, `total_amount` and "
        "`tax_amount` the whole booking's",
    )

    def masked(self) -> "ReservationPublic":
        """As shown to a role that does not need the guest's contact details (marketing)."""
        guest = self.guest.model_copy(
            update={"email": masked(self.guest.email), "phone": masked(self.guest.phone)}
        )
        return self.model_copy(update={"guest": guest})

    @classmethod
    def from_row(
        cls,
        r: Reservation,
        room_type: RoomType,
        lines: Sequence[tuple[ReservationLine, RoomType]] = (),
    ) -> "ReservationPublic":
        transfer = None
        if r.transfer_arrival_time is not None:
            transfer = TransferOut(
                flight_number=r.transfer_flight_number,
                arrival_time=r.transfer_arrival_time,
                pickup_place=r.transfer_pickup_place or "",
                passengers=r.transfer_passengers or r.guests,
                luggage=r.transfer_luggage or 0,
                **(r.transfer_needs or {}),
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
                "departure": DepartureOut.model_validate(r.departure) if r.departure else None,
                "transfers_included": transfers_included(r, lines),
                "children": r.children_ages,
                "lines": _lines_public(r, room_type, lines),
            }
        )


def _lines_public(
    r: Reservation, room_type: RoomType, lines: Sequence[tuple[ReservationLine, RoomType]]
) -> list[LinePublic]:
    if not lines:  # a single room: the row is its one line
        return [
            LinePublic(
                line=1,
                room_type_code=room_type.code,
                room_type_name=room_type.name,
                rate_plan_code=r.rate_plan_code,
                adults=r.adults,
                children=r.children_ages,
                guests=r.guests,
                nightly_amounts=r.nightly_amounts,
                tax_amount=r.tax_amount,
                total_amount=r.total_amount,
                currency=r.currency,
            )
        ]
    return [
        LinePublic(
            line=line.line,
            room_type_code=rt.code,
            room_type_name=rt.name,
            rate_plan_code=line.rate_plan_code,
            adults=line.adults,
            children=line.children_ages,
            guests=line.guests,
            nightly_amounts=line.nightly_amounts,
            tax_amount=line.tax_amount,
            total_amount=line.total_amount,
            currency=r.currency,
        )
        for line, rt in lines
    ]


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
