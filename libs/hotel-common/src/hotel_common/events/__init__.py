"""Integration events: envelope, bus interface and its two implementations, outbox and inbox."""

from hotel_common.events.bus import EventBus, Handler
from hotel_common.events.envelope import Envelope, IntegrationEvent

__all__ = ["Envelope", "EventBus", "Handler", "IntegrationEvent"]
