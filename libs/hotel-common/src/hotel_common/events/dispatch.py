"""Routing an envelope to the handlers a service subscribed for its type."""

import logging
from collections import defaultdict
from collections.abc import Sequence

from hotel_common import context
from hotel_common.events.bus import Handler
from hotel_common.events.envelope import Envelope

log = logging.getLogger(__name__)


class Subscriptions:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def add(self, event_type: str, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    @property
    def event_types(self) -> Sequence[str]:
        return sorted(self._handlers)

    async def dispatch(self, envelope: Envelope) -> None:
        """Run every handler of the envelope's type; raise if any fails.

        Handlers are idempotent (inbox), so a retry re-running the ones that succeeded is harmless.
        """
        tokens = (
            context.correlation_id.set(envelope.correlation_id or envelope.id),
            context.causation_id.set(envelope.id),
            context.event_occurred_at.set(envelope.occurred_at),
        )
        try:
            for handler in self._handlers.get(envelope.type, []):
                await handler(envelope)
        finally:
            context.correlation_id.reset(tokens[0])
            context.causation_id.reset(tokens[1])
            context.event_occurred_at.reset(tokens[2])
