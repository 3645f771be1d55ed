"""Events published by transfer-service."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from hotel_common.contracts.reservations import RESERVATION, GuestContact, absent
from hotel_common.events.envelope import IntegrationEvent


class TransferAssigned(IntegrationEvent):
    """A pickup belongs to its reservation: carries the version of the confirmation it serves."""

    event_type: ClassVar[str] = "transfer.assigned"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    transfer_id: str
    reservation_id: str | None  # None: an ad-hoc job without a booking (issue 18)
    confirmation_number: str | None
    guest: GuestContact
    pickup_place: str
    destination: str
    pickup_time: datetime  # the agreed meeting time (UTC)
    driver_on_site_at: datetime  # 30 min earlier (docs/domain.md, A pickup job)
    flight_number: str | None = None
    driver_name: str
    driver_phone: str
    vehicle_plate: str
    vehicle_description: str
    property_timezone: str


class TransferCancelled(IntegrationEvent):
    event_type: ClassVar[str] = "transfer.cancelled"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    transfer_id: str
    reservation_id: str
    reason: str
    # Issue 20: what the guest's notice names (None from a publisher before issue 20).
    confirmation_number: str | None = Field(default=None, exclude_if=absent)
    guest: GuestContact | None = Field(default=None, exclude_if=absent)
    pickup_time: datetime | None = Field(default=None, exclude_if=absent)
    pickup_place: str | None = Field(default=None, exclude_if=absent)
    property_timezone: str | None = Field(default=None, exclude_if=absent)
    # Issue 20: who called the ride off. "booking": an event of the booking (cancelled, no-show,
    # expired, a change that drops the pickup), whose own notice tells the guest; "dispatch":
    # only the ride (the guest asked the desk, or operations), told as transfer_cancelled.
    cause: Literal["booking", "dispatch"] | None = Field(default=None, exclude_if=absent)


# -- issue 18: the live day. A job is its own aggregate: these events carry the job's version
# (TransferJob.version), so a consumer tells a stale one from a newer one per job. Ad-hoc jobs
# have no reservation (reservation_id None).
TRANSFER = ("transfer", "transfer_id")


class TransferStatusChanged(IntegrationEvent):
    """A live step reported by the driver or dispatch (en_route, driver_on_site, in_progress,
    completed, no_show), or dispatch's cancel/unassign: the job's new status and when."""

    event_type: ClassVar[str] = "transfer.status_changed"
    aggregate: ClassVar[tuple[str, str] | None] = TRANSFER

    transfer_id: str
    reservation_id: str | None
    status: str
    previous_status: str
    at: datetime
    guest: GuestContact
    property_timezone: str
    # Set on completion: the receipt (minor units; 0 when the rate plan includes the ride).
    receipt_number: str | None = None
    fare_amount: int | None = None
    fare_currency: str | None = None
    # Issue 20, set on "driver_on_site" only: where the driver waits and who they are, for the
    # guest's notice (left out of the other steps' payloads).
    confirmation_number: str | None = Field(default=None, exclude_if=absent)
    pickup_place: str | None = Field(default=None, exclude_if=absent)
    driver_name: str | None = Field(default=None, exclude_if=absent)
    driver_phone: str | None = Field(default=None, exclude_if=absent)
    vehicle_plate: str | None = Field(default=None, exclude_if=absent)
    vehicle_description: str | None = Field(default=None, exclude_if=absent)


class TransferRescheduled(IntegrationEvent):
    """The pickup time moved (a flight delay or change, the booking moved): the guest is told
    the new time, and the crew if it changed with it."""

    event_type: ClassVar[str] = "transfer.rescheduled"
    aggregate: ClassVar[tuple[str, str] | None] = TRANSFER

    transfer_id: str
    reservation_id: str | None
    confirmation_number: str | None
    guest: GuestContact
    reason: str  # flight_delayed, flight_changed, booking_changed, ...
    flight_number: str | None
    previous_pickup_time: datetime
    pickup_time: datetime
    driver_on_site_at: datetime
    pickup_place: str
    destination: str
    property_timezone: str
    # The crew now (None: not covered yet, dispatch is on it).
    driver_name: str | None = None
    driver_phone: str | None = None
    vehicle_plate: str | None = None
    vehicle_description: str | None = None


class TransferReassigned(IntegrationEvent):
    """Another car or driver will come (a breakdown, a driver unavailable, dispatch's swap):
    the guest is told who, before the pickup."""

    event_type: ClassVar[str] = "transfer.reassigned"
    aggregate: ClassVar[tuple[str, str] | None] = TRANSFER

    transfer_id: str
    reservation_id: str | None
    confirmation_number: str | None
    guest: GuestContact
    reason: str  # vehicle_breakdown, driver_unavailable, dispatcher, ...
    pickup_time: datetime
    driver_on_site_at: datetime
    pickup_place: str
    destination: str
    flight_number: str | None
    property_timezone: str
    driver_name: str
    driver_phone: str
    vehicle_plate: str
    vehicle_description: str
