"""Issue 21: events published by notification-service."""

from datetime import datetime
from typing import ClassVar

from hotel_common.contracts.reservations import RESERVATION
from hotel_common.events.envelope import IntegrationEvent


class NoticeStatusChanged(IntegrationEvent):
    """A notice about a booking a partner made reached a status the partner may be shown
    (sent, delivered, failed, suppressed): what was sent and how it went, never to whom. A
    direct booking's notices publish none.

    One event per status a notice reaches (a send retried until accepted is one `sent`),
    in the transaction that changed it. Not a change of the reservation: `aggregate_version`
    is None; order a notice's events by `at` (its statuses only move forward, except a
    failed notice retried by staff, which may be `sent` later). A notice that falls back to
    another channel is a new notice (another `notice_id`)."""

    event_type: ClassVar[str] = "notice.status_changed"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    notice_id: str
    reservation_id: str
    kind: str  # the notice's kind, e.g. reservation_confirmed
    channel: str  # email | sms | push
    status: str  # sent | delivered | failed | suppressed
    reason: str | None = None  # e.g. permanent, gave_up, no_channel, superseded, erased
    at: datetime
