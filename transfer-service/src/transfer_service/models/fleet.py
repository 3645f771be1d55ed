"""Vehicles and drivers, with what makes them assignable: maintenance periods, shifts."""

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from hotel_common.contacts import PHONE_MAX_LENGTH, LanguageTag, Phone
from hotel_common.text import Text
from hotel_common.time import IsoDate, LocalTime, UtcDateTime, utcnow
from pydantic import AfterValidator, AwareDatetime, field_validator
from sqlmodel import Field, SQLModel

from transfer_service.models.common import STRICT, squeeze


class VehicleClass(StrEnum):
    SEDAN = "sedan"
    BUSINESS = "business"
    VAN = "van"
    MINIBUS = "minibus"


class VehicleStatus(StrEnum):
    AVAILABLE = "available"
    OUT_OF_SERVICE = "out_of_service"


class DriverStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


# --- vehicles ---------------------------------------------------------------------------------


class VehicleBase(SQLModel):
    plate: str = Field(min_length=1, max_length=20)
    description: str = Field(min_length=1, max_length=200)  # e.g. "Toyota Alphard (black)"
    vehicle_class: VehicleClass = Field(sa_type=sa.String(20))
    seats: int = Field(ge=1, le=60, description="Passenger seats, the driver's not counted")
    luggage_capacity: int = Field(ge=0, le=100, description="Number of suitcases")
    status: VehicleStatus = Field(default=VehicleStatus.AVAILABLE, sa_type=sa.String(20))
    # Issue 18: what the vehicle carries and its upkeep.
    child_seats: int = Field(default=0, ge=0, le=10, description="Child seats carried")
    wheelchair_accessible: bool = False
    odometer_km: int = Field(default=0, ge=0, le=5_000_000)
    next_service_date: date | None = None


class VehicleCreate(VehicleBase):
    model_config = STRICT
    # Request text refuses control characters (hotel_common.text).
    plate: Text = Field(min_length=1, max_length=20)
    description: Text = Field(min_length=1, max_length=200)
    next_service_date: IsoDate | None = None

    @field_validator("plate", mode="before")
    @classmethod
    def _plate(cls, value: object) -> object:
        # One spelling per plate, so "沪a·d1234" and "沪A·D1234 " are the same vehicle.
        value = squeeze(value)
        return value.upper() if isinstance(value, str) else value

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: object) -> object:
        return squeeze(value)


class VehicleUpdate(SQLModel):
    """Fields given replace the vehicle's (null or absent: unchanged; `next_service_date: null`
    clears it). The plate is the vehicle's identity and does not change."""

    model_config = STRICT
    description: Text | None = Field(default=None, min_length=1, max_length=200)
    vehicle_class: VehicleClass | None = None
    seats: int | None = Field(default=None, ge=1, le=60)
    luggage_capacity: int | None = Field(default=None, ge=0, le=100)
    status: VehicleStatus | None = None
    child_seats: int | None = Field(default=None, ge=0, le=10)
    wheelchair_accessible: bool | None = None
    odometer_km: int | None = Field(
        default=None, ge=0, le=5_000_000, description="Never lower than the recorded reading"
    )
    next_service_date: IsoDate | None = None

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: object) -> object:
        return squeeze(value)


