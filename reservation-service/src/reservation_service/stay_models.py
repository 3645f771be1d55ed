"""Tables and API schemas of the stay: room assignments, ID verifications, folio lines.

A room is never assigned to two overlapping stays: on PostgreSQL an exclusion constraint over
(room, [starts_on, ends_on)) says so to every writer (btree_gist); on SQLite, where every
transaction is BEGIN IMMEDIATE, the insert is checked in the same transaction (assignment.py).
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from hotel_common.bounds import RowId
from hotel_common.strict import StrictModel
from hotel_common.text import SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from pydantic import BaseModel, StringConstraints
from pydantic import Field as PydanticField
from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlmodel import Field, SQLModel

from reservation_service.models import MINOR_UNITS, ReservationPublic

# -- room assignment -------------------------------------------------------------------------------


class RoomAssignment(SQLModel, table=True):
    """The room a booking stays in, for its nights [starts_on, ends_on). One per booking; a
    check-out (early departure included) ends it on the day the guest left."""

    __tablename__ = "room_assignments"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="ck_room_assignments_dates"),
        UniqueConstraint("reservation_id", name="uq_room_assignments_reservation"),
        Index("ix_room_assignments_room_starts", "room_id", "starts_on"),
        ExcludeConstraint(
            ("room_id", "="),
            (text("daterange(starts_on, ends_on, '[)')"), "&&"),
            name="ex_room_assignments_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: str = Field(foreign_key="reservations.id", max_length=36)
    room_id: int = Field(foreign_key="rooms.id")
    starts_on: date
    ends_on: date
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    assigned_by: str = Field(max_length=100)


class SpecialRequest(StrEnum):
    """The typed requests room assignment honours (the booking's own list when it has one)."""

    NON_SMOKING = "non_smoking"
    ACCESSIBLE = "accessible"
    BED_TWIN = "bed_twin"
    BED_KING = "bed_king"
    HIGH_FLOOR = "high_floor"
    QUIET_ROOM = "quiet_room"
    CRIB = "crib"
    LATE_ARRIVAL = "late_arrival"


class AssignRoomRequest(StrictModel):
    room_id: RowId | None = PydanticField(
        default=None, description="The room to assign; none: the best suggestion"
    )
    vip_level: int = PydanticField(
        default=0, ge=0, le=5, description="0 (none) to 5: higher levels get the best rooms"
    )


class RoomSuggestion(BaseModel):
    room_id: int
    number: str
    floor: int
    features: list[str]
    housekeeping_status: str
    score: int = PydanticField(description="Higher is better")
    reasons: list[str] = PydanticField(description="What the score counted, e.g. non_smoking")


class AssignmentPublic(BaseModel):
    reservation_id: str
    room_id: int
    room_number: str
    starts_on: date
    ends_on: date
    assigned_at: datetime
    assigned_by: str


# -- check-in --------------------------------------------------------------------------------------


class DocumentType(StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    DRIVING_LICENCE = "driving_licence"
    RESIDENCE_PERMIT = "residence_permit"
    OTHER = "other"


class IdVerification(SQLModel, table=True):
    """A member of staff saw the guest's ID at check-in. Nothing of the document is kept but
    its type, issuing country and at most its last four characters (the document itself stays
    with the guest profile)."""

    __tablename__ = "id_verifications"

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: str = Field(foreign_key="reservations.id", max_length=36, unique=True)
    document_type: str = Field(max_length=20)
    issuing_country: str | None = Field(default=None, max_length=2)
    last4: str | None = Field(default=None, max_length=4)
    verified_by: str = Field(max_length=100)  # principal id of the attesting staff member
    verified_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class IdVerificationIn(StrictModel):
    document_type: DocumentType
    issuing_country: (
        Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), SINGLE_LINE] | None
    ) = PydanticField(default=None, description="ISO 3166-1 alpha-2", examples=["CN"])
    last4: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{4}$")] | None = PydanticField(
        default=None, description="The document number's last 4 characters, nothing more"
    )
    attested: bool = PydanticField(
        description="The member of staff checking in saw the document and it matches the guest: "
        "must be true (the caller is recorded as verified_by)"
    )


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD_TERMINAL = "card_terminal"


class DepositIn(StrictModel):
    amount: int | None = PydanticField(
        default=None,
        ge=0,
        le=100_000_000,
        description=f"{MINOR_UNITS}; default: the setting `check_in_deposit_amount`; 0: none",
    )
    method: PaymentMethod = PaymentMethod.CARD_TERMINAL
    reference: (
        Annotated[str, StringConstraints(min_length=1, max_length=64), SINGLE_LINE] | None
    ) = None


class CheckInRequest(StrictModel):
    id_verification: IdVerificationIn
    deposit: DepositIn = PydanticField(default_factory=DepositIn)


# -- folio -----------------------------------------------------------------------------------------


