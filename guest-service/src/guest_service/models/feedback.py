"""Surveys after a stay or a ride, the guests' answers, and the follow-up calls after a stay,
beside their API schemas.

A survey row is the invitation: who it is for (sealed contact, as the booking or ride carried it,
so it can be sent after a delay), when it goes out, and the hash of its one-time token (the token
itself only travels in the invitation). An answer given anonymously is not linked to the survey
nor to the profile: nothing but its day and its subject says where it came from.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from hotel_common.text import MULTI_LINE, SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from pydantic import BaseModel, StringConstraints
from sqlalchemy import CheckConstraint, Index, SmallInteger, String, Text
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from guest_service.crypto import Encrypted
from guest_service.models.profiles import _new_id

ASPECTS = ("room", "cleanliness", "staff", "transfer", "value")
COMMENT_MAX_LENGTH = 4000


class SurveyAbout(StrEnum):
    STAY = "stay"
    TRANSFER = "transfer"


class SurveyStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its send time
    SENT = "sent"  # SurveyRequested published: the link works until expires_at
    ANSWERED = "answered"
    EXPIRED = "expired"  # never answered in time (set when an answer comes too late)


class Survey(SQLModel, table=True):
    __tablename__ = "surveys"
    __table_args__ = (
        # One survey per stay and per ride: a redelivered event schedules nothing more.
        Index("ix_surveys_subject", "subject", unique=True),
        Index("ix_surveys_token_hash", "token_hash", unique=True),
        Index("ix_surveys_due", "status", "send_at"),
        Index("ix_surveys_guest", "guest_id"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    subject: str = Field(max_length=80)  # "stay:<reservation id>" or "transfer:<transfer id>"
    about: SurveyAbout = Field(sa_type=String(16))
    guest_id: str | None = Field(default=None, foreign_key="guests.id", max_length=36)
    reservation_id: str | None = Field(default=None, max_length=64)
    transfer_id: str | None = Field(default=None, max_length=64)
    # The invitation's addressee, as the booking or the ride carried them (sealed).
    name: str | None = Field(default=None, sa_type=Encrypted)
    email: str | None = Field(default=None, sa_type=Encrypted)
    phone: str | None = Field(default=None, sa_type=Encrypted)
    language: str = Field(default="en", max_length=35)
    status: SurveyStatus = Field(default=SurveyStatus.SCHEDULED, sa_type=String(16))
    send_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    token_hash: str | None = Field(default=None, max_length=64)  # sha256 of the link's token
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


def _rating(aspect: str) -> Any:
    return Field(default=None, sa_type=SmallInteger, description=f"{aspect}: 1 (poor) to 5")


class SurveyResponse(SQLModel, table=True):
    """One answer. `survey_id`, `guest_id` and `reservation_id` are NULL for an anonymous one."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_survey", "survey_id", unique=True),  # a token answers once
        Index("ix_survey_responses_day", "answered_on", "about"),
        Index("ix_survey_responses_guest", "guest_id"),
        CheckConstraint("nps BETWEEN 0 AND 10", name="ck_survey_responses_nps"),
        *(
            CheckConstraint(f"rating_{a} BETWEEN 1 AND 5", name=f"ck_survey_responses_{a}")
            for a in ASPECTS
        ),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    survey_id: str | None = Field(default=None, foreign_key="surveys.id", max_length=36)
    guest_id: str | None = Field(default=None, foreign_key="guests.id", max_length=36)
    reservation_id: str | None = Field(default=None, max_length=64)
    about: SurveyAbout = Field(sa_type=String(16))
    anonymous: bool = False
    answered_on: date  # the day only: an anonymous answer carries no finer trace
    rating_room: int | None = _rating("room")
    rating_cleanliness: int | None = _rating("cleanliness")
    rating_staff: int | None = _rating("staff")
    rating_transfer: int | None = _rating("transfer")
    rating_value: int | None = _rating("value")
    nps: int = Field(sa_type=SmallInteger)
    comments: str | None = Field(default=None, sa_type=Text)


