"""Tables and API schemas of rate plans, their seasons and their per-night ARI rows.

A base plan prices a room type's nights (weekday and weekend amounts, seasons over date ranges,
and per-night amounts pushed by a channel manager, which win). A derived plan is a percentage off
its parent base plan of the same room type and follows its prices. Restrictions are per plan and
night; a derived plan is bound by its parent's restrictions and its own (the stricter wins).
"""

from datetime import date, datetime
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Literal, Self

from hotel_common.bounds import RowId
from hotel_common.contacts import Email
from hotel_common.strict import StrictModel
from hotel_common.text import SINGLE_LINE
from hotel_common.time import IsoDate, UtcDateTime, utcnow
from pydantic import BaseModel, StringConstraints, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import CheckConstraint, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from reservation_service.models import (
    MAX_NIGHTLY_AMOUNT,
    MINOR_UNITS,
    RequestedRatePlanCode,
    RequestedRoomTypeCode,
    RoomTypeCode,
)

BASE_CODE = "BASE"  # the room type's default plan; without a row, its base amount and defaults
MAX_STAY_RESTRICTION = 60  # the longest stay settings may allow (config.max_stay_nights)

RatePlanCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,16}$", to_upper=True),
    SINGLE_LINE,
    PydanticField(description="Rate plan code, 2-16 letters, digits, - or _, case-insensitive"),
]
Amount = Annotated[
    int,
    PydanticField(gt=0, le=MAX_NIGHTLY_AMOUNT, description=f"Price of a night: {MINOR_UNITS}"),
]
DiscountBp = Annotated[
    int,
    PydanticField(
        ge=1,
        le=9999,
        description="Derived plans: basis points off the parent's price (1000 = 10 %)",
    ),
]
PlanName = Annotated[str, StringConstraints(min_length=1, max_length=100), SINGLE_LINE]
WEEKEND = "Friday and Saturday nights"


class PlanKind(StrEnum):
    BASE = "base"
    DERIVED = "derived"


# -- tables ----------------------------------------------------------------------------------------


