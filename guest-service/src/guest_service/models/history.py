"""What a guest's history holds beside the stays themselves: the channel each booking came
through, the transfers the guest used, and the feedback they gave.

Each is keyed so a redelivered event adds nothing: a booking's channel by reservation, a
transfer by its job, a piece of feedback by its reference.
"""

from datetime import datetime

from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from guest_service.models.profiles import _new_id


class BookingChannel(SQLModel, table=True):
    """How a booking reached the hotel, from its `reservation.created` event: that event comes
    before the confirmation that links the stay, so the channel waits here keyed by reservation
    and the history joins it to the stay."""

    __tablename__ = "guest_booking_channels"

    reservation_id: str = Field(primary_key=True, max_length=64)
    channel: str = Field(max_length=64)  # who took it: direct_web, mobile_app, a partner's
    source: str | None = Field(default=None, max_length=16)  # how: web, app, phone, ota, ...
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GuestTransfer(SQLModel, table=True):
    """A transfer ride the guest completed. A ride of a booking is the booking's guest's (found
    through the stay); an ad-hoc ride without a booking is the profile holding its email."""

    __tablename__ = "guest_transfers"
    __table_args__ = (
        Index("ix_guest_transfers_reservation_id", "reservation_id"),
        Index("ix_guest_transfers_guest_id", "guest_id"),
    )

    transfer_id: str = Field(primary_key=True, max_length=64)
    reservation_id: str | None = Field(default=None, max_length=64)
    guest_id: str | None = Field(default=None, foreign_key="guests.id", max_length=36)
    completed_at: datetime = Field(sa_type=UtcDateTime)
    fare_amount: int | None = None  # minor units of fare_currency; 0 when the rate included it
    fare_currency: str | None = Field(default=None, max_length=3)


class GuestFeedback(SQLModel, table=True):
    """That the guest gave feedback (a survey answered, a complaint filed): the feedback itself
    lives with the feedback part; here it is one of the loyal guest's signals."""

    __tablename__ = "guest_feedback"
    __table_args__ = (
        Index("ix_guest_feedback_guest_id", "guest_id"),
        Index("ix_guest_feedback_reference", "reference", unique=True),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    guest_id: str = Field(foreign_key="guests.id", max_length=36)
    kind: str = Field(max_length=32)  # survey, complaint, ...
    reference: str | None = Field(default=None, max_length=100)  # e.g. "survey:<id>": once
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
