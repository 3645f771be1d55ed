"""Transfer jobs and what the event handlers remember about bookings."""

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from hotel_common.contacts import LANGUAGE_TAG_MAX_LENGTH, contact_of
from hotel_common.time import UtcDateTime, utcnow
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from transfer_service.models.fleet import Driver, Vehicle, VehicleClass


class TransferKind(StrEnum):
    ARRIVAL_PICKUP = "arrival_pickup"  # from the station or airport to the property
    DEPARTURE_DROPOFF = "departure_dropoff"  # from the property, in time for the flight
    AD_HOC = "ad_hoc"  # asked for by staff or the guest app, any two places


class Transport(StrEnum):
    """What the guest travels on: sets the free waiting time before a no-show."""

    INTERNATIONAL_FLIGHT = "international_flight"
    DOMESTIC_FLIGHT = "domestic_flight"
    TRAIN = "train"


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    ASSIGNED = "assigned"
    # en_route .. completed, no_show: reported by the driver or dispatch, forward only.
    EN_ROUTE = "en_route"  # the driver has set off for the pickup point
    DRIVER_ON_SITE = "driver_on_site"
    IN_PROGRESS = "in_progress"  # the guest is on board
    COMPLETED = "completed"
    NO_SHOW = "no_show"  # the guest never came after the free waiting time
    CANCELLED = "cancelled"


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


