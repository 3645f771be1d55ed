"""Guest profiles and their contacts, beside their API schemas.

Personal data (emails, phones, birth date, address, ID number) is stored sealed (crypto.py) and
found through keyed hashes. An email belongs to one profile at most (`GuestContact.unique_key`):
that uniqueness lets concurrent bookings of one new guest end up on one profile. A phone may be
shared (an OTA's call-centre number on every booking it sends), so it never decides alone.
"""

import re
import uuid
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Self

from hotel_common.contacts import (
    LANGUAGE_TAG_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    ContactError,
    LanguageTag,
    normalise_email,
    normalise_phone,
)
from hotel_common.contacts import Email as EmailAddress
from hotel_common.contacts import Phone as PhoneNumber
from hotel_common.text import MULTI_LINE, SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from pydantic import AfterValidator, StringConstraints, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column, Index, String, Text
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from guest_service.countries import COUNTRY_CODES
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

VIP_LEVEL_MAX = 5  # 0 none, 1-5 rising attention (docs/DECISIONS.md, issue 19: profiles)
TAGS_MAX = 30
TAG_MAX_LENGTH = 40
DIETARY_MAX = 10
NOTES_MAX_LENGTH = 4000
ADDRESS_MAX_LENGTH = 500
COMPANY_MAX_LENGTH = 200
_DOCUMENT_NUMBER = re.compile(r"[A-Z0-9]{4,30}")
_DOCUMENT_SEPARATORS = re.compile(r"[\s\-./]")


def _problem(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _nationality(value: str) -> str:
    code = value.upper()
    if code not in COUNTRY_CODES:
        raise _problem("country_code", "a nationality is an ISO 3166-1 alpha-2 code, e.g. CN")
    return code


def _birth_date(value: date) -> date:
    # The latest "today" anywhere on earth (UTC+14): a date after it is not a birth yet.
    if value > (utcnow() + timedelta(hours=14)).date():
        raise _problem("birth_date_in_future", "a birth date cannot be in the future")
    if value < date(1900, 1, 1):
        raise _problem("birth_date_too_early", "a birth date is 1900-01-01 or later")
    return value


def normalise_document_number(value: str) -> str:
    """A document number as it is sealed and hashed: upper case, separators removed."""
    number = _DOCUMENT_SEPARATORS.sub("", value).upper()
    if not _DOCUMENT_NUMBER.fullmatch(number):
        raise _problem(
            "document_number",
            "a document number is 4-30 letters and digits (spaces, dashes, dots ignored)",
        )
    return number


def _document_expiry(value: date) -> date:
    # A document is recorded when the guest shows it; one already expired proves nothing.
    if value < utcnow().date():
        raise _problem("document_expired", "the document has expired")
    return value


def _tag(value: str) -> str:
    return value.lower()


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


Nationality = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2),
    AfterValidator(_nationality),
    SINGLE_LINE,
]
BirthDate = Annotated[date, AfterValidator(_birth_date)]
DocumentNumber = Annotated[
    str,
    StringConstraints(max_length=60),
    AfterValidator(normalise_document_number),
    SINGLE_LINE,
]
DocumentExpiry = Annotated[date, AfterValidator(_document_expiry)]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TAG_MAX_LENGTH),
    AfterValidator(_tag),
    SINGLE_LINE,
]
Tags = Annotated[list[Tag], Field(max_length=TAGS_MAX), AfterValidator(_unique)]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE
]
Address = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=ADDRESS_MAX_LENGTH),
    MULTI_LINE,
]
Notes = Annotated[str, StringConstraints(max_length=NOTES_MAX_LENGTH), MULTI_LINE]
VipLevel = Annotated[int, Field(ge=0, le=VIP_LEVEL_MAX)]


class Floor(StrEnum):
    LOW = "low"
    MIDDLE = "middle"
    HIGH = "high"


class Pillow(StrEnum):
    SOFT = "soft"
    MEDIUM = "medium"
    FIRM = "firm"
    FEATHER_FREE = "feather_free"
    BUCKWHEAT = "buckwheat"
    MEMORY_FOAM = "memory_foam"


class Dietary(StrEnum):
    VEGETARIAN = "vegetarian"
    VEGAN = "vegan"
    HALAL = "halal"
    KOSHER = "kosher"
    GLUTEN_FREE = "gluten_free"
    LACTOSE_FREE = "lactose_free"
    NUT_ALLERGY = "nut_allergy"
    SEAFOOD_ALLERGY = "seafood_allergy"
    NO_PORK = "no_pork"
    NO_BEEF = "no_beef"


class TransferVehicle(StrEnum):
    """transfer-service's vehicle classes: a pickup can ask for exactly these."""

    SEDAN = "sedan"
    BUSINESS = "business"
    VAN = "van"
    MINIBUS = "minibus"


class Preferences(SQLModel):
    """What the guest likes, for the next stay and the next pickup; every key optional."""

    model_config = SQLModelConfig(extra="forbid")

    room: ShortText | None = Field(
        default=None, description='In the guest\'s words, e.g. "quiet, away from the lift"'
    )
    floor: Floor | None = None
    pillow: Pillow | None = None
    dietary: Annotated[list[Dietary], Field(max_length=DIETARY_MAX), AfterValidator(_unique)] = (
        Field(default_factory=list)
    )
    transfer_vehicle: TransferVehicle | None = None


def preferences_json(preferences: Preferences) -> dict[str, Any]:
    """As stored: only what the guest said."""
    return preferences.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