class LineKind(StrEnum):
    ROOM = "room"  # one night's room charge
    TAX = "tax"  # that night's share of the booking's taxes
    EXTRA = "extra"  # minibar, damage, late check-out, ...
    PAYMENT = "payment"
    DEPOSIT = "deposit"  # a payment taken at check-in, refunded at check-out as far as unused
    REFUND = "refund"
    # What the hotel gives back for a complaint (guest-service's case): lowers the balance like
    # a payment; paid out by refund lines when the folio is closed or the case says refund.
    COMPENSATION = "compensation"


# Charges raise the balance (what the guest owes); payments and deposits lower it; refunds give
# money back and so raise it again.
CHARGES = (LineKind.ROOM, LineKind.TAX, LineKind.EXTRA)
MONEY_IN = (LineKind.PAYMENT, LineKind.DEPOSIT)


class ExtraCategory(StrEnum):
    MINIBAR = "minibar"
    DAMAGE = "damage"
    LATE_CHECK_OUT = "late_check_out"
    RESTAURANT = "restaurant"
    LAUNDRY = "laundry"
    OTHER = "other"


class FolioLine(SQLModel, table=True):
    """One line of a booking's folio. `amount` is signed (minor units of the booking's
    currency): positive for charges and refunds, negative for payments and deposits, so the
    balance is always the sum of the lines."""

    __tablename__ = "folio_lines"
    __table_args__ = (
        # A night's room charge (and its tax) is posted once.
        UniqueConstraint("reservation_id", "kind", "night", name="uq_folio_lines_night"),
        CheckConstraint("amount <> 0", name="ck_folio_lines_amount_not_zero"),
        # A line posted for something outside the folio (a complaint case) is posted once.
        UniqueConstraint("reference", name="uq_folio_lines_reference"),
        Index("ix_folio_lines_reservation", "reservation_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: str = Field(foreign_key="reservations.id", max_length=36)
    kind: str = Field(max_length=16)
    category: str | None = Field(default=None, max_length=20)
    night: date | None = None  # room and tax lines only
    description: str = Field(max_length=200)
    amount: int
    currency: str = Field(max_length=3)
    method: str | None = Field(default=None, max_length=20)  # payments, deposits, refunds
    provider: str | None = Field(default=None, max_length=20)
    provider_reference: str | None = Field(default=None, max_length=64)
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    posted_by: str = Field(max_length=100)
    reference: str | None = Field(default=None, max_length=64)  # e.g. complaint:<case id>


class FolioLinePublic(BaseModel):
    id: int
    kind: LineKind
    category: str | None
    night: date | None
    description: str
    amount: int = PydanticField(
        description=f"Signed: charges and refunds +, payments -; {MINOR_UNITS}"
    )
    currency: str
    method: str | None
    provider: str | None
    provider_reference: str | None
    posted_at: datetime
    posted_by: str


class Folio(BaseModel):
    reservation_id: str
    currency: str
    lines: list[FolioLinePublic]
    charges_amount: int = PydanticField(description=f"Sum of the charges: {MINOR_UNITS}")
    paid_amount: int = PydanticField(description=f"Paid minus refunded: {MINOR_UNITS}")
    deposit_amount: int = PydanticField(description=f"Deposits taken: {MINOR_UNITS}")
    balance: int = PydanticField(
        description=f"Sum of the lines: what the guest owes (negative: is owed); {MINOR_UNITS}"
    )


Description = Annotated[str, StringConstraints(min_length=1, max_length=200), SINGLE_LINE]


class ChargeIn(StrictModel):
    category: ExtraCategory
    amount: int | None = PydanticField(
        default=None,
        gt=0,
        le=10_000_000,
        description=f"{MINOR_UNITS}; required except for late_check_out (the property's rule)",
    )
    description: Description | None = None


class PaymentIn(StrictModel):
    amount: int = PydanticField(gt=0, le=100_000_000, description=MINOR_UNITS)
    currency: str | None = PydanticField(
        default=None, description="ISO 4217; must be the booking's (the default)"
    )
    method: PaymentMethod
    provider: str = PydanticField(default="offline", description="Payment provider: offline")
    reference: (
        Annotated[str, StringConstraints(min_length=1, max_length=64), SINGLE_LINE] | None
    ) = PydanticField(default=None, description="Terminal slip or receipt number")


# -- answers ---------------------------------------------------------------------------------------


class CheckedInReservation(ReservationPublic):
    room_number: str
    deposit_amount: int = PydanticField(description=f"Deposit taken at check-in: {MINOR_UNITS}")


class CheckedOutReservation(ReservationPublic):
    nights_stayed: int
    amount_spent: int = PydanticField(description=f"Every charge of the stay: {MINOR_UNITS}")
    refunded_amount: int = PydanticField(description=f"Given back at check-out: {MINOR_UNITS}")
