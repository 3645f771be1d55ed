"""Guest profiles and their contacts, beside their API schemas.

Personal data (emails, phones, birth date, address, ID number) is stored sealed (crypto.py) and
found through keyed hashes. An email belongs to one profile at most (`GuestContact.unique_key`):
that uniqueness lets concurrent bookings of one new guest end up on one profile. A phone may be
shared (an OTA's call-centre number on every booking it sends), so it never decides alone.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from hotel_common.contacts import LANGUAGE_TAG_MAX_LENGTH, PHONE_MAX_LENGTH, LanguageTag
from hotel_common.contacts import Email as EmailAddress
from hotel_common.contacts import Phone as PhoneNumber
from hotel_common.text import SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from pydantic import StringConstraints, model_validator
from sqlalchemy import JSON, Column, Index, String, Text
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from guest_service.crypto import Encrypted, EncryptedDate

NAME_MAX_LENGTH = 200


class Source(StrEnum):
    BOOKING = "booking"
    FRONT_DESK = "front_desk"


class GuestStatus(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"  # lives on in `merged_into_id` (undo brings it back)
    ERASED = "erased"  # anonymised on the guest's request: amounts stay, the person is gone


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class DocumentType(StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    DRIVING_LICENCE = "driving_licence"
    RESIDENCE_PERMIT = "residence_permit"
    OTHER = "other"


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


class Guest(SQLModel, table=True):
    __tablename__ = "guests"
    __table_args__ = (
        Index("ix_guests_created_at_id", "created_at", "id"),  # list order and cursor
        Index("ix_guests_document_hash", "document_hash"),
        Index("ix_guests_identity_hash", "identity_hash"),
        Index("ix_guests_status", "status"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=NAME_MAX_LENGTH)  # as the guest writes it, e.g. "王芳 (Wang Fang)"
    native_name: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)  # "王芳"
    latin_name: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)  # "WANG FANG"
    gender: Gender | None = Field(default=None, sa_type=String(16))
    birth_date: date | None = Field(default=None, sa_type=EncryptedDate)
    nationality: str | None = Field(default=None, max_length=2)  # ISO 3166-1 alpha-2
    # None until the guest or a booking tells us; a booking fills it, never overwrites it.
    language: str | None = Field(default=None, sa_type=String(LANGUAGE_TAG_MAX_LENGTH))
    address: str | None = Field(default=None, sa_type=Encrypted)
    company: str | None = Field(default=None, max_length=200)
    document_type: DocumentType | None = Field(default=None, sa_type=String(20))
    document_number: str | None = Field(default=None, sa_type=Encrypted)
    document_expiry: date | None = None
    # Keyed hashes (crypto.lookup_hash) for matching: of the document ("document",
    # "<type>:<number>") and of the name with the birth date ("identity", "<name key>|<date>").
    document_hash: str | None = Field(default=None, max_length=64)
    identity_hash: str | None = Field(default=None, max_length=64)
    vip_level: int = Field(default=0, ge=0)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # room, floor, pillow, dietary, transfer_vehicle (models of the profile API say which).
    preferences: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    notes: str | None = Field(default=None, sa_type=Text)
    referrer_id: str | None = Field(default=None, foreign_key="guests.id", max_length=36)
    source: Source = Field(sa_type=String(20))
    status: GuestStatus = Field(default=GuestStatus.ACTIVE, sa_type=String(16))
    merged_into_id: str | None = Field(default=None, max_length=36)
    # Bumped by every change that is published (events of the GUEST aggregate carry it).
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class GuestContact(SQLModel, table=True):
    """One email or phone of a profile, sealed; `value_hash` finds it."""

    __tablename__ = "guest_contacts"
    __table_args__ = (
        # An email is one profile's; a phone may be several profiles' (unique_key NULL).
        Index("ix_guest_contacts_unique_key", "unique_key", unique=True),
        Index("ix_guest_contacts_lookup", "kind", "value_hash"),
        Index("ix_guest_contacts_guest", "guest_id", "kind"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    guest_id: str = Field(foreign_key="guests.id", max_length=36)
    kind: ContactKind = Field(sa_type=String(8))
    value: str = Field(sa_type=Encrypted)  # normalised: lower-case email, E.164 phone
    value_hash: str = Field(max_length=64)
    unique_key: str | None = Field(default=None, max_length=64)  # value_hash for an email
    is_primary: bool = False  # the one shown as the profile's `email` / `phone`
    source: str = Field(max_length=32)  # "booking", "front_desk", "guest", "merge"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GuestPublic(GuestBase):
    id: str
    source: Source
    created_at: datetime
    updated_at: datetime