# -- guests -----------------------------------------------------------------------------------
class GuestBase(SQLModel):
    name: str = Field(max_length=NAME_MAX_LENGTH)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=PHONE_MAX_LENGTH)
    # None until the guest or a booking tells us; a booking fills it, never overwrites it.
    language: str | None = Field(default=None, sa_type=String(LANGUAGE_TAG_MAX_LENGTH))


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


# -- API schemas --------------------------------------------------------------------------------
_NULL_NOT_ALLOWED = ("name", "language", "vip_level", "tags", "preferences")
_DOCUMENT = ("document_type", "document_number", "document_expiry")


class GuestFields(SQLModel):
    """The profile's own fields, as a request may set them (create, change)."""

    model_config = SQLModelConfig(extra="forbid")

    native_name: Name | None = Field(default=None, description='In native script, e.g. "王芳"')
    latin_name: Name | None = Field(default=None, description='In Latin letters, "WANG FANG"')
    gender: Gender | None = None
    birth_date: BirthDate | None = Field(default=None, description="Not in the future")
    nationality: Nationality | None = Field(default=None, description="ISO 3166-1 alpha-2")
    address: Address | None = None
    company: ShortText | None = None
    document_type: DocumentType | None = None
    document_number: DocumentNumber | None = Field(
        default=None, description="Sealed at rest; shown in full only by GET .../document"
    )
    document_expiry: DocumentExpiry | None = Field(default=None, description="Not passed")
    vip_level: VipLevel = 0
    tags: Tags = Field(default_factory=list, description="Lower-cased, each at most once")
    preferences: Preferences = Field(default_factory=Preferences)
    notes: Notes | None = None
    referrer_id: Annotated[str, StringConstraints(max_length=36), SINGLE_LINE] | None = Field(
        default=None, description="The profile of the guest who referred this one"
    )


class GuestCreate(GuestFields):
    """What the front desk sends; at least one contact, or the profile could never be matched."""

    name: Name
    email: Email | None = None
    phone: Phone | None = None
    language: LanguageTag | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.email is None and self.phone is None:
            raise ValueError("give an email or a phone")
        # A number means nothing without its type (the hash that finds it is "<type>:<number>").
        if self.document_number is not None and self.document_type is None:
            raise ValueError("a document number needs its document_type")
        return self


class GuestUpdate(GuestFields):
    """Changes staff make: only the fields sent; null clears an optional one. Emails and further
    phones are the contacts sub-resource's; `phone` replaces the primary phone (null removes
    it)."""

    name: Name | None = None
    phone: Phone | None = None
    language: LanguageTag | None = None
    vip_level: VipLevel | None = None  # type: ignore[assignment]
    tags: Tags | None = None  # type: ignore[assignment]
    preferences: Preferences | None = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _no_null_where_required(self) -> Self:
        for field in _NULL_NOT_ALLOWED:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class GuestSelfUpdate(SQLModel):
    """What a signed-in guest may change of their own profile (`PATCH /guests/me`): how they are
    named and reached in person, and what they like. Contacts (they sign in with them), the ID
    document (seen at the desk), VIP level, tags, notes and referrer are the hotel's."""

    model_config = SQLModelConfig(extra="forbid")

    name: Name | None = None
    native_name: Name | None = None
    latin_name: Name | None = None
    gender: Gender | None = None
    birth_date: BirthDate | None = None
    nationality: Nationality | None = None
    language: LanguageTag | None = None
    address: Address | None = None
    company: ShortText | None = None
    preferences: Preferences | None = None

    @model_validator(mode="after")
    def _no_null_where_required(self) -> Self:
        for field in ("name", "language", "preferences"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class ContactCreate(SQLModel):
    """One more email or phone for a profile."""

    model_config = SQLModelConfig(extra="forbid")

    kind: ContactKind
    value: Annotated[str, StringConstraints(max_length=254), SINGLE_LINE]
    primary: bool = Field(default=False, description="Shown as the profile's email / phone")

    @model_validator(mode="after")
    def _normalised(self) -> Self:
        try:
            if self.kind is ContactKind.EMAIL:
                self.value = normalise_email(self.value)
            else:
                self.value = normalise_phone(self.value)
        except ContactError as error:
            raise ValueError(str(error)) from None
        return self


class ContactUpdate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    is_primary: bool = Field(description="true: this one becomes the primary of its kind")


class ContactPublic(SQLModel):
    id: str
    kind: ContactKind
    value: str | None
    is_primary: bool
    source: str
    created_at: datetime


class GuestPublic(GuestBase):
    """A profile as the API shows it: `email` / `phone` are the primary ones, `contacts` all of
    them. `document_number` is always masked here; `birth_date`, `address` and contacts are
    masked or withheld for roles that do not need them (access.py)."""

    id: str
    native_name: str | None = None
    latin_name: str | None = None
    gender: Gender | None = None
    birth_date: date | None = None
    nationality: str | None = None
    address: str | None = None
    company: str | None = None
    contacts: list[ContactPublic] = Field(default_factory=list)
    document_type: DocumentType | None = None
    document_number: str | None = Field(default=None, description="Masked")
    document_expiry: date | None = None
    vip_level: int = 0
    tags: list[str] = Field(default_factory=list)
    preferences: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = None
    referrer_id: str | None = None
    source: Source
    status: GuestStatus = GuestStatus.ACTIVE
    merged_into_id: str | None = None
    version: int = 1
    created_at: datetime
    updated_at: datetime


class GuestDocument(SQLModel):
    """The full ID document (front desk and managers; every read is recorded)."""

    guest_id: str
    document_type: DocumentType | None
    document_number: str | None
    document_expiry: date | None
    read_id: str = Field(description="The audit record of this read (GET /guests/pii-reads)")
