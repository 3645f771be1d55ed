"""Issue 21: events about what partners (OTAs, channel managers) sell and are told.

- reservation-service publishes `availability.changed` (coalesced ARI of one room type over a
  date range) and `partner.mapping_changed` (a partner's codes at one property);
- partner-service publishes `partner.webhook_disabled` (notification-service tells the
  partner's contact).
"""

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from hotel_common.events.envelope import IntegrationEvent


class AriNight(BaseModel):
    """One night of one rate plan: its price (minor units; None: not sellable) and
    restrictions, as `GET /api/v1/ari` shows them."""

    model_config = ConfigDict(frozen=True)

    night: date
    amount: int | None
    min_stay: int | None = None
    max_stay: int | None = None
    closed_to_arrival: bool = False
    closed_to_departure: bool = False
    stop_sell: bool = False


class AriRatePlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    nights: list[AriNight]


class AvailabilityChanged(IntegrationEvent):
    """Availability, prices or restrictions of one room type changed on some nights of
    [start, end): what they are now, on every night of the range.

    One message per property, room type and date range, coalesced over a few seconds (a
    burst of bookings is one message). `sequence` grows per room type: a consumer that gets
    two messages covering one night keeps the one with the higher sequence (the bus does not
    promise order). The envelope's aggregate is the room type ("room_type_ari",
    room_type_id) and its aggregate_version the sequence, so consumers serialize per room type
    and compare with `newer`. Past nights are never sent: `start` is today (property time)
    or later."""

    event_type: ClassVar[str] = "availability.changed"
    aggregate: ClassVar[tuple[str, str] | None] = ("room_type_ari", "room_type_id")

    property_id: int
    room_type_id: int | None = None  # our row id (the aggregate); None in hand-made samples
    room_type_code: str
    start: date
    end: date  # exclusive
    currency: str
    sequence: int
    free: list[int]  # rooms free to sell, one per night of [start, end)
    rate_plans: list[AriRatePlan]
    computed_at: datetime


class PartnerMappingChanged(IntegrationEvent):
    """A partner's mapping at one property, whole (an empty mapping: none left there).
    Codes map the partner's own (keys) to the hotel's (values)."""

    event_type: ClassVar[str] = "partner.mapping_changed"
    aggregate: ClassVar[tuple[str, str] | None] = ("partner_mapping", "mapping_key")

    mapping_key: str  # "<partner_id>:<property_id>"
    partner_id: str
    property_id: int
    room_types: dict[str, str]  # partner code -> our room type code
    rate_plans: dict[str, str]  # partner code -> our rate plan code


class WebhookSubscriptionDisabled(IntegrationEvent):
    """A webhook subscription failed for too long and was disabled: its contact is told."""

    event_type: ClassVar[str] = "partner.webhook_disabled"

    subscription_id: str
    partner_id: str
    url: str
    contact_email: str | None
    failing_since: datetime
    disabled_at: datetime
    last_error: str | None
