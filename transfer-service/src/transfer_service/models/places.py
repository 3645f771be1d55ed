"""Places transfers start and end at (airports, stations, the properties) and the travel time
between them, a table dispatch edits instead of one fixed trip length."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from hotel_common.time import UtcDateTime, utcnow
from sqlmodel import Field, SQLModel


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
