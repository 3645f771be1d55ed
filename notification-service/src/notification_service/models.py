"""The delivery log: one row per notice, from queued to sent, logged or failed."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from hotel_common.contacts import PHONE_MAX_LENGTH
from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import JSON, Column, Index, String, Text, text
from sqlmodel import Field, SQLModel


class Kind(StrEnum):
    RESERVATION_CONFIRMED = "reservation_confirmed"
    TRANSFER_ASSIGNED = "transfer_assigned"
    RESERVATION_CANCELLED = "reservation_cancelled"
    RESERVATION_MODIFIED = "reservation_modified"
    RESERVATION_EXPIRED = "reservation_expired"
    # Issue 18: the pickup moved, another car or driver comes, the guest did not come.
    TRANSFER_RESCHEDULED = "transfer_rescheduled"
    TRANSFER_REASSIGNED = "transfer_reassigned"
    TRANSFER_NO_SHOW = "transfer_no_show"
    # A guest's one-time sign-in code: never listed, shown or retried through the API.
    SIGN_IN_CODE = "sign_in_code"
    # Issue 19: the guest CRM's notices (guest_notices.py).
    SURVEY_INVITATION = "survey_invitation"
    COMPLAINT_ACKNOWLEDGED = "complaint_acknowledged"
    COMPLAINT_RESOLVED = "complaint_resolved"
    COMPLAINT_REJECTED = "complaint_rejected"
    POINTS_EXPIRING = "points_expiring"
    BIRTHDAY_GREETING = "birthday_greeting"
    LOYALTY_WELCOME = "loyalty_welcome"
    LOYALTY_PROMOTION = "loyalty_promotion"
    # Issue 20: every notice a guest should get (docs/notifications.md).
    RESERVATION_CREATED = "reservation_created"  # a request taken: how to guarantee it
    GUARANTEE_REMINDER = "guarantee_reminder"  # the deposit is due soon, before cancellation
    GUARANTEE_EXPIRED = "guarantee_expired"  # cancelled: the guarantee was not met in time
    RESERVATION_NO_SHOW = "reservation_no_show"
    ARRIVAL_REMINDER = "arrival_reminder"  # the day before arrival, with the pickup
    DEPARTURE_REMINDER = "departure_reminder"  # the morning of departure
    STAY_THANKS = "stay_thanks"  # after check-out
    SURVEY_FOLLOW_UP = "survey_follow_up"  # the survey not answered within the week
    DRIVER_ON_SITE = "driver_on_site"
    TRANSFER_CANCELLED = "transfer_cancelled"
    COMPLAINT_PROGRESS = "complaint_progress"
    LOYALTY_DEMOTION = "loyalty_demotion"
    STAFF_DIGEST = "staff_digest"  # a staff member's per-minute digest of their alerts
    # Issue 21: a partner's webhook subscription was disabled (partner_notices.py): to its
    # contact, not a guest (no preferences, consent or inbox).
    PARTNER_WEBHOOK_DISABLED = "partner_webhook_disabled"


class ListedKind(StrEnum):
    """The kinds of notice the API lists and shows (every kind but sign-in codes)."""

    RESERVATION_CONFIRMED = "reservation_confirmed"
    TRANSFER_ASSIGNED = "transfer_assigned"
    RESERVATION_CANCELLED = "reservation_cancelled"
    RESERVATION_MODIFIED = "reservation_modified"
    RESERVATION_EXPIRED = "reservation_expired"
    TRANSFER_RESCHEDULED = "transfer_rescheduled"
    TRANSFER_REASSIGNED = "transfer_reassigned"
    TRANSFER_NO_SHOW = "transfer_no_show"
    SURVEY_INVITATION = "survey_invitation"
    COMPLAINT_ACKNOWLEDGED = "complaint_acknowledged"
    COMPLAINT_RESOLVED = "complaint_resolved"
    COMPLAINT_REJECTED = "complaint_rejected"
    POINTS_EXPIRING = "points_expiring"
    BIRTHDAY_GREETING = "birthday_greeting"
    LOYALTY_WELCOME = "loyalty_welcome"
    LOYALTY_PROMOTION = "loyalty_promotion"
    RESERVATION_CREATED = "reservation_created"
    GUARANTEE_REMINDER = "guarantee_reminder"
    GUARANTEE_EXPIRED = "guarantee_expired"
    RESERVATION_NO_SHOW = "reservation_no_show"
    ARRIVAL_REMINDER = "arrival_reminder"
    DEPARTURE_REMINDER = "departure_reminder"
    STAY_THANKS = "stay_thanks"
    SURVEY_FOLLOW_UP = "survey_follow_up"
    DRIVER_ON_SITE = "driver_on_site"
    TRANSFER_CANCELLED = "transfer_cancelled"
    COMPLAINT_PROGRESS = "complaint_progress"
    LOYALTY_DEMOTION = "loyalty_demotion"
    STAFF_DIGEST = "staff_digest"
    PARTNER_WEBHOOK_DISABLED = "partner_webhook_disabled"


class Status(StrEnum):
    """Where a notice stands on its channel (issue 20: queued, sent, delivered, failed,
    suppressed with a reason)."""

    QUEUED = "queued"
    SENT = "sent"  # handed to the server or provider
    DELIVERED = "delivered"  # the provider's receipt says it reached the device
    LOGGED = "logged"  # no server or provider configured (embedded mode): kept in the log only
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # never sent: `reason` says why


class Reason(StrEnum):
    """Why a notice was suppressed (Status.SUPPRESSED), or why it failed for good."""

    # A confirmation or pickup not sent because the booking's cancellation came first.
    SUPERSEDED = "superseded"
    EXPIRED = "expired"  # a sign-in code whose time ran out before it could be sent
    # Issue 19: a marketing notice waiting (quiet hours) when the guest withdrew the consent.
    WITHHELD = "withheld"
    # The guest was erased: the notice is kept as a count, without address or text; one
    # still waiting is never sent.
    ERASED = "erased"
    # Issue 20.
    NO_CHANNEL = "no_channel"  # no address on any channel the notice may use
    NO_CONSENT = "no_consent"  # marketing without the guest's consent on any channel
    BAD_ADDRESS = "bad_address"  # the address is known to bounce (a permanent failure)
    FELL_BACK = "fell_back"  # not delivered in time or failed: sent on the next channel
    GAVE_UP = "gave_up"  # not delivered within the give-up age
    PERMANENT = "permanent"  # the server or provider refused it for good


class Purpose(StrEnum):
    """Why a notice is sent, which decides the consent it needs (reach.py)."""

    SERVICE = "service"  # about the guest's booking, stay, case or membership
    MARKETING = "marketing"  # an offer or greeting: only with the guest's marketing consent


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"  # text message to `phone`
    PUSH = "push"  # to the guest's registered app devices (devices.py), found by email/phone


class NotificationBase(SQLModel):
    # Choice-like columns are plain strings (no native enum types to migrate).
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    kind: Kind = Field(sa_type=String(40))
    # None: a notice of no booking (a sign-in code, an ad-hoc transfer's).
    reservation_id: str | None = Field(default=None, max_length=64)
    confirmation_number: str | None = Field(default=None, max_length=64)
    channel: Channel = Field(default=Channel.EMAIL, sa_type=String(20))
    email: str = Field(
        max_length=320,
        description="The guest's address the notice goes to (empty for a text message)",
    )
    language: str = Field(max_length=16)
    subject: str = Field(max_length=500)
    status: Status = Field(default=Status.QUEUED, sa_type=String(10))
    reason: Reason | None = Field(default=None, sa_type=String(20))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Notification(NotificationBase, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_created", "created_at", "id"),
        # The list filter matches addresses whatever their case.
        Index("ix_notifications_email", text("lower(email)")),
        Index("ix_notifications_provider_message", "provider", "provider_message_id"),
        Index("ix_notifications_deliver_by", "status", "deliver_by"),
    )

    event_id: str = Field(max_length=36)
    reservation_id: str | None = Field(default=None, max_length=64, index=True)
    body: str = Field(sa_type=Text)
    # When the sender may next pick it up (also the lease end while a sender holds it).
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # The lease end while a sender holds it, else None: tells "being sent" from "waiting".
    leased_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Set by a retry through the API: the give-up age counts from here instead of created_at.
    requeued_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # A text message's number (E.164); the email column is then empty.
    phone: str | None = Field(default=None, max_length=PHONE_MAX_LENGTH)
    # A sign-in code, kept only until the notice is sent (or logged, failed, expired): the
    # stored body has a slot where the sender puts it, so no copy of the code outlives the send.
    secret: str | None = Field(default=None, max_length=64)
    # A sign-in code past this instant is not sent any more (status expired).
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The reservation's version the notice tells of (None: an event without one, or no
    # reservation): a change older than one the guest was already told of is not told.
    reservation_version: int | None = None
    # A transfer notice's job and the job's version it tells of (issue 18: a job's own events
    # carry its version): an older one than already told is not told.
    transfer_id: str | None = Field(default=None, max_length=36, index=True)
    transfer_version: int | None = None
    # Issue 19: the guest profile the notice went to (None: not known to the CRM), why it is
    # sent, and until when it waited for the guest's quiet hours to end (the give-up age
    # counts from then).
    guest_id: str | None = Field(default=None, max_length=36, index=True)
    purpose: Purpose = Field(
        default=Purpose.SERVICE,
        sa_type=String(10),
        sa_column_kwargs={"server_default": Purpose.SERVICE.value},
    )
    deferred_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Issue 20: channels, providers, receipts and fallback.
    # Which server or provider took it ("smtp", a provider's configured name) and its id there
    # (what the provider's delivery receipts name).
    provider: str | None = Field(default=None, max_length=40)
    provider_message_id: str | None = Field(default=None, max_length=200)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Goes at once whatever the quiet hours (a pickup changed within hours, the driver there).
    urgent: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # Not delivered by then on this channel (sent is not delivered on sms and push): it goes
    # out on the next channel of `fallback` (None: no deadline).
    deliver_by: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The channels left to try, in order: [{"channel": "sms", "address": "+86..."}, ...].
    fallback: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    # The notice on the previous channel this one replaces (None: the first).
    fallback_of: str | None = Field(default=None, max_length=36, index=True)
    # Email only: the HTML part (None: plain text only) and the calendar entry the message
    # carries as an ICS attachment ({"uid", "sequence", "method", "start", "end", "summary",
    # "location", "description"}: notices.Calendar as a dict).
    html: str | None = Field(default=None, sa_type=Text)
    calendar: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Issue 21: the partner whose key made the booking (None: a direct booking, or no
    # booking). Set when queued (handlers.partner_of); only such notices publish
    # notice.status_changed (statuses.py).
    partner_id: str | None = Field(default=None, max_length=64)


class NotificationPublic(SQLModel):
    id: str
    kind: ListedKind
    channel: Channel
    reservation_id: str | None = Field(description="None: not about a booking (ad-hoc transfer)")
    confirmation_number: str | None
    email: str
    language: str
    subject: str
    status: Status
    reason: Reason | None = Field(
        default=None, description="Why it was suppressed or failed for good (null: neither)"
    )
    provider: str | None = Field(default=None, description="The server or provider that took it")
    provider_message_id: str | None = Field(default=None, description="Its id at the provider")
    delivered_at: datetime | None = Field(default=None, description="UTC; from a receipt")
    fallback_of: str | None = Field(
        default=None, description="The notice on the previous channel this one replaces"
    )
    attempts: int = Field(description="Delivery attempts so far (a count)")
    last_error: str | None
    created_at: datetime = Field(description="UTC")
    sent_at: datetime | None = Field(description="UTC; null until sent")


class NotificationDetail(NotificationPublic):
    event_id: str
    body: str
    next_attempt_at: datetime | None = Field(description="UTC; null when nothing is due")


class NoticeTemplate(SQLModel, table=True):
    """Issue 20: a staff override of a notice's file template for one kind, channel and
    language (templates.py; the files stay the defaults)."""

    __tablename__ = "notice_templates"

    kind: str = Field(primary_key=True, max_length=40)
    channel: str = Field(primary_key=True, max_length=20)  # rendering.CHANNELS
    language: str = Field(primary_key=True, max_length=16)
    # Long (email, inbox): the subject line; short (sms, push): the push title, or None.
    subject: str | None = Field(default=None, sa_type=Text)
    body: str = Field(sa_type=Text)
    html: str | None = Field(default=None, sa_type=Text)  # email: None builds it from the body
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_by: str | None = Field(default=None, max_length=200)
    version: int = 1
