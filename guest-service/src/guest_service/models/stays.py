"""Stays: a confirmed booking linked to its guest, kept in step with the reservation."""

from datetime import date, datetime
from enum import StrEnum

from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from guest_service.models.profiles import GuestPublic, _new_id


class StayStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    CHECKED_OUT = "checked_out"  # the stay is over: its nights and spending are recorded
    NO_SHOW = "no_show"  # the guest never came (reservation.no_show)


# -- stays ------------------------------------------------------------------------------------
class GuestStayBase(SQLModel):
    reservation_id: str = Field(max_length=64)
    confirmation_number: str = Field(max_length=64)
    property_name: str = Field(max_length=200)
    room_type_code: str = Field(max_length=32)
    check_in: date
    check_out: date
    status: StayStatus = Field(default=StayStatus.CONFIRMED, sa_type=String(16))
    total_amount: int = Field(
        description="Price of the stay: an integer in minor units (e.g. cents) of `currency`"
    )
    currency: str = Field(max_length=3, description="ISO 4217")
    nights: int | None = Field(
        default=None, description="Nights actually stayed; null until the guest checks out"
    )
    amount_spent: int | None = Field(
        default=None,
        description="Every charge of the stay's settled bill, in minor units of `currency`; "
        "null until the guest checks out",
    )


class GuestStay(GuestStayBase, table=True):
    __tablename__ = "guest_stays"
    # One stay per reservation: a redelivered or racing booking event cannot link it twice.
    __table_args__ = (Index("ix_guest_stays_reservation_id", "reservation_id", unique=True),)

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    guest_id: str = Field(foreign_key="guests.id", index=True, max_length=36)
    # The reservation's version the stay reflects (None: linked before versions were kept);
    # an event of an older version is stale and leaves the stay as it is.
    reservation_version: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GuestStayPublic(GuestStayBase):
    id: str
    guest_id: str
    created_at: datetime
    updated_at: datetime


class GuestDetail(GuestPublic):
    stays: list[GuestStayPublic]
