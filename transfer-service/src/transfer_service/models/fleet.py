"""Vehicles and drivers, with what makes them assignable: maintenance periods, shifts."""

from datetime import date, datetime, time
from enum import StrEnum

import sqlalchemy as sa
from hotel_common.contacts import PHONE_MAX_LENGTH, LanguageTag, Phone
from hotel_common.text import Text
from hotel_common.time import UtcDateTime, utcnow
from pydantic import field_validator
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

    @field_validator("name", "licence_number", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return squeeze(value)

    @field_validator("languages")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class Driver(DriverBase, table=True):
    __tablename__ = "drivers"

    id: int | None = Field(default=None, primary_key=True)
    licence_number: str = Field(max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class DriverPublic(DriverBase):
    id: int
    created_at: datetime


# --- issue 18: when vehicles and drivers cannot be assigned ---------------------------------


class VehicleMaintenance(SQLModel, table=True):
    """A period the vehicle is in the workshop: not assignable on those days (inclusive)."""

    __tablename__ = "vehicle_maintenance"

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicles.id", index=True)
    starts_on: date
    ends_on: date  # inclusive
    reason: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


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
