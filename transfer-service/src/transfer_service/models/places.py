"""Places transfers start and end at (airports, stations, the properties) and the travel time
between them, a table dispatch edits instead of one fixed trip length."""

import re
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from hotel_common.text import Text
from hotel_common.time import UtcDateTime, utcnow
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from transfer_service.models.common import STRICT, squeeze

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
MAX_ALIASES = 20
MAX_TRAVEL_MINUTES = 12 * 60


class PlaceKind(StrEnum):
    AIRPORT = "airport"
    STATION = "station"
    PROPERTY = "property"
    OTHER = "other"


class Place(SQLModel, table=True):
    """A place is found from an event's free text by its code, its name or one of its aliases
    (case and spacing ignored): "PVG", "Shanghai Pudong International Airport T2"."""

    __tablename__ = "places"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)  # upper case, e.g. PVG, SHHQ, BUND
    name: str = Field(max_length=200)
    kind: str = Field(sa_type=sa.String(20))  # PlaceKind
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class TravelTime(SQLModel, table=True):
    """Driving minutes from one place to another. A missing direction uses the other one."""

    __tablename__ = "travel_times"
    __table_args__ = (sa.UniqueConstraint("from_place_id", "to_place_id"),)

    id: int | None = Field(default=None, primary_key=True)
    from_place_id: int = Field(foreign_key="places.id")
    to_place_id: int = Field(foreign_key="places.id")
    minutes: int
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# --- request and answer schemas ---------------------------------------------------------------


def _code(value: object) -> object:
    value = squeeze(value)
    if isinstance(value, str):
        value = value.upper()
        if not CODE_PATTERN.fullmatch(value):
            raise ValueError("a code is 1-20 letters, digits, '-' or '_', starting alphanumeric")
    return value


def _aliases(value: object) -> object:
    if not isinstance(value, list):
        return value
    aliases = [" ".join(a.split()) if isinstance(a, str) else a for a in value]
    seen: dict[str, object] = {}
    for alias in aliases:  # one spelling per alias, ignoring case and spacing
        seen.setdefault(alias.casefold() if isinstance(alias, str) else str(alias), alias)
    return list(seen.values())


class _PlaceInput(SQLModel):
    """What a place given by a manager is checked and tidied by (creating or changing it)."""

    model_config = STRICT

    @field_validator("code", mode="before", check_fields=False)
    @classmethod
    def _code(cls, value: object) -> object:
        return _code(value)

    @field_validator("name", mode="before", check_fields=False)
    @classmethod
    def _name(cls, value: object) -> object:
        return squeeze(value)

    @field_validator("aliases", mode="before", check_fields=False)
    @classmethod
    def _aliases(cls, value: object) -> object:
        return _aliases(value)

    @field_validator("aliases", check_fields=False)
    @classmethod
    def _alias_lengths(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not 1 <= len(a) <= 200 for a in value):
            raise ValueError("an alias is 1-200 characters")
        return value


class PlaceCreate(_PlaceInput):
    code: Text = Field(
        min_length=1, max_length=20, description="Unique, stored upper case, e.g. PVG"
    )
    name: Text = Field(min_length=1, max_length=200)
    kind: PlaceKind
    aliases: list[Text] = Field(
        default_factory=list,
        max_length=MAX_ALIASES,
        description="Other spellings events use (case and spacing ignored), each 1-200 "
        "characters; repeats are dropped",
    )


class PlaceUpdate(_PlaceInput):
    """Fields given replace the place's (null or absent: unchanged); `aliases` replaces the
    whole list."""

    code: Text | None = Field(default=None, min_length=1, max_length=20)
    name: Text | None = Field(default=None, min_length=1, max_length=200)
    kind: PlaceKind | None = None
    aliases: list[Text] | None = Field(default=None, max_length=MAX_ALIASES)


class PlacePublic(SQLModel):
    id: int
    code: str
    name: str
    kind: PlaceKind
    aliases: list[str]
    created_at: datetime
    updated_at: datetime


class TravelTimeSet(SQLModel):
    model_config = STRICT
    minutes: int = Field(ge=1, le=MAX_TRAVEL_MINUTES, description="Driving minutes, one way")


class TravelTimePublic(SQLModel):
    from_place_id: int
    from_code: str
    to_place_id: int
    to_code: str
    minutes: int = Field(description="Driving minutes from the first place to the second")
    updated_at: datetime