class Vehicle(VehicleBase, table=True):
    __tablename__ = "vehicles"

    id: int | None = Field(default=None, primary_key=True)
    plate: str = Field(max_length=20, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class VehiclePublic(VehicleBase):
    id: int
    created_at: datetime


# --- drivers ----------------------------------------------------------------------------------


class DriverBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(max_length=PHONE_MAX_LENGTH)  # E.164, e.g. +8613800138000
    licence_number: str = Field(min_length=1, max_length=40)
    status: DriverStatus = Field(default=DriverStatus.ACTIVE, sa_type=sa.String(20))
    languages: list[str] = Field(default_factory=lambda: ["zh-Hans"], min_length=1, sa_type=sa.JSON)
    # Issue 18. None: registered before expiry dates were recorded (see docs/DECISIONS.md).
    licence_expires_on: date | None = None
    # The standing daily shift in the job's property time zone (end before start: it runs past
    # midnight); None: the driver works only the dated shifts recorded for them.
    shift_start: time | None = None
    shift_end: time | None = None
    daily_driving_limit_minutes: int = Field(default=540, ge=30, le=24 * 60)
    min_rest_minutes: int = Field(default=660, ge=0, le=24 * 60)


class DriverCreate(DriverBase):
    model_config = STRICT
    # Request text refuses control characters (hotel_common.text).
    name: Text = Field(min_length=1, max_length=100)
    phone: Phone
    licence_number: Text = Field(min_length=1, max_length=40)
    languages: list[LanguageTag] = Field(
        default_factory=lambda: ["zh-Hans"],
        min_length=1,
        description="Languages the driver speaks, BCP-47 tags; repeats are dropped",
    )
    # Required for a new driver; an already expired licence is refused (422 licence_expired).
    licence_expires_on: IsoDate
    shift_start: LocalTime | None = Field(
        default=None, description="Standing daily shift start, property time (with shift_end)"
    )
    shift_end: LocalTime | None = Field(
        default=None, description="Standing daily shift end; before the start: past midnight"
    )

    @field_validator("name", "licence_number", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return squeeze(value)

    @field_validator("languages")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class DriverUpdate(SQLModel):
    """Fields given replace the driver's (null or absent: unchanged). `shift_start` and
    `shift_end` go together; both null removes the standing shift (dated shifts only). The
    licence number is the driver's identity and does not change."""

    model_config = STRICT
    name: Text | None = Field(default=None, min_length=1, max_length=100)
    phone: Phone | None = None
    status: DriverStatus | None = None
    languages: list[LanguageTag] | None = Field(default=None, min_length=1)
    licence_expires_on: IsoDate | None = None
    shift_start: LocalTime | None = None
    shift_end: LocalTime | None = None
    daily_driving_limit_minutes: int | None = Field(default=None, ge=30, le=24 * 60)
    min_rest_minutes: int | None = Field(default=None, ge=0, le=24 * 60)

    @field_validator("name", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return squeeze(value)

    @field_validator("languages")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(value)) if value is not None else None


class Driver(DriverBase, table=True):
    __tablename__ = "drivers"

    id: int | None = Field(default=None, primary_key=True)
    licence_number: str = Field(max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class DriverPublic(DriverBase):
    id: int
    created_at: datetime
    # Local wall-clock times (OpenAPI's `format: time` would demand an offset).
    shift_start: LocalTime | None = Field(description="Standing daily shift start, property time")
    shift_end: LocalTime | None = Field(
        description="Standing daily shift end; before the start: past midnight"
    )


# --- issue 18: when vehicles and drivers cannot be assigned ---------------------------------


class VehicleMaintenance(SQLModel, table=True):
    """A period the vehicle is in the workshop: not assignable on those days (inclusive)."""

    __tablename__ = "vehicle_maintenance"

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicles.id", index=True)
    starts_on: date
    # Inclusive. Ending a period early moves it (the day before the vehicle is back); a period
    # ended before it began keeps ends_on = starts_on - 1 day, covering no day at all.
    ends_on: date
    reason: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # f18b: who recorded and who ended it, and when.
    created_by: str = Field(default="system", max_length=80)
    ended_by: str | None = Field(default=None, max_length=80)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class DriverShift(SQLModel, table=True):
    """A dated working period of a driver (UTC instants), beside or instead of the standing
    daily shift: a job is only assigned to a driver on shift for its whole crew window."""

    __tablename__ = "driver_shifts"
    __table_args__ = (sa.Index("ix_driver_shifts_driver_starts", "driver_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    driver_id: int = Field(foreign_key="drivers.id")
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime = Field(sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class MaintenanceCreate(SQLModel):
    model_config = STRICT
    starts_on: IsoDate = Field(description="First day in the workshop")
    ends_on: IsoDate = Field(description="Last day in the workshop (inclusive)")
    reason: Text = Field(min_length=1, max_length=200)

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: object) -> object:
        return squeeze(value)


class MaintenanceEnd(SQLModel):
    model_config = STRICT
    back_on: IsoDate | None = Field(
        default=None,
        description="First day the vehicle is back in service (default: today, UTC); on or "
        "before the first day of the period, the period is called off",
    )


class MaintenancePublic(SQLModel):
    id: int
    vehicle_id: int
    starts_on: date
    ends_on: date = Field(description="Last day, inclusive (starts_on - 1: called off)")
    reason: str
    created_by: str
    created_at: datetime
    ended_by: str | None
    ended_at: datetime | None
    jobs_to_move: list[str] = Field(
        default_factory=list,
        description="Jobs of this vehicle on the period's days that no other vehicle could "
        "take (escalated, flagged) or already under way, for dispatch to move (answered when "
        "the period is recorded; empty in lists)",
    )
    reassigned: list[str] = Field(
        default_factory=list,
        description="Jobs of this vehicle on the period's days given another vehicle when the "
        "period was recorded (the guests told; empty in lists)",
    )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class ShiftCreate(SQLModel):
    model_config = STRICT
    starts_at: Annotated[AwareDatetime, AfterValidator(_utc)] = Field(
        description="With its offset; stored in UTC"
    )
    ends_at: Annotated[AwareDatetime, AfterValidator(_utc)]


class ShiftPublic(SQLModel):
    id: int
    driver_id: int
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
