"""Fares by vehicle class and place pair, and the receipt of each completed job."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from hotel_common.time import UtcDateTime, utcnow
from sqlmodel import Field, SQLModel


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
    # [{"code": "base"|"night_surcharge"|"waiting"|"included", "amount": int, "note": str}]
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
