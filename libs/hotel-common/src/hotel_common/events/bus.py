"""The one small interface between services and the broker."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from hotel_common.events.deadletters import DeadLetter, ReplayResult
from hotel_common.events.envelope import Envelope
from hotel_common.pagination import Page

Handler = Callable[[Envelope], Awaitable[None]]


class BrokerUnavailable(ConnectionError):
    """The broker could not be reached, the connection or channel dropped, or a confirm did not
    come in time: whether the broker holds the messages is unknown. Try again later (consumers
    are idempotent, so a message published twice is harmless)."""


class PublishRefused(Exception):
    """The broker answered and refused messages (nacked, returned as unroutable, too large):
    publishing the same messages again is not expected to succeed."""

    def __init__(self, detail: str, event_ids: Sequence[str] = ()) -> None:
        super().__init__(detail)
        self.event_ids = list(event_ids)


class EventBus(Protocol):
    """Publish envelopes; deliver subscribed types to handlers, at least once.

    A handler that raises is retried with growing delay, then parked as a dead letter carrying
    its attempts, the failed handler and the last error (see `deadletters.py`).
    """

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Return once the broker holds every envelope.

        Raises `ConnectionError` (`BrokerUnavailable` or another subclass) whenever the broker
        cannot be reached, the connection or channel drops mid-publish or a confirm times out:
        the outcome is unknown, publish again later. Any other exception (`PublishRefused`)
        means the broker refused a message (nack, returned, too large); `event_ids` names them.
        """
        ...

    def subscribe(self, event_type: str, handler: Handler) -> None:
        """Declare, before start(), that this service handles `event_type`."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ready(self) -> bool:
        """True when the broker is reachable and this service's queue has its consumer."""
        ...

    async def dead_letters(self, limit: int = 50, cursor: str | None = None) -> Page[DeadLetter]:
        """One page of parked messages, oldest first, leaving them parked in their order.

        Raises `ConnectionError` when the broker cannot be reached.
        """
        ...

    async def replay_dead_letters(self, ids: Sequence[str] | None = None) -> ReplayResult:
        """Move parked messages (those with `ids`, or all with None) back to this service's
        queue, each once, attempts reset; say which ids were replayed and which were not found.

        Raises `ConnectionError` when the broker cannot be reached or drops mid-way; what was
        replayed before stays replayed, the rest stays parked (a message may be both: at least
        once, never lost).
        """
        ...
