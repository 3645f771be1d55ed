"""Guest profiles and the stays linked to them, beside their API schemas.

Emails and phones are stored normalised (see `contacts`), and each is unique across profiles:
that uniqueness is what lets concurrent bookings of one new guest end up on one profile.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from hotel_common.contacts import LANGUAGE_TAG_MAX_LENGTH, PHONE_MAX_LENGTH, LanguageTag
from hotel_common.contacts import Email as EmailAddress
from hotel_common.contacts import Phone as PhoneNumber
from hotel_common.text import SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from pydantic import StringConstraints, model_validator
from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

NAME_MAX_LENGTH = 200


class Source(StrEnum):
    BOOKING = "booking"
    FRONT_DESK = "front_desk"


class StayStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    CHECKED_OUT = "checked_out"  # the stay is over: its nights and spending are recorded


def _new_id() -> str:
    return str(uuid.uuid4())


# Input types: validated, then normalised the way matching compares them. SINGLE_LINE (last, so
# it runs first) refuses control characters and trims (hotel_common.text).
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH),
    SINGLE_LINE,
]
Email = Annotated[EmailAddress, SINGLE_LINE]  # hotel_common.contacts: one rule everywhere
Phone = Annotated[PhoneNumber, SINGLE_LINE]


# -- guests -----------------------------------------------------------------------------------
class GuestBase(SQLModel):
    name: str = Field(max_length=NAME_MAX_LENGTH)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=PHONE_MAX_LENGTH)
    # None until the guest or a booking tells us; a booking fills it, never overwrites it.
    language: str | None = Field(default=None, sa_type=String(LANGUAGE_TAG_MAX_LENGTH))


class GuestCreate(GuestBase):
    """What the front desk sends; at least one contact, or the profile could never be matched."""

    model_config = SQLModelConfig(extra="forbid")

    name: Name
    email: Email | None = None
    phone: Phone | None = None
    language: LanguageTag | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.email is None and self.phone is None:
            raise ValueError("give an email or a phone")
        return self


class GuestUpdate(SQLModel):
    """Changes a guest may make; the email is the profile's key and is not changed here."""

    model_config = SQLModelConfig(extra="forbid")

    name: Name | None = None
    phone: Phone | None = None  # null removes the phone
    language: LanguageTag | None = None

    @model_validator(mode="after")
    def _no_null_name_or_language(self) -> Self:
        for field in ("name", "language"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class Guest(GuestBase, table=True):
    __tablename__ = "guests"
    __table_args__ = (
        Index("ix_guests_email", "email", unique=True),
        Index("ix_guests_phone", "phone", unique=True),
        Index("ix_guests_created_at_id", "created_at", "id"),  # list order and cursor
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    source: Source = Field(sa_type=String(20))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GuestPublic(GuestBase):
    id: str
    source: Source
    created_at: datetime
    updated_at: datetime


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
