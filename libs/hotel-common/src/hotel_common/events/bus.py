"""The one small interface between services and the broker."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from hotel_common.events.envelope import Envelope

Handler = Callable[[Envelope], Awaitable[None]]


class EventBus(Protocol):
    """Publish envelopes; deliver subscribed types to handlers, at least once.

    A handler that raises is retried with growing delay, then parked as a dead letter.
    """

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Return once the broker holds every envelope; raise if it may not."""
        ...

    def subscribe(self, event_type: str, handler: Handler) -> None:
        """Declare, before start(), that this service handles `event_type`."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ready(self) -> bool:
        """True when the broker is reachable and this service's queue has its consumer."""
        ...

    async def dead_letters(self) -> list[Envelope]: ...

    async def replay_dead_letters(self) -> int:
        """Move parked messages back to this service's queue; return how many."""
        ...
