"""What dispatch records: every action on a job (the audit trail), incidents that take a
vehicle or a driver out of service, and the flight updates received."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from hotel_common.text import Text
from hotel_common.time import IsoDate, UtcDateTime, utcnow
from pydantic import AwareDatetime, field_validator, model_validator
from sqlmodel import Field, SQLModel

from transfer_service.models.common import STRICT, squeeze


class TransferAudit(SQLModel, table=True):
    """One line of a job's trail: who did what, when. Written in the transaction of the change."""

    __tablename__ = "transfer_audit"
    __table_args__ = (sa.Index("ix_transfer_audit_transfer_at", "transfer_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: str = Field(max_length=36)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # "staff:12", "driver:7", "guest:...", "system" (a handler or a worker)
    actor: str = Field(max_length=80)
    # e.g. created, assigned, unassigned, swapped, cancelled, en_route, on_site, on_board,
    # completed, no_show, rescheduled, reassigned, uncovered, escalated
    action: str = Field(max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class IncidentKind(StrEnum):
    VEHICLE_BREAKDOWN = "vehicle_breakdown"
    DRIVER_UNAVAILABLE = "driver_unavailable"


class Incident(SQLModel, table=True):
    """A vehicle or a driver out of service from `starts_at` until `ends_at` (None: until
    resolved). While open, neither is assigned to a job whose crew window meets the period."""

    __tablename__ = "incidents"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=sa.String(30))  # IncidentKind
    vehicle_id: int | None = Field(default=None, foreign_key="vehicles.id", index=True)
    driver_id: int | None = Field(default=None, foreign_key="drivers.id", index=True)
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    description: str = Field(max_length=500)
    reported_by: str = Field(max_length=80)
    status: str = Field(default="open", sa_type=sa.String(20))  # open | resolved
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class FlightUpdate(SQLModel, table=True):
    """A flight's (or train's) new time as a flight-status feed or dispatch reported it."""

    __tablename__ = "flight_updates"
    __table_args__ = (sa.Index("ix_flight_updates_flight", "flight_number", "flight_date"),)

    id: int | None = Field(default=None, primary_key=True)
    flight_number: str = Field(max_length=10)
    flight_date: date  # the scheduled date, local to the airport (the job's property zone)
    new_time: datetime | None = Field(default=None, sa_type=UtcDateTime)  # None: cancelled
    status: str = Field(sa_type=sa.String(20))  # delayed | early | on_time | cancelled
    reported_by: str = Field(max_length=80)
    jobs_affected: int = 0
    received_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# --- dispatch actions and live steps: request and answer schemas ---------------------------------


class CrewAssignment(SQLModel):
    """A dispatcher's choice of vehicle and driver for a job."""

    model_config = STRICT

    vehicle_id: int = Field(ge=1, le=2**31 - 1)
    driver_id: int = Field(ge=1, le=2**31 - 1)


class CrewSwap(SQLModel):
    """Exchange the crews of two assigned jobs (`with_transfer_id`), or replace this job's
    driver and/or vehicle (`driver_id`, `vehicle_id`): exactly one of the two forms."""

    model_config = STRICT

    with_transfer_id: Text | None = Field(default=None, min_length=1, max_length=36)
    vehicle_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    driver_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    @model_validator(mode="after")
    def _one_form(self) -> "CrewSwap":
        replacing = self.vehicle_id is not None or self.driver_id is not None
        if (self.with_transfer_id is not None) == replacing:
            raise ValueError(
                "give with_transfer_id (exchange two jobs' crews), or vehicle_id and/or driver_id"
            )
        return self


class Unassignment(SQLModel):
    model_config = STRICT

    reason: Text | None = Field(default=None, min_length=1, max_length=500)

    @field_validator("reason", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return squeeze(value)


class Cancellation(SQLModel):
    model_config = STRICT

    reason: Text = Field(min_length=1, max_length=500)

    @field_validator("reason", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return squeeze(value)


class AuditLine(SQLModel):
    at: datetime = Field(description="UTC")
    actor: str = Field(description='Who: "staff:12", "system" (a handler or a worker)')
    action: str
    detail: dict[str, Any]


class IncidentCreate(SQLModel):
    """A vehicle broken down or a driver unavailable from `starts_at` (now if left out),
    until `ends_at` (open-ended if left out: until resolved)."""

    model_config = STRICT

    kind: IncidentKind
    vehicle_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    driver_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    description: Text = Field(min_length=1, max_length=500)

    @field_validator("description", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return squeeze(value)

    @model_validator(mode="after")
    def _subject(self) -> "IncidentCreate":
        if self.kind is IncidentKind.VEHICLE_BREAKDOWN and (
            self.vehicle_id is None or self.driver_id is not None
        ):
            raise ValueError("a vehicle breakdown names vehicle_id only")
        if self.kind is IncidentKind.DRIVER_UNAVAILABLE and (
            self.driver_id is None or self.vehicle_id is not None
        ):
            raise ValueError("a driver unavailable names driver_id only")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class IncidentPublic(SQLModel):
    id: int
    kind: IncidentKind
    vehicle_id: int | None
    driver_id: int | None
    starts_at: datetime
    ends_at: datetime | None
    description: str
    reported_by: str
    status: str = Field(description="open or resolved")
    created_at: datetime
    resolved_at: datetime | None


class IncidentOutcome(SQLModel):
    """The incident and what became of the jobs it hit."""

    incident: IncidentPublic
    reassigned: list[str] = Field(description="Jobs given another crew (guest told)")
    escalated: list[str] = Field(description="Jobs nobody could cover: flagged for dispatch")


class FlightUpdateCreate(SQLModel):
    """A flight's (train's) new time, or its cancellation, for its scheduled local date."""

    model_config = STRICT

    flight_number: Text = Field(min_length=2, max_length=10)
    date: IsoDate = Field(description="The scheduled date, local to the property")
    new_time: AwareDatetime | None = Field(default=None, description="The new arrival/departure")
    cancelled: bool = False

    @field_validator("flight_number", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        value = squeeze(value)
        return value.replace(" ", "").upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one(self) -> "FlightUpdateCreate":
        if (self.new_time is None) != self.cancelled:
            raise ValueError("give new_time, or cancelled: true")
        # A delay (or an early arrival) is hours, not months: a time far from the scheduled
        # date is another flight, or a typo; at the ends of the calendar the job's window would
        # not even fit in a datetime. Compared as given (no conversion: year 1 has no room).
        if self.new_time is not None and abs((self.new_time.date() - self.date).days) > 2:
            raise ValueError("new_time must lie within two days of the scheduled date")
        return self


class FlightUpdateOutcome(SQLModel):
    id: int
    flight_number: str
    flight_date: date
    new_time: datetime | None
    status: str = Field(description="delayed, early, on_time or cancelled")
    jobs_affected: int
    rescheduled: list[str] = Field(description="Jobs moved (guest told)")
    cancelled: list[str] = Field(description="Jobs called off with the flight")
    uncovered: list[str] = Field(description="Moved jobs no crew could take: flagged")