class FollowUpOutcome(StrEnum):
    REACHED = "reached"  # spoken to: the task is done
    DECLINED = "declined"  # the guest did not want to talk: done
    NO_ANSWER = "no_answer"  # try again: the task stays open


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class FollowUp(SQLModel, table=True):
    """The call after a stay (manual: within a week of the trip): a task for staff."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_reservation", "reservation_id", unique=True),
        Index("ix_follow_ups_open", "status", "due_on", "id"),
        Index("ix_follow_ups_guest", "guest_id"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="ck_follow_ups_satisfaction"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    reservation_id: str = Field(max_length=64)
    confirmation_number: str = Field(max_length=64)
    guest_id: str | None = Field(default=None, foreign_key="guests.id", max_length=36)
    survey_id: str | None = Field(default=None, foreign_key="surveys.id", max_length=36)
    checked_out_on: date
    due_on: date
    # Raised by a detractor's answer (NPS 0-6) or a complaint about the stay: call them first.
    priority: bool = False
    status: FollowUpStatus = Field(default=FollowUpStatus.OPEN, sa_type=String(16))
    attempts: int = 0
    last_outcome: FollowUpOutcome | None = Field(default=None, sa_type=String(16))
    called_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    called_by: str | None = Field(default=None, max_length=100)
    satisfaction: int | None = Field(default=None, sa_type=SmallInteger)
    problems: str | None = Field(default=None, sa_type=Text)
    suggestions: str | None = Field(default=None, sa_type=Text)
    plans_to_return: bool | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# -- API schemas ------------------------------------------------------------------------------
Comment = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=COMMENT_MAX_LENGTH), MULTI_LINE
]
Rating = Annotated[int, Field(ge=1, le=5)]


class Ratings(BaseModel):
    model_config = SQLModelConfig(extra="forbid")

    room: Rating | None = None
    cleanliness: Rating | None = None
    staff: Rating | None = None
    transfer: Rating | None = None
    value: Rating | None = None


class SurveyAnswer(BaseModel):
    """The guest's answer through the invitation's link; no sign-in needed."""

    model_config = SQLModelConfig(extra="forbid")

    ratings: Ratings = Field(default_factory=Ratings)
    nps: int = Field(ge=0, le=10, description="How likely to recommend us, 0 to 10")
    comments: Comment | None = None
    anonymous: bool = Field(
        default=False, description="True: the answer is kept without any link to you or the stay"
    )


class SurveyInvitation(BaseModel):
    """What the survey page shows before the guest answers."""

    about: SurveyAbout
    aspects: list[str]
    expires_at: datetime | None


class SurveyAnswered(BaseModel):
    id: str
    about: SurveyAbout
    anonymous: bool
    answered_on: date


class AspectResult(BaseModel):
    aspect: str
    responses: int
    average: float | None


class PeriodResult(BaseModel):
    period: str  # "2030-06" (month), "2030-W23" (week) or "2030-06-01" (day)
    about: SurveyAbout | None
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None  # % promoters - % detractors, -100..100
    aspects: list[AspectResult]


class SurveyResults(BaseModel):
    period: str
    periods: list[PeriodResult]


Text500 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), MULTI_LINE
]


class FollowUpCall(BaseModel):
    """What the call found (manual: satisfaction, problems, suggestions, plans to return)."""

    model_config = SQLModelConfig(extra="forbid")

    outcome: FollowUpOutcome
    satisfaction: Rating | None = None
    problems: Text500 | None = None
    suggestions: Text500 | None = None
    plans_to_return: bool | None = None


class FollowUpPublic(BaseModel):
    id: str
    reservation_id: str
    confirmation_number: str
    guest_id: str | None
    name: str | None
    phone: str | None
    email: str | None
    language: str | None
    checked_out_on: date
    due_on: date
    overdue: bool
    priority: bool
    status: FollowUpStatus
    attempts: int
    last_outcome: FollowUpOutcome | None
    called_at: datetime | None
    called_by: str | None
    satisfaction: int | None
    problems: str | None
    suggestions: str | None
    plans_to_return: bool | None


SingleLine = Annotated[str, SINGLE_LINE]
