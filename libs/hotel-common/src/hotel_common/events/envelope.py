"""The event envelope every message on the bus carries (see docs/architecture.md, Events).

An event about one aggregate (a reservation, say) names it: the contract declares the
aggregate's type and the payload field holding its id, and the event raised carries the
aggregate's version after the change it announces. `Envelope.wrap` copies the three into the
envelope, so a consumer can serialize its work per aggregate (events/inbox.py) and tell a stale
event from a new one without knowing the payload.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from hotel_common import context


class IntegrationEvent(BaseModel):
    """Base of an event's payload: small, immutable, named by its routing key."""

    model_config = ConfigDict(frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    # The aggregate the event belongs to, e.g. ("reservation", "reservation_id"): its type and
    # the payload field naming it. None: the event belongs to no aggregate.
    aggregate: ClassVar[tuple[str, str] | None] = None

    # The aggregate's version after the announced change. It travels in the envelope, not in
    # the payload; `from_envelope` puts it back.
    aggregate_version: int | None = Field(default=None, exclude=True)
    _event_id: str | None = PrivateAttr(default=None)

    @classmethod
    def from_envelope(cls, envelope: "Envelope") -> Self:
        event = cls.model_validate(
            {**envelope.payload, "aggregate_version": envelope.aggregate_version}
        )
        event._event_id = envelope.id
        return event

    @property
    def event_id(self) -> str:
        """The id of the envelope this event was received in: what a consumer records as the
        cause of a row. Only an event read from an envelope (`from_envelope`) has one."""
        if self._event_id is None:
            raise ValueError(f"{self.event_type} was not received: it has no envelope id yet")
        return self._event_id


def newer(version: int | None, than: int | None) -> bool:
    """Is `version` known to be later than `than`? An unknown version never is.

    The one rule consumers use to tell a stale event of an aggregate from a new one
    (events of one aggregate reach a handler one at a time, in any order: events/inbox.py).
    """
    return version is not None and than is not None and version > than


def newer_than_stored(version: int | None, stored: int | None) -> bool:
    """Is `version` later than the version a row stores? A row stored before versions were kept
    (None) counts as version 0, so it takes any versioned event; an unknown `version` is still
    never newer (`newer`)."""
    return newer(version, stored if stored is not None else 0)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    correlation_id: str | None = None
    causation_id: str | None = None
    # The aggregate the event belongs to and its version after the change; None for events of
    # no aggregate, and in envelopes made before these fields existed.
    aggregate_type: str | None = None
    aggregate_id: str | None = None
    aggregate_version: int | None = None
    payload: dict[str, Any]

    @classmethod
    def wrap(cls, event: IntegrationEvent, source: str) -> "Envelope":
        """Envelope for an event raised now, carrying the current correlation and cause."""
        eid = str(uuid.uuid4())
        aggregate_type, aggregate_id = None, None
        # An event whose aggregate id is unset (an ad-hoc transfer has no reservation) belongs
        # to no aggregate: "None" must not become an id that serializes unrelated events.
        if event.aggregate is not None and getattr(event, event.aggregate[1]) is not None:
            aggregate_type, aggregate_id = (
                event.aggregate[0],
                str(getattr(event, event.aggregate[1])),
            )
        return cls(
            id=eid,
            type=event.event_type,
            version=event.event_version,
            source=source,
            correlation_id=context.correlation_id.get() or context.request_id.get() or eid,
            causation_id=context.causation_id.get() or context.request_id.get(),
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            aggregate_version=event.aggregate_version,
            payload=event.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Envelope":
        return cls.model_validate_json(data)