class WithdrawnDeparture(SQLModel, table=True):
    """The same for the departure drop-off (issue 18 review): a modification asking for no
    drop-off, overtaking the confirmation that asked for one, leaves this row so the older
    confirmation opens none."""

    __tablename__ = "withdrawn_departures"

    reservation_id: str = Field(primary_key=True, max_length=36)
    version: int  # the reservation's version that asked for no drop-off
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
    # Unique with kind: one arrival pickup and one departure drop-off per reservation. None: an
    # ad-hoc job not tied to a booking.
    reservation_id: str | None = None
    confirmation_number: str | None = None
    kind: TransferKind = Field(default=TransferKind.ARRIVAL_PICKUP, sa_type=sa.String(30))
    guest_name: str
    guest_email: str
    guest_phone: str | None = None
    guest_language: str = Field(max_length=LANGUAGE_TAG_MAX_LENGTH)
    flight_number: str | None = None  # the flight or train number
    transport: str | None = Field(default=None, sa_type=sa.String(30))  # Transport
    # The flight's (train's) scheduled time: landing for a pickup, take-off for a drop-off.
    flight_time: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The flight's scheduled local date as booked: a flight update names the flight by it, and
    # it stays when the update moves `flight_time` (past midnight too). None: `flight_time`'s.
    flight_date: date | None = None
    # The flight's time as the booking gives it; `flight_time` differs once a flight update moved
    # it, and a booking change leaving the flight as booked keeps that move (handlers.py).
    booked_flight_time: datetime | None = Field(default=None, sa_type=UtcDateTime)
    pickup_place: str
    destination: str  # for an arrival pickup, the property's name
    pickup_place_id: int | None = Field(default=None, foreign_key="places.id")
    destination_place_id: int | None = Field(default=None, foreign_key="places.id")
    # the agreed meeting time: the guest's arrival, or when they leave the property
    pickup_time: datetime = Field(sa_type=UtcDateTime)
    driver_on_site_at: datetime = Field(sa_type=UtcDateTime)  # pickup_time minus the lead
    ends_at: datetime = Field(sa_type=UtcDateTime)  # pickup_time plus the ride
    # The crew's window: leaving base to reach the pickup point until back at base. Two jobs
    # of one vehicle or driver may not overlap here (plus the turnaround), except jobs of one
    # shared ride.
    busy_from: datetime = Field(sa_type=UtcDateTime)
    busy_until: datetime = Field(sa_type=UtcDateTime)
    driven_minutes: int = 0  # out to the pickup, the ride, back to base
    pickup_date: date = Field(index=True)  # pickup_time's date in the property's time zone
    property_timezone: str = Field(max_length=64)
    passengers: int
    luggage: int
    child_seats: int = 0
    wheelchair: bool = False
    language: str | None = Field(default=None, max_length=LANGUAGE_TAG_MAX_LENGTH)  # required
    sign_name: str | None = None  # meet-and-greet sign
    notes: str | None = None
    share_ok: bool = False  # the guest agreed to share a vehicle with others on their flight
    ride_id: str | None = Field(default=None, max_length=36, index=True)  # shared ride
    source: str = Field(default="booking", sa_type=sa.String(20))  # booking | staff | guest_app
    status: TransferStatus = Field(
        default=TransferStatus.REQUESTED, sa_type=sa.String(20), index=True
    )
    vehicle_id: int | None = Field(default=None, foreign_key="vehicles.id", index=True)
    driver_id: int | None = Field(default=None, foreign_key="drivers.id", index=True)
    # Why a `requested` job has no crew (no_vehicle_fits, no_vehicle_free, no_driver_free,
    # pickup_past, ...); None once covered. Flags: what dispatch should look at (unknown_place,
    # uncovered, escalated, ...), shown on the board.
    uncovered_reason: str | None = Field(default=None, max_length=40)
    flags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    cancel_reason: str | None = None
    # The version of the reservation whose event last shaped the job (the confirmation that
    # opened it, a modification that moved it); an event of an older version is stale.
    reservation_version: int | None = None
    # The job's own version, raised by every change: the aggregate version of its events.
    version: int = 1
    # Money: the fare (minor units) and whether the booking's rate plan includes the ride.
    fare_amount: int | None = None
    fare_currency: str | None = Field(default=None, max_length=3)
    fare_included: bool = False
    waiting_minutes: int | None = None  # the guest's wait past the free time, at boarding
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    assigned_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Each live step, as reported.
    en_route_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    on_site_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    on_board_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    no_show_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


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
    reservation_id: str | None = Field(description="None: an ad-hoc transfer without a booking")
    confirmation_number: str | None
    kind: TransferKind
    status: TransferStatus
    guest: TransferGuest
    flight_number: str | None = Field(description="Flight or train number")
    transport: Transport | None
    flight_time: datetime | None = Field(
        description="The flight's or train's scheduled time (landing or take-off), UTC"
    )
    pickup_place: str
    destination: str = Field(description="Where the ride ends (an arrival's: the property)")
    pickup_time: datetime = Field(description="Agreed meeting time, UTC")
    driver_on_site_at: datetime = Field(
        description="When the driver is at the pickup point: pickup_time minus the lead, UTC"
    )
    ends_at: datetime = Field(description="Expected arrival at the destination, UTC")
    pickup_date: date = Field(description="pickup_time's date in the property's time zone")
    property_timezone: str = Field(description="IANA time zone, e.g. Asia/Shanghai")
    passengers: int = Field(description="Number of people")
    luggage: int = Field(description="Number of suitcases")
    child_seats: int
    wheelchair: bool
    language: str | None = Field(description="A language the driver must speak, BCP-47")
    sign_name: str | None = Field(description="Name on the meet-and-greet sign")
    notes: str | None
    share_ok: bool = Field(description="The guest agreed to share a vehicle on their flight")
    ride_id: str | None = Field(description="Jobs sharing one vehicle have the same ride id")
    source: str = Field(description="booking, staff or guest_app")
    vehicle: VehicleSummary | None
    driver: DriverSummary | None
    uncovered_reason: str | None = Field(description="Why a requested job has no crew yet")
    flags: list[str] = Field(description="What dispatch should look at")
    cancel_reason: str | None
    fare_amount: int | None = Field(description="Minor units of fare_currency")
    fare_currency: str | None
    fare_included: bool = Field(description="The booking's rate plan includes the transfer")
    en_route_at: datetime | None
    on_site_at: datetime | None
    on_board_at: datetime | None
    completed_at: datetime | None
    no_show_at: datetime | None
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
