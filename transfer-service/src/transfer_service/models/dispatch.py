"""What dispatch records: every action on a job (the audit trail), incidents that take a
vehicle or a driver out of service, and the flight updates received."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from hotel_common.time import UtcDateTime, utcnow
from sqlmodel import Field, SQLModel


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
