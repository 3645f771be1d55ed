"""Issue 21: events published by notification-service."""

from datetime import datetime
from typing import ClassVar

from hotel_common.contracts.reservations import RESERVATION
from hotel_common.events.envelope import IntegrationEvent


class NoticeStatusChanged(IntegrationEvent):
    """A notice about a booking reached a status a partner may be shown (sent, delivered,
    failed, suppressed): what was sent and how it went, never to whom."""

    event_type: ClassVar[str] = "notice.status_changed"
    aggregate: ClassVar[tuple[str, str] | None] = RESERVATION

    notice_id: str
    reservation_id: str
    kind: str  # the notice's kind, e.g. reservation_confirmed
    channel: str  # email | sms | push | inbox
    status: str  # sent | delivered | failed | suppressed
    reason: str | None = None
    at: datetime
