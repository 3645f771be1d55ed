"""Tables of transfer-service beside their API schemas: vehicles, drivers and transfer jobs.

Choice-like columns are plain strings in the database (no native enum types to migrate when a
state is added); the API schemas restrict them with `StrEnum`s. Instants are `UtcDateTime`.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from hotel_common.contacts import (
    LANGUAGE_TAG_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    LanguageTag,
    Phone,
    contact_of,
)
from hotel_common.text import Text
from hotel_common.time import UtcDateTime, utcnow
from pydantic import field_validator
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig


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


class TransferKind(StrEnum):
    ARRIVAL_PICKUP = "arrival_pickup"


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    ASSIGNED = "assigned"
    # driver_on_site, in_progress and completed: reported by the driver or dispatch
    # (POST /api/v1/transfers/{id}/progress), forward only.
    DRIVER_ON_SITE = "driver_on_site"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


STRICT = SQLModelConfig(extra="forbid")  # request bodies: an unknown field is a 422


def _squeeze(value: object) -> object:
    """Trim text input, so a blank value fails the length check instead of being stored."""
    return value.strip() if isinstance(value, str) else value


# --- vehicles ---------------------------------------------------------------------------------


class VehicleBase(SQLModel):
    plate: str = Field(min_length=1, max_length=20)
    description: str = Field(min_length=1, max_length=200)  # e.g. "Toyota Alphard (black)"
    vehicle_class: VehicleClass = Field(sa_type=sa.String(20))
    seats: int = Field(ge=1, le=60, description="Passenger seats, the driver's not counted")
    luggage_capacity: int = Field(ge=0, le=100, description="Number of suitcases")
    status: VehicleStatus = Field(default=VehicleStatus.AVAILABLE, sa_type=sa.String(20))


class VehicleCreate(VehicleBase):
    model_config = STRICT
    # Request text refuses control characters (hotel_common.text).
    plate: Text = Field(min_length=1, max_length=20)
    description: Text = Field(min_length=1, max_length=200)

    @field_validator("plate", mode="before")
    @classmethod
    def _plate(cls, value: object) -> object:
        # One spelling per plate, so "沪a·d1234" and "沪A·D1234 " are the same vehicle.
        value = _squeeze(value)
        return value.upper() if isinstance(value, str) else value

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: object) -> object:
        return _squeeze(value)


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
        return _squeeze(value)

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


# --- transfer jobs ----------------------------------------------------------------------------


class CancelledReservation(SQLModel, table=True):
    """A reservation known to be cancelled. A confirmation retried after its cancellation has
    arrived (events of one booking can overtake each other on retry) must not open a pickup."""

    __tablename__ = "cancelled_reservations"

    reservation_id: str = Field(primary_key=True, max_length=36)
    cancelled_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # The reservation's version the cancellation announced (None: an event without versions).
    # Only a confirmation of a later version could open a pickup again.
    version: int | None = None


class WithdrawnPickup(SQLModel, table=True):
    """A booking whose modification asked for no pickup while it had no job here yet (its
    confirmation still to come, overtaken on retry). Only an event of a later version of the
    reservation can open its pickup then; a job, once it exists, keeps its own version."""

    __tablename__ = "withdrawn_pickups"

    reservation_id: str = Field(primary_key=True, max_length=36)
    version: int  # the reservation's version that asked for no pickup
    withdrawn_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class TransferJob(SQLModel, table=True):
    """One ride for one reservation. Text taken from events has no length limit: an event is
    never refused for a long hotel or place name."""

    __tablename__ = "transfer_jobs"
    __table_args__ = (
        sa.UniqueConstraint("reservation_id", "kind", name="uq_transfer_jobs_reservation_kind"),
        sa.Index("ix_transfer_jobs_pickup_order", "pickup_time", "id"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    reservation_id: str  # unique with kind: one arrival pickup per reservation
    confirmation_number: str
    kind: TransferKind = Field(default=TransferKind.ARRIVAL_PICKUP, sa_type=sa.String(30))
    guest_name: str
    guest_email: str
    guest_phone: str | None = None
    guest_language: str = Field(max_length=LANGUAGE_TAG_MAX_LENGTH)
    flight_number: str | None = None
    pickup_place: str
    destination: str  # the property's name
    # the agreed meeting time: the guest's arrival
    pickup_time: datetime = Field(sa_type=UtcDateTime)
    driver_on_site_at: datetime = Field(sa_type=UtcDateTime)  # pickup_time minus the lead
    ends_at: datetime = Field(sa_type=UtcDateTime)  # pickup_time plus the trip
    pickup_date: date = Field(index=True)  # pickup_time's date in the property's time zone
    property_timezone: str = Field(max_length=64)
    passengers: int
    luggage: int
    status: TransferStatus = Field(
        default=TransferStatus.REQUESTED, sa_type=sa.String(20), index=True
    )
    vehicle_id: int | None = Field(default=None, foreign_key="vehicles.id", index=True)
    driver_id: int | None = Field(default=None, foreign_key="drivers.id", index=True)
    cancel_reason: str | None = None
    # The version of the reservation whose event last shaped the job (the confirmation that
    # opened it, a modification that moved it); an event of an older version is stale.
    reservation_version: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    assigned_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class TransferGuest(SQLModel):
    """The guest to pick up. (Not `GuestPublic`: guest-service has a schema of that name, and
    the gateway merges both documents.)"""

    name: str
    email: str
    phone: str | None = Field(description="E.164, e.g. +8613800138000")
    language: str = Field(description="BCP-47 tag, e.g. zh-Hans")


class VehicleSummary(SQLModel):
    id: int
    plate: str
    description: str
    vehicle_class: VehicleClass


class DriverSummary(SQLModel):
    id: int
    name: str
    phone: str


class TransferPublic(SQLModel):
    id: str
    reservation_id: str
    confirmation_number: str
    kind: TransferKind
    status: TransferStatus
    guest: TransferGuest
    flight_number: str | None
    pickup_place: str
    destination: str = Field(description="The property's name")
    pickup_time: datetime = Field(description="Agreed meeting time (the arrival), UTC")
    driver_on_site_at: datetime = Field(
        description="When the driver is at the pickup point: pickup_time minus the lead, UTC"
    )
    ends_at: datetime = Field(description="Expected arrival at the property, UTC")
    pickup_date: date = Field(description="pickup_time's date in the property's time zone")
    property_timezone: str = Field(description="IANA time zone, e.g. Asia/Shanghai")
    passengers: int = Field(description="Number of people")
    luggage: int = Field(description="Number of suitcases")
    vehicle: VehicleSummary | None
    driver: DriverSummary | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, job: TransferJob, vehicle: Vehicle | None, driver: Driver | None
    ) -> "TransferPublic":
        # Read from attributes, not model_dump(): a loaded row's choice columns are plain text.
        fields = {name: getattr(job, name) for name in cls.model_fields if hasattr(job, name)}
        return cls.model_validate(
            {**fields, "guest": contact_of(job), "vehicle": vehicle, "driver": driver},
            from_attributes=True,
        )


class ProgressStatus(StrEnum):
    """Where a driver reports a job has got to; each step follows the one before."""

    DRIVER_ON_SITE = "driver_on_site"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ProgressUpdate(SQLModel):
    model_config = SQLModelConfig(
        extra="forbid", json_schema_extra={"examples": [{"status": "driver_on_site"}]}
    )

    status: ProgressStatus = Field(
        description="The next state: assigned -> driver_on_site -> in_progress -> completed"
    )
