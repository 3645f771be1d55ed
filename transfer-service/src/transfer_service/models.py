"""Tables of transfer-service beside their API schemas: vehicles, drivers and transfer jobs.

Choice-like columns are plain strings in the database (no native enum types to migrate when a
state is added); the API schemas restrict them with `Literal`.
"""

import re
import uuid
from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from hotel_common.contracts.reservations import Language
from hotel_common.time import utcnow
from pydantic import field_validator
from sqlmodel import Field, SQLModel

VehicleClass = Literal["sedan", "business", "van", "minibus"]
VehicleStatus = Literal["available", "out_of_service"]
DriverStatus = Literal["active", "inactive"]
TransferKind = Literal["arrival_pickup"]
# driver_on_site, in_progress and completed are reached through dispatch (a later issue).
TransferStatus = Literal[
    "requested", "assigned", "driver_on_site", "in_progress", "completed", "cancelled"
]

TABLES = {"vehicles", "drivers", "transfer_jobs", "cancelled_reservations"}

_PHONE = re.compile(r"\+?[1-9][0-9]{6,14}")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def _squeeze(value: object) -> object:
    """Trim text input, so a blank value fails the length check instead of being stored."""
    return value.strip() if isinstance(value, str) else value


# --- vehicles ---------------------------------------------------------------------------------


class VehicleBase(SQLModel):
    plate: str = Field(min_length=1, max_length=20)
    description: str = Field(min_length=1, max_length=200)  # e.g. "Toyota Alphard (black)"
    vehicle_class: VehicleClass = Field(sa_type=sa.String(20))
    seats: int = Field(ge=1, le=60)  # passengers, driver not counted
    luggage_capacity: int = Field(ge=0, le=100)  # suitcases
    status: VehicleStatus = Field(default="available", sa_type=sa.String(20))


class VehicleCreate(VehicleBase):
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
    created_at: datetime = Field(default_factory=utcnow)


class VehiclePublic(VehicleBase):
    id: int
    created_at: datetime


# --- drivers ----------------------------------------------------------------------------------


class DriverBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(max_length=20)  # E.164, e.g. +8613800138000
    licence_number: str = Field(min_length=1, max_length=40)
    status: DriverStatus = Field(default="active", sa_type=sa.String(20))
    languages: list[Language] = Field(
        default_factory=lambda: ["zh-Hans"], min_length=1, sa_type=sa.JSON
    )


class DriverCreate(DriverBase):
    @field_validator("name", "licence_number", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _squeeze(value)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        digits = _PHONE_SEPARATORS.sub("", value)
        if not _PHONE.fullmatch(digits):
            raise ValueError("phone must be 7-15 digits, optionally with a leading +")
        return digits

    @field_validator("languages")
    @classmethod
    def _distinct(cls, value: list[Language]) -> list[Language]:
        return list(dict.fromkeys(value))


class Driver(DriverBase, table=True):
    __tablename__ = "drivers"

    id: int | None = Field(default=None, primary_key=True)
    licence_number: str = Field(max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class DriverPublic(DriverBase):
    id: int
    created_at: datetime


# --- transfer jobs ----------------------------------------------------------------------------


class CancelledReservation(SQLModel, table=True):
    """A reservation known to be cancelled. A confirmation retried after its cancellation has
    arrived (events of one booking can overtake each other on retry) must not open a pickup."""

    __tablename__ = "cancelled_reservations"

    reservation_id: str = Field(primary_key=True, max_length=36)
    cancelled_at: datetime = Field(default_factory=utcnow)


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
    kind: str = Field(default="arrival_pickup", max_length=30)
    guest_name: str
    guest_email: str
    guest_phone: str | None = None
    guest_language: str = Field(max_length=10)
    flight_number: str | None = None
    pickup_place: str
    destination: str  # the property's name
    pickup_time: datetime  # the agreed meeting time: the guest's arrival
    driver_on_site_at: datetime  # pickup_time minus the on-site lead
    ends_at: datetime  # pickup_time plus the trip
    pickup_date: date = Field(index=True)  # pickup_time's date in the property's time zone
    property_timezone: str = Field(max_length=64)
    passengers: int
    luggage: int
    status: str = Field(default="requested", max_length=20, index=True)
    vehicle_id: int | None = Field(default=None, foreign_key="vehicles.id", index=True)
    driver_id: int | None = Field(default=None, foreign_key="drivers.id", index=True)
    cancel_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    assigned_at: datetime | None = None
    cancelled_at: datetime | None = None


class GuestPublic(SQLModel):
    name: str
    email: str
    phone: str | None
    language: Language


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
    guest: GuestPublic
    flight_number: str | None
    pickup_place: str
    destination: str
    pickup_time: datetime
    driver_on_site_at: datetime
    ends_at: datetime
    pickup_date: date
    property_timezone: str
    passengers: int
    luggage: int
    vehicle: VehicleSummary | None
    driver: DriverSummary | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, job: TransferJob, vehicle: Vehicle | None, driver: Driver | None
    ) -> "TransferPublic":
        guest = {
            "name": job.guest_name,
            "email": job.guest_email,
            "phone": job.guest_phone,
            "language": job.guest_language,
        }
        return cls.model_validate(
            {
                **job.model_dump(),
                "guest": guest,
                "vehicle": vehicle.model_dump() if vehicle else None,
                "driver": driver.model_dump() if driver else None,
            }
        )
