"""Complaint cases and every step they took, beside their API schemas.

A case moves along the manual's steps (complaints.py holds the machine); each step is a row of
`complaint_steps` with who took it and when. The complainant's contact is sealed like a
profile's; the deadlines are instants that move later by the time the case waited on the guest.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from hotel_common.contacts import LanguageTag
from hotel_common.text import MULTI_LINE, SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from pydantic import BaseModel, StringConstraints, model_validator
from sqlalchemy import JSON, CheckConstraint, Column, Index, String, Text
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from guest_service.crypto import Encrypted
from guest_service.models.profiles import Email, Name, Phone, _new_id


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    INVESTIGATING = "investigating"
    REMEDY_PROPOSED = "remedy_proposed"
    APPROVED = "approved"
    REMEDIED = "remedied"
    GUEST_INFORMED = "guest_informed"
    CLOSED = "closed"


class ComplaintChannel(StrEnum):
    """How the complaint came in (named apart from notification-service's `Channel`: one
    schema name means one thing in the gateway's merged document)."""

    FRONT_DESK = "front_desk"
    PHONE = "phone"
    EMAIL = "email"
    ONLINE_CHAT = "online_chat"
    APP = "app"
    SURVEY = "survey"
    OTHER = "other"


Channel = ComplaintChannel  # the name the complaint code uses


class Category(StrEnum):
    ROOM = "room"
    CLEANLINESS = "cleanliness"
    NOISE = "noise"
    STAFF = "staff"
    FOOD = "food"
    BILLING = "billing"
    BOOKING = "booking"
    TRANSFER = "transfer"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CompensationKind(StrEnum):
    NONE = "none"  # an apology, a repair, a room move: nothing of value handed over
    REFUND = "refund"  # money back on the booking's folio (reservation-service)
    FOLIO_CREDIT = "folio_credit"  # a credit on the folio of a stay not yet settled
    POINTS = "points"  # loyalty points (the ledger)
    VOUCHER = "voucher"  # a voucher of `amount` issued here, its code told to the guest
    FREE_TRANSFER = "free_transfer"  # transfer-service waives the ride's fare or gives a ride


class Complaint(SQLModel, table=True):
    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_case_number", "case_number", unique=True),
        Index("ix_complaints_created", "created_at", "id"),
        Index("ix_complaints_open", "status", "response_due_at", "resolution_due_at"),
        Index("ix_complaints_guest", "guest_id"),
        CheckConstraint("paused_seconds >= 0", name="ck_complaints_paused_seconds"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    case_number: str = Field(max_length=20)
    status: ComplaintStatus = Field(default=ComplaintStatus.RECEIVED, sa_type=String(20))
    guest_id: str | None = Field(default=None, foreign_key="guests.id", max_length=36)
    name: str = Field(sa_type=Encrypted)  # the complainant, as they gave it
    email: str | None = Field(default=None, sa_type=Encrypted)
    phone: str | None = Field(default=None, sa_type=Encrypted)
    language: str = Field(default="en", max_length=35)
    channel: ComplaintChannel = Field(sa_type=String(16))
    category: Category = Field(sa_type=String(16))
    severity: Severity = Field(sa_type=String(16))
    reservation_id: str | None = Field(default=None, max_length=64)
    transfer_id: str | None = Field(default=None, max_length=64)
    subject: str = Field(sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)
    demand: str | None = Field(default=None, sa_type=Text)  # what the guest asks for
    department: str | None = Field(default=None, max_length=64)
    owner: str | None = Field(default=None, max_length=100)  # a staff subject, "staff:12"
    cause: str | None = Field(default=None, sa_type=Text)
    responsible: str | None = Field(default=None, max_length=200)
    remedy: str | None = Field(default=None, sa_type=Text)
    compensation_kind: CompensationKind = Field(default=CompensationKind.NONE, sa_type=String(16))
    compensation_amount: int | None = None  # minor units of compensation_currency
    compensation_currency: str | None = Field(default=None, max_length=3)
    compensation_points: int | None = None
    voucher_code: str | None = Field(default=None, max_length=32)
    needs_approval: bool = False
    approved_by: str | None = Field(default=None, max_length=100)
    rejection_reason: str | None = Field(default=None, sa_type=Text)
    guest_reaction: str | None = Field(default=None, sa_type=Text)
    # The SLA clock: the deadlines move later by each wait on the guest once it ends.
    waiting_on_guest: bool = False
    paused_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    paused_seconds: int = 0
    response_due_at: datetime = Field(sa_type=UtcDateTime)
    resolution_due_at: datetime = Field(sa_type=UtcDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # 0: on time; 1: the response deadline passed; 2: the resolution deadline passed.
    escalation_level: int = 0
    escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    version: int = 1
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ComplaintStep(SQLModel, table=True):
    """One step of a case: a state it entered, a pause, a resume, an escalation."""

    __tablename__ = "complaint_steps"
    __table_args__ = (Index("ix_complaint_steps_case", "complaint_id", "at", "id"),)

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    complaint_id: str = Field(foreign_key="complaints.id", max_length=36)
    step: str = Field(max_length=20)  # a ComplaintStatus, "paused", "resumed", "escalated"
    actor: str = Field(max_length=100)  # "staff:12", "guest:...", "system"
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    note: str | None = Field(default=None, sa_type=Text)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# -- API schemas ------------------------------------------------------------------------------
Line = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE
]
Prose = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), MULTI_LINE
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
MAX_AMOUNT = 100_000_000  # minor units: a million yuan is beyond any complaint
MAX_POINTS = 1_000_000


class ComplaintCreate(BaseModel):
    """A complaint as recorded by staff, or filed by a signed-in guest (their contact is then
    their profile's, and the channel "app")."""

    model_config = SQLModelConfig(extra="forbid")

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    language: LanguageTag | None = None
    guest_id: str | None = Field(default=None, max_length=36)
    channel: ComplaintChannel | None = None
    category: Category
    severity: Severity = Severity.MEDIUM
    reservation_id: Line | None = Field(default=None, max_length=64)
    transfer_id: Line | None = Field(default=None, max_length=64)
    subject: Line
    description: Prose | None = None
    demand: Prose | None = None


class Compensation(BaseModel):
    model_config = SQLModelConfig(extra="forbid")

    kind: CompensationKind
    amount: int | None = Field(default=None, gt=0, le=MAX_AMOUNT, description="minor units")
    currency: Currency | None = None
    points: int | None = Field(default=None, gt=0, le=MAX_POINTS)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        money = self.kind in (
            CompensationKind.REFUND,
            CompensationKind.FOLIO_CREDIT,
            CompensationKind.VOUCHER,
        )
        if money and (self.amount is None or self.currency is None):
            raise ValueError(f"a {self.kind.value} needs an amount and a currency")
        if not money and (self.amount is not None or self.currency is not None):
            raise ValueError(f"a {self.kind.value} has no amount or currency")
        if (self.kind is CompensationKind.POINTS) != (self.points is not None):
            raise ValueError("points go with (and only with) a points compensation")
        return self


class Transition(BaseModel):
    """Move a case to its next step. What each step needs: `rejected` a reason, `assigned` a
    department and an owner, `remedy_proposed` a cause and a remedy (and any compensation)."""

    model_config = SQLModelConfig(extra="forbid")

    to: ComplaintStatus
    note: Prose | None = None
    reason: Prose | None = None
    department: Line | None = None
    owner: Line | None = None
    cause: Prose | None = None
    responsible: Line | None = None
    remedy: Prose | None = None
    compensation: Compensation | None = None
    guest_reaction: Prose | None = None
    severity: Severity | None = None  # validation may correct it (the deadlines follow)


class Waiting(BaseModel):
    model_config = SQLModelConfig(extra="forbid")

    waiting: bool
    note: Prose | None = None


class ComplaintStepPublic(BaseModel):
    step: str
    actor: str
    at: datetime
    note: str | None
    details: dict[str, Any]


class ComplaintPublic(BaseModel):
    id: str
    case_number: str
    status: ComplaintStatus
    guest_id: str | None
    name: str
    email: str | None
    phone: str | None
    language: str
    channel: ComplaintChannel
    category: Category
    severity: Severity
    reservation_id: str | None
    transfer_id: str | None
    subject: str
    description: str | None
    demand: str | None
    department: str | None
    owner: str | None
    cause: str | None
    responsible: str | None
    remedy: str | None
    compensation_kind: CompensationKind
    compensation_amount: int | None
    compensation_currency: str | None
    compensation_points: int | None
    voucher_code: str | None
    needs_approval: bool
    approved_by: str | None
    rejection_reason: str | None
    guest_reaction: str | None
    waiting_on_guest: bool
    response_due_at: datetime
    resolution_due_at: datetime
    escalation_level: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class ComplaintDetail(ComplaintPublic):
    steps: list[ComplaintStepPublic]


class MyComplaint(BaseModel):
    """What the complainant sees of their case: no staff names, causes or deadlines."""

    id: str
    case_number: str
    status: ComplaintStatus
    category: Category
    subject: str
    description: str | None
    demand: str | None
    remedy: str | None
    voucher_code: str | None
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime
