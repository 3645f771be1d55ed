"""A running guest-service for the feedback tests: the client (as any principal), the broker
with a probe on what the service publishes, and the runtime whose timed steps a test runs with
its own `now`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from guest_service import feedback_worker
from guest_service.main import create_app
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import ANONYMOUS, Kind, Principal, Role
from hotel_common.testing import Probe, deliver, eventually, principal_headers, running

from .conftest import sqlite_settings

PUBLISHED = {
    "feedback.survey_requested",
    "feedback.survey_answered",
    "complaint.guest_notice",
    "complaint.folio_compensation",
    "complaint.transfer_compensation",
}
FRONT_DESK = Principal(id="staff:desk-1", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))
MANAGER = Principal(id="staff:manager-1", kind=Kind.STAFF, roles=frozenset({Role.MANAGER}))
MARKETING = Principal(id="staff:mkt-1", kind=Kind.STAFF, roles=frozenset({Role.MARKETING}))


def as_guest(email: str) -> Principal:
    return Principal(id=f"guest:{email}", kind=Kind.GUEST, email=email)


def as_(principal: Principal) -> dict[str, str]:
    return principal_headers(principal)


ANON = as_(ANONYMOUS)


@dataclass
class Feedback:
    client: httpx.AsyncClient
    broker: InMemoryBroker
    runtime: Any
    probe: Probe

    def deliver(
        self, event: IntegrationEvent | Envelope, source: str = "reservation-service"
    ) -> Envelope:
        return deliver(self.broker, event, source)

    async def step(self, now: datetime) -> tuple[int, int]:
        """The feedback worker's step at `now`: (surveys sent, complaints escalated)."""
        return await feedback_worker.step(self.runtime, now)

    async def published(self, event_type: str) -> list[dict[str, Any]]:
        """What the service published of `event_type`, once its outbox is drained: the relay
        sends in the background after the commit, so a read straight after a request would
        race it."""
        await eventually(self.runtime.relay.counts, lambda c: c["pending"] == 0)
        return [e.payload for e in self.probe.events(event_type)]

    async def guest_id(self, email: str) -> str:
        found = await eventually(
            lambda: self.client.get("/api/v1/guests", params={"email": email}),
            until=lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
        )
        return str(found.json()["items"][0]["id"])


@asynccontextmanager
async def feedback_service(tmp_path: Path, **settings: Any) -> AsyncIterator[Feedback]:
    broker = InMemoryBroker()
    probe = Probe(broker, PUBLISHED)
    app = create_app(sqlite_settings(tmp_path, **settings), broker=broker)
    async with running(app) as client:
        yield Feedback(client, broker, app.state.runtime, probe)
