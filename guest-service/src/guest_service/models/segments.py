"""A guest's value (RFM levels, value class) and the segments staff define, beside their API
schemas. How they are computed: value.py and segments.py; the rules: docs/domain.md."""

from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Self

from hotel_common.strict import StrictModel
from hotel_common.text import SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from pydantic import Field as PydanticField
from pydantic import StringConstraints, model_validator
from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from guest_service.models.profiles import Gender, _new_id


class ValueClass(StrEnum):
    KEY = "key"  # high spend and frequent, recently seen
    POTENTIAL = "potential"  # medium-high
    STABLE = "stable"  # medium-low, steady
    AT_RISK = "at_risk"  # not seen for long: likely to leave


class Level(IntEnum):
    """One RFM dimension's level (the manual's three): 3 best."""

    LOW = 1
    MID = 2
    HIGH = 3


class Tier(StrEnum):
    """The loyalty tier as segments see it (the loyalty part tells it: value.note_tier)."""

    REGULAR = "regular"
    SILVER = "silver"
    GOLD = "gold"
    DIAMOND = "diamond"
    NONE = "none"  # not a member (in rules only; stored as NULL)


class AgeBand(StrEnum):
    """The manual's bands; the age is the one reached this calendar year."""

    UNDER_18 = "under_18"
    FROM_18_TO_25 = "18_25"
    FROM_26_TO_40 = "26_40"
    OVER_40 = "over_40"


# -- value ------------------------------------------------------------------------------------
class GuestValue(SQLModel, table=True):
    """One active guest's RFM and value class, recomputed in SQL for the guest on each stay
    event and for everyone by the periodic refresh (recency ages with the calendar)."""

    __tablename__ = "guest_values"
    __table_args__ = (Index("ix_guest_values_value_class", "value_class"),)

    guest_id: str = Field(primary_key=True, foreign_key="guests.id", max_length=36)
    last_stay_on: date | None = None  # the last completed stay's departure
    stays: int = 0  # completed stays within the window
    nights: int = 0  # nights of those stays
    spend_cny: int = 0  # their settled spend, whole yuan
    lifetime_stays: int = 0
    lifetime_spend_cny: int = 0
    # NULL while the guest has no completed stay: no value to weigh yet.
    recency: int | None = None
    frequency: int | None = None
    monetary: int | None = None
    value_class: ValueClass | None = Field(default=None, sa_type=String(16))
    # Told by other parts, kept by the refresh: the loyalty tier (NULL: not a member), and the
    # profile's city and birth year (plain, for rules: the profile keeps them sealed).
    tier: str | None = Field(default=None, max_length=16)
    city: str | None = Field(default=None, max_length=100)
    birth_year: int | None = None
    refreshed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GuestValuePublic(SQLModel):
    last_stay_on: date | None
    stays: int
    nights: int
    spend_cny: int
    lifetime_stays: int
    lifetime_spend_cny: int
    recency: int | None
    frequency: int | None
    monetary: int | None
    value_class: ValueClass | None
    tier: str | None
    refreshed_at: datetime


# -- segments ---------------------------------------------------------------------------------
class Segment(SQLModel, table=True):
    __tablename__ = "segments"
    __table_args__ = (
        Index("ix_segments_name", "name", unique=True),
        Index("ix_segments_created_at_id", "created_at", "id"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    rule: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # a SegmentRule
    created_by: str = Field(max_length=100)  # the principal's id
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    refreshed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SegmentMember(SQLModel, table=True):
    __tablename__ = "segment_members"
    __table_args__ = (Index("ix_segment_members_guest_id", "guest_id"),)

    segment_id: str = Field(primary_key=True, foreign_key="segments.id", max_length=36)
    guest_id: str = Field(primary_key=True, foreign_key="guests.id", max_length=36)


# -- rules: every condition optional, those given AND-ed -----------------------------------------
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SINGLE_LINE
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), SINGLE_LINE]


def _distinct(values: list[Any] | None, what: str) -> None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError(f"{what}: each value once")


class Period(StrictModel):
    """When: this calendar year, the last N days, or between two dates (`until` excluded);
    nothing given: any time."""

    this_year: bool = False
    last_days: int | None = PydanticField(default=None, ge=1, le=3660)
    since: date | None = None
    until: date | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        ways = [self.this_year, self.last_days is not None, self.since or self.until]
        if sum(bool(w) for w in ways) > 1:
            raise ValueError("give this_year, last_days, or since/until: one of them")
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        return self

    def bounds(self, today: date) -> tuple[date | None, date | None]:
        """[since, until) of the period on `today`."""
        if self.this_year:
            return date(today.year, 1, 1), date(today.year + 1, 1, 1)
        if self.last_days is not None:
            return date.fromordinal(today.toordinal() - self.last_days), None
        return self.since, self.until


class Count(StrictModel):
    """Completed stays (checked out) in the period: at least `min`, at most `max`."""

    min: int | None = PydanticField(default=None, ge=0, le=100_000)
    max: int | None = PydanticField(default=None, ge=0, le=100_000)
    period: Period = Period()

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class Spend(Count):
    """Settled spend of completed stays in the period, whole yuan (CNY)."""

    min: int | None = PydanticField(default=None, ge=0, le=10**12)
    max: int | None = PydanticField(default=None, ge=0, le=10**12)


Levels = Annotated[list[Level], PydanticField(min_length=1, max_length=3)]


class SegmentRule(StrictModel):
    """Who belongs: every condition given must hold (AND); a list matches any of its values.
    Only active profiles are members."""

    cities: list[Label] | None = PydanticField(default=None, min_length=1, max_length=50)
    nationalities: list[Country] | None = PydanticField(default=None, min_length=1, max_length=50)
    companies: list[Label] | None = PydanticField(default=None, min_length=1, max_length=50)
    genders: list[Gender] | None = PydanticField(default=None, min_length=1, max_length=3)
    age_bands: list[AgeBand] | None = PydanticField(default=None, min_length=1, max_length=4)
    tags: list[Label] | None = PydanticField(
        default=None, min_length=1, max_length=20, description="the guest has every one"
    )
    channels: list[Label] | None = PydanticField(
        default=None,
        min_length=1,
        max_length=20,
        description="a completed stay booked through one of them (channel or source)",
    )
    stays: Count | None = None
    spend_cny: Spend | None = None
    tiers: list[Tier] | None = PydanticField(default=None, min_length=1, max_length=5)
    value_classes: list[ValueClass] | None = PydanticField(default=None, min_length=1, max_length=4)
    recency: Levels | None = None
    frequency: Levels | None = None
    monetary: Levels | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        given = self.model_dump(exclude_none=True)
        if not given:
            raise ValueError("a rule needs at least one condition")
        for name, value in given.items():
            if isinstance(value, list):
                _distinct(value, name)
        return self


SegmentName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SINGLE_LINE
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), SINGLE_LINE]


class SegmentCreate(StrictModel):
    name: SegmentName
    description: Description | None = None
    rule: SegmentRule


class SegmentUpdate(StrictModel):
    name: SegmentName | None = None
    description: Description | None = None
    rule: SegmentRule | None = None

    @model_validator(mode="after")
    def _no_null(self) -> Self:
        for field in ("name", "rule"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        return self


class SegmentPublic(SQLModel):
    id: str
    name: str
    description: str | None
    rule: dict[str, Any]
    members: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    refreshed_at: datetime


class SegmentMemberPublic(SQLModel):
    guest_id: str
    name: str
    value_class: ValueClass | None
    recency: int | None
    frequency: int | None
    monetary: int | None
    tier: str | None
    spend_cny: int | None
