"""The guest's word on being contacted: consents per channel and purpose (a history, the latest
word wins) and contact preferences (channels in order, language, quiet hours); and the record
of each export and erasure the guest's rights led to. Beside their API schemas."""

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotel_common.contacts import LANGUAGE_TAG_MAX_LENGTH, LanguageTag
from hotel_common.contracts.guests import Channel, Purpose
from hotel_common.strict import StrictModel
from hotel_common.time import UtcDateTime, utcnow
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from guest_service.models.profiles import _new_id

CHANNELS: tuple[Channel, ...] = ("email", "sms", "phone", "push")  # push: the mobile app
# Where staff heard the guest's word; a signed-in guest's own is "app" (set by the service).
StaffSource = Literal["front_desk", "phone", "email", "paper_form", "booking"]
GUEST_SOURCE = "app"
# A consent's time may be a little ahead of ours (the caller's clock), never more.
CLOCK_SKEW = timedelta(minutes=5)


class GuestConsent(SQLModel, table=True):
    """One thing the guest said about being reached on `channel` for `purpose`. Rows are never
    changed: the history is the proof; the latest `at` per (channel, purpose) is the guest's
    current word."""

    __tablename__ = "guest_consents"
    __table_args__ = (Index("ix_guest_consents_guest_at", "guest_id", "at", "id"),)

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    guest_id: str = Field(foreign_key="guests.id", max_length=36)
    channel: str = Field(sa_type=String(8))  # Channel
    purpose: str = Field(sa_type=String(16))  # Purpose
    granted: bool
    at: datetime = Field(sa_type=UtcDateTime)  # when the guest said so
    source: str = Field(max_length=32)  # where they said it (StaffSource, "app", "merge")
    recorded_by: str = Field(max_length=100)  # the principal id that recorded it
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GuestContactPreferences(SQLModel, table=True):
    """How the guest likes to be reached; one row per profile, absent until first set."""

    __tablename__ = "guest_contact_preferences"

    guest_id: str = Field(foreign_key="guests.id", primary_key=True, max_length=36)
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language: str | None = Field(default=None, sa_type=String(LANGUAGE_TAG_MAX_LENGTH))
    quiet_start: str | None = Field(default=None, max_length=5)  # "HH:MM"
    quiet_end: str | None = Field(default=None, max_length=5)
    quiet_timezone: str | None = Field(default=None, max_length=64)  # IANA
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GuestRightsRequest(SQLModel, table=True):
    """Each export or erasure carried out: who asked, when (no personal data: ids only)."""

    __tablename__ = "guest_rights_requests"
    __table_args__ = (Index("ix_guest_rights_requests_guest", "guest_id", "at"),)

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    guest_id: str = Field(foreign_key="guests.id", max_length=36)
    kind: str = Field(sa_type=String(16))  # export | erasure
    requested_by: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # What the erasure reached: profile ids (merged ones included) and the reservations.
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# -- API schemas ------------------------------------------------------------------------------
_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _wall_time(value: str) -> str:
    if not _HH_MM.fullmatch(value):
        raise ValueError("a wall time is HH:MM, 00:00 to 23:59")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone, e.g. Asia/Shanghai") from None
    return value


WallTime = Annotated[str, PydanticField(examples=["22:00"]), AfterValidator(_wall_time)]
TimeZone = Annotated[
    str, PydanticField(max_length=64, examples=["Asia/Shanghai"]), AfterValidator(_time_zone)
]


class QuietHoursIn(StrictModel):
    """No notice that can wait is sent from `start` to `end` (local time; past midnight when
    `start` is later than `end`)."""

    start: WallTime
    end: WallTime
    timezone: TimeZone

    @model_validator(mode="after")
    def _a_period(self) -> Self:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at different times")
        return self


class ContactPreferencesIn(StrictModel):
    """The whole of the guest's preferences (PUT replaces them)."""

    channels: list[Channel] = PydanticField(
        max_length=len(CHANNELS),
        description="Channels in the order the guest prefers; empty: no preference",
    )
    language: LanguageTag | None = PydanticField(
        default=None, description="BCP-47; null: the profile's language"
    )
    quiet_hours: QuietHoursIn | None = None

    @model_validator(mode="after")
    def _each_channel_once(self) -> Self:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("each channel at most once")
        return self


class QuietHoursPublic(BaseModel):
    start: str
    end: str
    timezone: str


class ConsentBase(BaseModel):
    channel: Channel
    purpose: Purpose
    granted: bool


class ConsentIn(ConsentBase, StrictModel):
    """What the guest said, as staff heard it."""

    source: StaffSource
    at: AwareDatetime | None = PydanticField(
        default=None, description="When the guest said so; default: now. Not in the future"
    )

    @model_validator(mode="after")
    def _not_ahead(self) -> Self:
        if self.at is not None and self.at > utcnow() + CLOCK_SKEW:
            raise ValueError("a consent's time is not in the future")
        return self


class MyConsentIn(ConsentBase, StrictModel):
    """What a signed-in guest says of themselves, now (source "app")."""


class ConsentPublic(ConsentBase):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime
    source: str
    recorded_by: str
    recorded_at: datetime


class ContactPreferencesPublic(BaseModel):
    guest_id: str
    channels: list[Channel]
    language: str | None
    quiet_hours: QuietHoursPublic | None
    consents: list[ConsentPublic] = PydanticField(
        description="The current word per channel and purpose (the latest); none recorded: "
        "service notices allowed, marketing not"
    )
    updated_at: datetime | None


class ErasureIn(StrictModel):
    confirm: bool = PydanticField(description="Must be true: an erasure cannot be undone")


class ErasurePublic(BaseModel):
    guest_id: str
    erased_at: datetime
    erased_by: str
    profiles: list[str] = PydanticField(description="Profile ids erased (merged ones included)")
    reservation_ids: list[str]


class GuestExport(BaseModel):
    guest_id: str
    exported_at: datetime
    parts: dict[str, Any] = PydanticField(
        description="What each part of the CRM holds of the guest, by part name"
    )
