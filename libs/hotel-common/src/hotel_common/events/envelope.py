"""The event envelope every message on the bus carries (see DESIGN.md, Events)."""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

from hotel_common import context


class IntegrationEvent(BaseModel):
    """Base of an event's payload: small, immutable, named by its routing key."""

    model_config = ConfigDict(frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    @classmethod
    def from_envelope(cls, envelope: "Envelope") -> Self:
        return cls.model_validate(envelope.payload)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    correlation_id: str | None = None
    causation_id: str | None = None
    payload: dict[str, Any]

    @classmethod
    def wrap(cls, event: IntegrationEvent, source: str) -> "Envelope":
        """Envelope for an event raised now, carrying the current correlation and cause."""
        eid = str(uuid.uuid4())
        return cls(
            id=eid,
            type=event.event_type,
            version=event.event_version,
            source=source,
            correlation_id=context.correlation_id.get() or context.request_id.get() or eid,
            causation_id=context.causation_id.get() or context.request_id.get(),
            payload=event.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Envelope":
        return cls.model_validate_json(data)
