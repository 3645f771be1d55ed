"""Loyalty: members, their points ledger and redemptions, beside their API schemas.

A member is one guest's membership (one per profile); the ledger holds every change of points
with its reason, and the balance is the sum of its counted lines (posted, redeemed, expired).
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from hotel_common.text import SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from pydantic import BaseModel, StringConstraints, model_validator
from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from guest_service.models.profiles import _new_id


class Tier(StrEnum):
    REGULAR = "regular"
    SILVER = "silver"
    GOLD = "gold"
    DIAMOND = "diamond"


# The manual's member discounts (manual 003 §7.2.1), in percent of the room rate.
DISCOUNT_PERCENT = {Tier.REGULAR: 10, Tier.SILVER: 15, Tier.GOLD: 20, Tier.DIAMOND: 25}
TIER_ORDER = (Tier.REGULAR, Tier.SILVER, Tier.GOLD, Tier.DIAMOND)


class MemberStatus(StrEnum):
    ACTIVE = "active"
    LAPSED = "lapsed"  # two years without a completed stay; a new qualifying stay re-enrols
    MERGED = "merged"  # the profile was merged into another member (undo restores it)
    ERASED = "erased"  # the person asked to be forgotten: the number and amounts stay


class PointsState(StrEnum):
    PENDING = "pending"  # a confirmed booking's points, until check-out
    POSTED = "posted"  # earned (check-out, referral, compensation, ...)
    EXPIRED = "expired"  # the yearly expiry's line (negative)
    REDEEMED = "redeemed"  # a redemption's line (negative)
    REVERSED = "reversed"  # a pending line whose booking was cancelled: counts nothing


# Lines the balance sums; pending lines are shown apart, reversed ones count nothing.
COUNTED = (PointsState.POSTED, PointsState.EXPIRED, PointsState.REDEEMED)


class Reason(StrEnum):
    STAY = "stay"  # reference: reservation id
    REFERRAL = "referral"  # reference: the referred guest's id
    BIRTHDAY = "birthday"  # reference: "<guest id>:<year>"
    COMPENSATION = "compensation"  # reference: the complaint's (caller's) reference
    REDEMPTION = "redemption"  # reference: redemption id
    EXPIRY = "expiry"  # reference: "<member id>:<cut-off date>"


class EnrolledBy(StrEnum):
    STAY = "stay"  # automatically, a stay's settled folio reached the minimum
    STAFF = "staff"
    GUEST = "guest"


# -- tables -----------------------------------------------------------------------------------
class LoyaltyMember(SQLModel, table=True):
    __tablename__ = "loyalty_members"
    __table_args__ = (
        Index("ix_loyalty_members_guest_id", "guest_id", unique=True),
        Index("ix_loyalty_members_member_number", "member_number", unique=True),
        Index("ix_loyalty_members_status", "status", "last_stay_at"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    guest_id: str = Field(foreign_key="guests.id", max_length=36)
    member_number: str = Field(max_length=16)  # "M" + 9 digits: what the guest quotes
    tier: Tier = Field(default=Tier.REGULAR, sa_type=String(16))
    status: MemberStatus = Field(default=MemberStatus.ACTIVE, sa_type=String(16))
    enrolled_by: EnrolledBy = Field(sa_type=String(16))
    enrolled_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    tier_since: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_stay_at: date | None = None  # the last completed stay's departure day
    lapsed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The yearly jobs' marks: each runs once per member and year.
    birthday_year: int | None = None
    reminded_for: date | None = None  # the expiry cut-off already announced
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LedgerLine(SQLModel, table=True):
    __tablename__ = "loyalty_ledger"
    __table_args__ = (
        # Every award is once per (reason, reference): a redelivered event posts nothing more.
        Index("ix_loyalty_ledger_reference", "reason", "reference", unique=True),
        Index("ix_loyalty_ledger_member", "member_id", "created_at", "id"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    member_id: str = Field(foreign_key="loyalty_members.id", max_length=36)
    reason: Reason = Field(sa_type=String(16))
    reference: str = Field(max_length=120)
    points: int  # positive earns, negative spends or expires
    state: PointsState = Field(sa_type=String(16))
    expires_on: date | None = None  # earned points: the yearly cut-off that clears them
    note: str | None = Field(default=None, max_length=200)  # no personal data: e.g. a reward
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class RedemptionKind(StrEnum):
    FOLIO_CREDIT = "folio_credit"
    REWARD = "reward"


class Redemption(SQLModel, table=True):
    __tablename__ = "loyalty_redemptions"
    __table_args__ = (Index("ix_loyalty_redemptions_member", "member_id", "created_at", "id"),)

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    member_id: str = Field(foreign_key="loyalty_members.id", max_length=36)
    kind: RedemptionKind = Field(sa_type=String(16))
    reward: str | None = Field(default=None, max_length=40)  # a catalogue code
    points: int  # spent (positive here; the ledger line is its negative)
    credit_amount: int | None = None  # folio credit, minor units of CNY
    reservation_id: str | None = Field(default=None, max_length=64)  # the folio it is for
    redeemed_by: str = Field(max_length=100)  # the principal's subject
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# -- API schemas ------------------------------------------------------------------------------
class MemberPublic(BaseModel):
    member_number: str
    guest_id: str
    tier: Tier | None  # None: not a member now (lapsed, merged, erased)
    discount_percent: int
    status: MemberStatus
    enrolled_by: EnrolledBy
    enrolled_at: datetime
    tier_since: datetime
    last_stay_at: date | None
    lapsed_at: datetime | None
    points_balance: int
    points_pending: int


class LedgerLinePublic(BaseModel):
    id: str
    reason: Reason
    reference: str
    points: int
    state: PointsState
    expires_on: date | None
    note: str | None
    created_at: datetime
    posted_at: datetime | None


class RedemptionPublic(BaseModel):
    id: str
    member_number: str
    kind: RedemptionKind
    reward: str | None
    points: int
    credit_amount: int | None
    credit_currency: str | None
    reservation_id: str | None
    created_at: datetime
    points_balance: int  # after the redemption


class Enrolment(SQLModel):
    """Staff enrol a guest who asks; a manager may waive the qualifying stay."""

    model_config = SQLModelConfig(extra="forbid")

    guest_id: Annotated[str, StringConstraints(min_length=1, max_length=36), SINGLE_LINE]
    waive_minimum: bool = False


RewardCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"), SINGLE_LINE]
ReservationRef = Annotated[str, StringConstraints(min_length=1, max_length=64), SINGLE_LINE]


class RedemptionCreate(SQLModel):
    """Points for a folio credit (`points`, a multiple of the credit rate; optionally the
    booking whose folio takes it) or for a reward of the catalogue (`reward`)."""

    model_config = SQLModelConfig(extra="forbid")

    kind: Literal["folio_credit", "reward"]
    points: int | None = Field(default=None, ge=1, le=10_000_000)
    reward: RewardCode | None = None
    reservation_id: ReservationRef | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if self.kind == "folio_credit":
            if self.points is None:
                raise ValueError("a folio credit needs points")
            if self.reward is not None:
                raise ValueError("a folio credit takes no reward")
        else:
            if self.reward is None:
                raise ValueError("a reward redemption needs reward")
            if self.points is not None or self.reservation_id is not None:
                raise ValueError("a reward's points come from the catalogue")
        return self


class RewardPublic(BaseModel):
    code: str
    points: int
