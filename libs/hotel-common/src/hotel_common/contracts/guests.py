"""Events published by guest-service (issue 19): the guest's wishes and rights, merges, loyalty,
surveys and complaints.

Events of one guest belong to the aggregate GUEST and carry the profile's version
(`Guest.version`), so a consumer keeps the newest and drops a stale one (`newer_than_stored`).
Contact values travel in plain text between services (each holds its own copy of a booking's
contact anyway); they never appear in logs.
"""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotel_common.events.envelope import IntegrationEvent

GUEST = ("guest", "guest_id")

# "push": the hotel's app on the guest's phone (issue 20).
Channel = Literal["email", "sms", "phone", "push"]
Purpose = Literal["service", "marketing"]
Tier = Literal["regular", "silver", "gold", "diamond"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Consent(_Frozen):
    """Whether the guest agrees to be reached on `channel` for `purpose`; the latest word wins."""

    channel: Channel
    purpose: Purpose
    granted: bool
    at: datetime  # UTC, when the guest said so
    source: str  # where they said it: "front_desk", "booking", "app", "unsubscribe_link", ...


class QuietHours(_Frozen):
    """No notice that can wait is sent between `start` and `end` (local wall time in
    `timezone`; `start` > `end` spans midnight)."""

    start: str  # "HH:MM"
    end: str  # "HH:MM"
    timezone: str  # IANA, e.g. "Asia/Shanghai"


class GuestContactPreferencesChanged(IntegrationEvent):
    """The guest's contact preferences and consents as they now are (a whole snapshot, so a
    consumer needs no earlier event): notification-service obeys them."""

    event_type: ClassVar[str] = "guest.contact_preferences_changed"
    aggregate: ClassVar[tuple[str, str] | None] = GUEST

    guest_id: str
    emails: list[str]  # every address the profile holds, normalised
    phones: list[str]  # E.164
    channels: list[Channel]  # in the order the guest prefers
    language: str | None  # BCP-47; None: each notice's own
    quiet_hours: QuietHours | None
    consents: list[Consent]


class GuestErased(IntegrationEvent):
    """The guest asked to be forgotten: every service removes or anonymises what it holds of
    this person (its copies of bookings' names and contacts, notices, transfer jobs), keeping
    amounts. What identifies the copies travels here, because guest-service no longer has it."""

    event_type: ClassVar[str] = "guest.erased"
    aggregate: ClassVar[tuple[str, str] | None] = GUEST

    guest_id: str
    reservation_ids: list[str]
    emails: list[str]
    phones: list[str]
    names: list[str]  # as bookings carried them, to blank sign names and notes
    erased_at: datetime


class GuestMerged(IntegrationEvent):
    """Two profiles were found to be one person: `absorbed_id` now lives on in `survivor_id`."""

    event_type: ClassVar[str] = "guest.merged"
    aggregate: ClassVar[tuple[str, str] | None] = GUEST

    merge_id: str
    guest_id: str  # the survivor (the aggregate)
    absorbed_id: str
    merged_by: str  # the staff member's subject
    at: datetime


class GuestMergeUndone(IntegrationEvent):
    """A merge was undone: `absorbed_id` is its own profile again."""

    event_type: ClassVar[str] = "guest.merge_undone"
    aggregate: ClassVar[tuple[str, str] | None] = GUEST

    merge_id: str
    guest_id: str  # the former survivor
    absorbed_id: str
    undone_by: str
    at: datetime


# -- loyalty ----------------------------------------------------------------------------------
class LoyaltyTierChanged(IntegrationEvent):
    """A member's tier changed (enrolment, promotion, lapse): reservation-service prices the
    member rate from it. `tier` None: no longer a member (lapsed, erased)."""

    event_type: ClassVar[str] = "loyalty.tier_changed"
    aggregate: ClassVar[tuple[str, str] | None] = GUEST

    guest_id: str
    member_number: str | None
    tier: Tier | None
    previous_tier: Tier | None
    discount_percent: int = Field(ge=0, le=100)  # 10 / 15 / 20 / 25; 0 when not a member
    emails: list[str]  # the profile's addresses: how bookings find the member
    phones: list[str]
    reason: str  # "enrolled", "promoted", "lapsed", "erased", "merged", "contacts_changed"
    at: datetime


class PointsExpiring(IntegrationEvent):
    """A reminder before the yearly expiry: `points` will be cleared on `expires_on`."""

    event_type: ClassVar[str] = "loyalty.points_expiring"
    aggregate: ClassVar[tuple[str, str] | None] = None

    guest_id: str
    member_number: str
    name: str
    email: str | None
    phone: str | None
    language: str
    points: int
    expires_on: date


class BirthdayBenefitGranted(IntegrationEvent):
    """A member's birthday: a greeting with the benefit granted."""

    event_type: ClassVar[str] = "loyalty.birthday_benefit"
    aggregate: ClassVar[tuple[str, str] | None] = None

    guest_id: str
    member_number: str
    name: str
    email: str | None
    phone: str | None
    language: str
    benefit: str  # what the guest receives, in words
    valid_until: date


# -- feedback and complaints ------------------------------------------------------------------
class SurveyRequested(IntegrationEvent):
    """Ask the guest for feedback on a stay or a transfer: notification-service sends the
    invitation with the link (`survey_url`, which carries the one-time token)."""

    event_type: ClassVar[str] = "feedback.survey_requested"
    aggregate: ClassVar[tuple[str, str] | None] = None

    survey_id: str
    guest_id: str | None
    about: Literal["stay", "transfer"]
    reservation_id: str | None
    transfer_id: str | None
    name: str
    email: str | None
    phone: str | None
    language: str
    survey_url: str
    expires_at: datetime


class SurveyAnswered(IntegrationEvent):
    """Issue 20: the guest answered a survey: its follow-up reminder is not sent."""

    event_type: ClassVar[str] = "feedback.survey_answered"
    aggregate: ClassVar[tuple[str, str] | None] = None

    survey_id: str
    reservation_id: str | None
    transfer_id: str | None


class ComplaintNotice(IntegrationEvent):
    """Tell the complainant where their case stands: `stage` "acknowledged" when it is received,
    "progress" when it moves a step (issue 20: the step in `outcome`), "resolved" when the
    remedy is carried out (or "rejected" with the reason)."""

    event_type: ClassVar[str] = "complaint.guest_notice"
    aggregate: ClassVar[tuple[str, str] | None] = ("complaint", "case_id")

    case_id: str
    case_number: str
    stage: Literal["acknowledged", "progress", "resolved", "rejected"]
    guest_id: str | None
    name: str
    email: str | None
    phone: str | None
    language: str
    summary: str  # what the guest complained of, as recorded
    outcome: str | None  # the remedy or the reason for rejection, in words