class RatePlan(SQLModel, table=True):
    __tablename__ = "rate_plans"
    __table_args__ = (
        UniqueConstraint("room_type_id", "code", name="uq_rate_plans_room_type_code"),
        CheckConstraint(
            "discount_bp >= 0 AND discount_bp < 10000", name="ck_rate_plans_discount_bp"
        ),
        CheckConstraint(
            "(kind = 'derived') = (parent_id IS NOT NULL)", name="ck_rate_plans_parent"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_type_id: int = Field(foreign_key="room_types.id", index=True)
    code: str = Field(max_length=16)
    name: str = Field(max_length=100)
    kind: str = Field(default=PlanKind.BASE, max_length=8)
    parent_id: int | None = Field(default=None, foreign_key="rate_plans.id", index=True)
    discount_bp: int = 0  # derived: basis points off the parent's price
    weekday_amount: int | None = None  # base: None follows the room type's base amount
    weekend_amount: int | None = None  # base: None is the weekday amount
    cancel_free_until_hours: int = 24
    cancel_fee: str = Field(default="first_night", max_length=16)
    cancel_fee_percent: int = 0
    guarantee_kind: str = Field(default="none", max_length=16)
    guarantee_deposit_percent: int = 0
    guarantee_due_hours: int = 24
    # Issue 18: airport/station transfers are part of the plan (the guest pays no fare).
    includes_transfers: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class RatePlanSeason(SQLModel, table=True):
    """A base plan's prices over a date range (nights `start` to before `end`); seasons of one
    plan never overlap."""

    __tablename__ = "rate_plan_seasons"
    __table_args__ = (CheckConstraint("end_date > start_date", name="ck_rate_plan_seasons_dates"),)

    id: int | None = Field(default=None, primary_key=True)
    rate_plan_id: int = Field(foreign_key="rate_plans.id", index=True)
    name: str = Field(max_length=100)
    start_date: date
    end_date: date
    weekday_amount: int
    weekend_amount: int | None = None


class RatePlanNight(SQLModel, table=True):
    """What a channel manager pushed for one plan and night: a price (base plans) and
    restrictions. A row with nothing set is deleted."""

    __tablename__ = "rate_plan_nights"

    rate_plan_id: int = Field(foreign_key="rate_plans.id", primary_key=True)
    night: date = Field(primary_key=True)
    amount: int | None = None
    min_stay: int | None = None
    max_stay: int | None = None
    closed_to_arrival: bool = False
    closed_to_departure: bool = False
    stop_sell: bool = False

    def is_empty(self) -> bool:
        return (
            self.amount is None
            and self.min_stay is None
            and self.max_stay is None
            and not (self.closed_to_arrival or self.closed_to_departure or self.stop_sell)
        )


# -- terms -----------------------------------------------------------------------------------------


class CancellationIn(StrictModel):
    free_until_hours: int = PydanticField(
        default=24,
        ge=0,
        le=24 * 365,
        description="Free until this many hours before arrival (check-in day at the property's "
        "check-in time); 0: free until arrival",
    )
    fee: Literal["first_night", "percent"] = PydanticField(
        default="first_night", description="After that: the first night, or `fee_percent`"
    )
    fee_percent: int = PydanticField(
        default=0, ge=0, le=100, description="Percent of the stay's room amount (fee `percent`)"
    )

    @model_validator(mode="after")
    def _percent_given(self) -> Self:
        if self.fee == "percent" and self.fee_percent == 0:
            raise ValueError("a percent fee needs fee_percent between 1 and 100")
        if self.fee == "first_night" and self.fee_percent:
            raise ValueError("fee_percent applies only to fee `percent`")
        return self


class GuaranteeIn(StrictModel):
    kind: Literal["none", "deposit", "prepayment"] = "none"
    deposit_percent: int = PydanticField(
        default=0, ge=0, le=100, description="Percent of the total (kind `deposit`)"
    )
    due_hours: int = PydanticField(
        default=24, ge=1, le=24 * 30, description="Due this many hours after confirmation"
    )

    @model_validator(mode="after")
    def _deposit_given(self) -> Self:
        if self.kind == "deposit" and not 1 <= self.deposit_percent <= 99:
            raise ValueError("a deposit is 1-99 percent of the total (100: kind prepayment)")
        if self.kind != "deposit" and self.deposit_percent:
            raise ValueError("deposit_percent applies only to kind `deposit`")
        return self


class SeasonCreate(StrictModel):
    name: PlanName
    start: IsoDate = PydanticField(description="First night of the season")
    end: IsoDate = PydanticField(description="Night after the season's last (exclusive)")
    weekday_amount: Amount
    weekend_amount: Amount | None = PydanticField(
        default=None,
        description=f"Price of {WEEKEND}: {MINOR_UNITS} of `currency`; default the weekday's",
    )

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days > 800:
            raise ValueError("a season covers at most 800 nights")
        return self


def _no_overlap(seasons: list[SeasonCreate] | None) -> None:
    ordered = sorted(seasons or [], key=lambda s: s.start)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"seasons {before.name!r} and {after.name!r} overlap")


class RatePlanCreate(StrictModel):
    property_id: RowId | None = PydanticField(
        default=None, description="Defaults to the only property"
    )
    room_type_code: RoomTypeCode
    code: RatePlanCode
    name: PlanName
    parent_code: RatePlanCode | None = PydanticField(
        default=None,
        description="Makes a derived plan: a percentage off this base plan of the same room "
        "type (BASE is created from the room type if it has no row yet)",
    )
    discount_bp: DiscountBp | None = None
    weekday_amount: Amount | None = PydanticField(
        default=None,
        description=f"Base plans: price of a weekday night, {MINOR_UNITS} of `currency`; "
        "default the room type's base amount",
    )
    weekend_amount: Amount | None = PydanticField(
        default=None,
        description=f"Base plans: price of {WEEKEND}, {MINOR_UNITS} of `currency`; default "
        "the weekday's",
    )
    seasons: list[SeasonCreate] = PydanticField(default_factory=list, max_length=50)
    cancellation: CancellationIn = PydanticField(default_factory=CancellationIn)
    guarantee: GuaranteeIn = PydanticField(default_factory=GuaranteeIn)
    includes_transfers: bool = PydanticField(
        default=False,
        description="Airport and station transfers are included: bookings on this plan ride free",
    )

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.parent_code is not None:
            if self.discount_bp is None:
                raise ValueError("a derived plan (parent_code) needs discount_bp")
            if self.weekday_amount or self.weekend_amount or self.seasons:
                raise ValueError("a derived plan's prices follow its parent: no amounts, seasons")
            if self.parent_code == self.code:
                raise ValueError("a plan is not its own parent")
        elif self.discount_bp is not None:
            raise ValueError("discount_bp needs parent_code (a derived plan)")
        _no_overlap(self.seasons)
        return self


class RatePlanUpdate(StrictModel):
    """Fields given replace the plan's; `seasons` replaces them all. Existing bookings keep the
    prices and terms they were made with."""

    name: PlanName | None = None
    discount_bp: DiscountBp | None = None
    weekday_amount: Amount | None = PydanticField(
        default=None,
        description=f"Base plans: price of a weekday night, {MINOR_UNITS} of `currency`",
    )
    weekend_amount: Amount | None = PydanticField(
        default=None, description=f"Base plans: price of {WEEKEND}, {MINOR_UNITS} of `currency`"
    )
    seasons: list[SeasonCreate] | None = PydanticField(default=None, max_length=50)
    cancellation: CancellationIn | None = None
    guarantee: GuaranteeIn | None = None
    includes_transfers: bool | None = PydanticField(
        default=None, description="Transfers included; existing bookings keep what they had"
    )

    @model_validator(mode="after")
    def _seasons(self) -> Self:
        _no_overlap(self.seasons)
        return self


class SeasonPublic(BaseModel):
    name: str
    start: date
    end: date
    weekday_amount: int = PydanticField(description=f"{MINOR_UNITS} of `currency`")
    weekend_amount: int | None = PydanticField(description=f"{MINOR_UNITS} of `currency`")
    currency: str = PydanticField(description="ISO 4217, the property's")


class CancellationOut(BaseModel):
    free_until_hours: int
    fee: Literal["first_night", "percent"]
    fee_percent: int


class GuaranteeOut(BaseModel):
    kind: Literal["none", "deposit", "prepayment"]
    deposit_percent: int
    due_hours: int


class RatePlanPublic(BaseModel):
    id: int | None = PydanticField(description="None: the room type's implicit BASE plan")
    property_id: int
    room_type_code: str
    code: str
    name: str
    kind: PlanKind
    parent_code: str | None
    discount_bp: int | None = PydanticField(description="Derived plans: basis points off")
    weekday_amount: int | None = PydanticField(
        description=f"Base plans: {MINOR_UNITS} of `currency`"
    )
    weekend_amount: int | None = PydanticField(
        description=f"Base plans, {WEEKEND}: {MINOR_UNITS} of `currency`"
    )
    currency: str = PydanticField(description="ISO 4217, the property's")
    seasons: list[SeasonPublic]
    cancellation: CancellationOut
    guarantee: GuaranteeOut
    includes_transfers: bool = PydanticField(description="Transfers are part of the plan")


# -- ARI -------------------------------------------------------------------------------------------

MAX_ARI_NIGHTS = 550  # one call covers at most this many nights (the booking horizon)
MAX_ARI_RANGES = 100
Weekday = Annotated[int, PydanticField(ge=1, le=7)]


class _Range(StrictModel):
    start: IsoDate = PydanticField(description="First night")
    end: IsoDate = PydanticField(description="Night after the last (exclusive)")
    weekdays: list[Weekday] | None = PydanticField(
        default=None,
        max_length=7,
        description="Only these nights of the week (ISO: 1 Monday .. 7 Sunday); default all",
    )

    @model_validator(mode="after")
    def _span(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days > MAX_ARI_NIGHTS:
            raise ValueError(f"a range covers at most {MAX_ARI_NIGHTS} nights")
        return self


class RateRange(_Range):
    amount: Amount | None = PydanticField(
        description=f"Price of each night: {MINOR_UNITS} of `currency`; null clears the pushed "
        "price (the plan's weekday, weekend and season prices apply again)"
    )


class RestrictionRange(_Range):
    """Fields left out keep their value; null clears min_stay or max_stay."""

    min_stay: int | None = PydanticField(
        default=None, ge=1, le=MAX_STAY_RESTRICTION, description="Arriving this night"
    )
    max_stay: int | None = PydanticField(
        default=None, ge=1, le=MAX_STAY_RESTRICTION, description="Arriving this night"
    )
    closed_to_arrival: bool | None = None
    closed_to_departure: bool | None = None
    stop_sell: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set - {"start", "end", "weekdays"}:
            raise ValueError("name at least one restriction to set")
        if self.min_stay and self.max_stay and self.min_stay > self.max_stay:
            raise ValueError("min_stay is above max_stay")
        return self


class RatesPush(StrictModel):
    ranges: list[RateRange] = PydanticField(min_length=1, max_length=MAX_ARI_RANGES)


class RestrictionsPush(StrictModel):
    ranges: list[RestrictionRange] = PydanticField(min_length=1, max_length=MAX_ARI_RANGES)


class PushResult(BaseModel):
    rate_plan_id: int
    rate_plan_code: str
    nights: int = PydanticField(description="Nights the ranges cover")
    changed: int = PydanticField(description="Nights whose stored values changed (0: a repeat)")


class AriNight(BaseModel):
    night: date
    amount: int = PydanticField(description="Price of the night (minor units of `currency`)")
    min_stay: int | None
    max_stay: int | None
    closed_to_arrival: bool
    closed_to_departure: bool
    stop_sell: bool


class AriPlan(BaseModel):
    rate_plan_id: int | None
    code: str
    kind: PlanKind
    nights: list[AriNight]


class AriRoomType(BaseModel):
    room_type_code: str
    free: list[int] = PydanticField(description="Rooms free each night, in night order")
    rate_plans: list[AriPlan]


class Ari(BaseModel):
    property_id: int
    start: date
    end: date
    currency: str = PydanticField(description="ISO 4217")
    room_types: list[AriRoomType]


# -- quotes ----------------------------------------------------------------------------------------

ChildAge = Annotated[int, PydanticField(ge=0, le=17)]


class QuoteRequest(StrictModel):
    property_id: RowId | None = PydanticField(
        default=None, description="Defaults to the only property"
    )
    room_type_code: RequestedRoomTypeCode
    rate_plan_code: RequestedRatePlanCode | None = PydanticField(
        default=None, description="Default: the room type's BASE plan"
    )
    check_in: IsoDate
    check_out: IsoDate
    adults: int | None = PydanticField(default=None, ge=1, le=20)
    children: list[ChildAge] = PydanticField(
        default_factory=list, max_length=10, description="Ages of the children (0-17)"
    )
    guests: int | None = PydanticField(
        default=None, ge=1, le=20, description="Party size, when adults are not given"
    )
    guest_email: Annotated[Email, SINGLE_LINE] | None = PydanticField(
        default=None,
        description="The guest's email: a loyalty member's is priced at the member rate "
        "(a signed-in guest's own address is used when none is given)",
    )

    @model_validator(mode="after")
    def _party(self) -> Self:
        if (
            self.adults is not None
            and self.guests is not None
            and self.guests != self.adults + len(self.children)
        ):
            raise ValueError("guests, when given with adults, is adults plus children")
        if self.adults is None and self.children and self.guests is None:
            raise ValueError("children travel with at least one adult: give adults")
        return self

    @property
    def party(self) -> int:
        if self.adults is not None:
            return self.adults + len(self.children)
        return self.guests or 1


class MemberDiscountLine(BaseModel):
    """The loyalty member rate taken off the room amount (BASE plan)."""

    tier: str = PydanticField(description="regular, silver, gold or diamond")
    percent: int = PydanticField(description="10 / 15 / 20 / 25")
    amount: int = PydanticField(description=f"Taken off the room amount: {MINOR_UNITS}")


class QuoteNight(BaseModel):
    night: date
    amount: int = PydanticField(description="Price of the night (minor units of `currency`)")


class Quote(BaseModel):
    property_id: int
    room_type_code: str
    rate_plan_id: int | None = PydanticField(description="None: the implicit BASE plan")
    rate_plan_code: str
    check_in: date
    check_out: date
    nights: int
    guests: int
    nightly: list[QuoteNight]
    room_amount: int = PydanticField(description=f"Sum of the nights: {MINOR_UNITS}")
    tax_rate_bp: int = PydanticField(description="The property's tax rate, basis points")
    tax_amount: int = PydanticField(description=f"Taxes on the room amount: {MINOR_UNITS}")
    total_amount: int = PydanticField(description=f"Room amount plus taxes: {MINOR_UNITS}")
    currency: str = PydanticField(description="ISO 4217")
    available: int = PydanticField(description="Rooms of the type free on every night now")
    policy: dict[str, object] = PydanticField(
        description="The cancellation policy and guarantee a booking would agree to"
    )
    free_cancellation_until: datetime = PydanticField(
        description="Cancelling before this instant is free; later the policy's fee applies"
    )
    guarantee_amount: int = PydanticField(
        description=f"Deposit or prepayment the guarantee asks for: {MINOR_UNITS}"
    )
    member_discount: MemberDiscountLine | None = PydanticField(
        default=None,
        description="The member rate's line when the guest is a loyalty member (the nights "
        "and amounts above are already discounted)",
    )
