"""Fares by vehicle class and place pair, and the receipt of each completed job."""

__all__ = [
    "Fare",
    "FareCreate",
    "FarePublic",
    "FareUpdate",
    "Receipt",
    "ReceiptLine",
    "ReceiptPublic",
    "RideWaiver",
]

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from hotel_common.time import UtcDateTime, utcnow
from sqlmodel import Field, SQLModel

from transfer_service.models.common import STRICT
from transfer_service.models.fleet import VehicleClass


class Fare(SQLModel, table=True):
    """The base fare of one ride in a vehicle class between two places (either direction when
    only one is recorded), in minor units of `currency`."""

    __tablename__ = "fares"
    __table_args__ = (sa.UniqueConstraint("vehicle_class", "from_place_id", "to_place_id"),)

    id: int | None = Field(default=None, primary_key=True)
    vehicle_class: str = Field(sa_type=sa.String(20))
    from_place_id: int = Field(foreign_key="places.id")
    to_place_id: int = Field(foreign_key="places.id")
    amount: int
    currency: str = Field(max_length=3)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Receipt(SQLModel, table=True):
    """Issued once per completed job (the manual's invoice or receipt, ch. 6 (7))."""

    __tablename__ = "receipts"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=30, unique=True)  # e.g. TR-20300601-000042
    transfer_id: str = Field(max_length=36, unique=True)
    amount: int  # minor units; 0 when the rate plan includes the transfer
    currency: str = Field(max_length=3)
    # [{"code": "base"|"night_surcharge"|"waiting"|"included"|"waived", "amount": int,
    #   "note": str}]
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class RideWaiver(SQLModel, table=True):
    """A free ride granted for a complaint case (guest-service), once per case: the fare of
    `transfer_id` waived, or, while `transfer_id` is empty, a voucher for the next ride of
    `reservation_id` (taken by the first of its rides to be charged)."""

    __tablename__ = "ride_waivers"
    __table_args__ = (sa.Index("ix_ride_waivers_reservation", "reservation_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=36, unique=True)
    case_number: str = Field(max_length=30)
    reservation_id: str | None = Field(default=None, max_length=36)
    # The ride made free (one waiver per ride); None: a voucher not used yet.
    transfer_id: str | None = Field(default=None, max_length=36, unique=True)
    reason: str = Field(max_length=200)
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # on the receipt


# --- API schemas ------------------------------------------------------------------------------


class FareCreate(SQLModel):
    """A fare between two places for a vehicle class, in the service's currency (minor units).
    Recording B -> A beside A -> B prices the two directions differently."""

    model_config = STRICT

    vehicle_class: VehicleClass
    from_place_id: int = Field(ge=1, le=2**31 - 1)
    to_place_id: int = Field(ge=1, le=2**31 - 1)
    amount: int = Field(ge=0, le=100_000_000, description="Minor units, e.g. 35000 = 350.00")


class FareUpdate(SQLModel):
    model_config = STRICT

    amount: int = Field(ge=0, le=100_000_000, description="Minor units")


class FarePublic(SQLModel):
    id: int
    vehicle_class: VehicleClass
    from_place_id: int
    to_place_id: int
    amount: int
    currency: str
    updated_at: datetime


class ReceiptLine(SQLModel):
    code: str = Field(description="base, night_surcharge, waiting, included or waived")
    amount: int = Field(description="Minor units; the included or waived line cancels the others")
    note: str


class ReceiptPublic(SQLModel):
    number: str = Field(description="Unique, e.g. TR-20300601-000042")
    transfer_id: str
    amount: int = Field(description="Minor units of currency: the sum of the lines")
    currency: str
    lines: list[ReceiptLine]
    issued_at: datetime
