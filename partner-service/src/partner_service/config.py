"""Settings of partner-service: the shared ones plus the feed's retention and the webhooks'
delivery (timeouts, backoff, when a failing subscription is disabled)."""

from hotel_common.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    service_name: str = "partner-service"
    # The feed keeps entries this long; a cursor older than what is kept is 410 Gone.
    feed_retention_days: float = Field(30.0, gt=0)
    feed_page_max: int = Field(500, ge=1, le=5000)  # most entries one read returns
    # The purge (feed.purge_forever): how often, how many entries per transaction, and how
    # long an event of a booking not known yet waits for it (bookings.py).
    feed_purge_interval_seconds: float = Field(3600.0, gt=0)
    feed_purge_batch: int = Field(1000, ge=1)
    feed_parked_hours: float = Field(24.0, gt=0)
    # Bookings remembered in process as no partner's: their later events are acknowledged with
    # no database work (bookings.DirectBookings; ~100 bytes each; 0: off).
    feed_direct_bookings_kept: int = Field(100_000, ge=0)
    # Webhooks (webhooks.py): one request's time limits and the largest answer body read.
    webhook_connect_timeout_seconds: float = Field(3.0, gt=0)
    webhook_timeout_seconds: float = Field(5.0, gt=0)
    webhook_max_response_bytes: int = Field(16_384, ge=0)
    # Delay before each new attempt at the event a subscription is stuck on; the last repeats.
    webhook_backoff_seconds: list[float] = Field(
        default_factory=lambda: [5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0]
    )
    # A subscription failing without a success this long is disabled and its partner told.
    webhook_disable_after_seconds: float = Field(86400.0, gt=0)
    webhook_poll_seconds: float = Field(2.0, gt=0)  # safety net: a new entry wakes the sender
    webhook_concurrency: int = Field(32, ge=1)  # subscriptions sent to at once per process
