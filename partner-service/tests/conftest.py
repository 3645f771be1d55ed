"""A running partner-service on SQLite (or a given database) and the in-memory broker, callers
by kind (partners by id, staff, anonymous), and events as the neighbouring services send them.

Fixtures here are generic: each test part (the feed, the webhooks) adds its own beside them.
"""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hotel_common.contracts.reservations import ReservationConfirmed, ReservationCreated
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import ApiScope, Kind, Principal, Role
from hotel_common.service import Runtime
from hotel_common.testing import deliver, eventually, principal_headers, running
from partner_service.config import Settings
from partner_service.main import create_app

STAFF_ADMIN = Principal(id="staff:admin", kind=Kind.STAFF, roles=frozenset({Role.ADMIN}))


def partner_principal(partner_id: str) -> Principal:
    # A key as the gateway issues them: with scopes (booking entries need reservations:read).
    return Principal(
        id=f"partner:{partner_id}",
        kind=Kind.PARTNER,
        channel=f"ota_{partner_id}",
        scopes=frozenset(ApiScope),
    )


def new_partner_id() -> str:
    """A partner id as the gateway makes them (hex)."""
    return uuid.uuid4().hex


def reservation_created(booking: ReservationConfirmed, **overrides: Any) -> ReservationCreated:
    """The `reservation.created` that came before `booking`'s confirmation (version 1)."""
    fields: dict[str, Any] = {
        "reservation_id": booking.reservation_id,
        "confirmation_number": booking.confirmation_number,
        "property_name": booking.property_name,
        "room_type_code": booking.room_type_code,
        "check_in": booking.check_in,
        "check_out": booking.check_out,
        "guests": booking.guests,
        "total_amount": booking.total_amount,
        "currency": booking.currency,
        "channel": "ota",
        "guest": booking.guest,
        "partner_id": booking.partner_id,
        "aggregate_version": 1,
    }
    return ReservationCreated(**(fields | overrides))


@dataclass
class PartnerService:
    client: httpx.AsyncClient  # calls as the platform's admin unless told otherwise
    broker: InMemoryBroker
    app: FastAPI

    @property
    def runtime(self) -> Runtime[Settings]:
        runtime: Runtime[Settings] = self.app.state.runtime
        return runtime

    def deliver(self, event: IntegrationEvent | Envelope) -> Envelope:
        return deliver(self.broker, event)

    async def get_as(self, principal: Principal | None, path: str, **params: Any) -> httpx.Response:
        """GET `path` as `principal` (None: no credentials at all)."""
        if principal is None:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
            ) as anonymous:
                return await anonymous.get(path, params=params)
        return await self.client.get(path, params=params, headers=principal_headers(principal))

    async def feed(self, partner_id: str, **params: Any) -> dict[str, Any]:
        """One page of the partner's feed (200 expected)."""
        response = await self.get_as(partner_principal(partner_id), "/api/v1/events", **params)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    async def whole_feed(
        self, partner_id: str, after: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Every entry after `after`, page by page."""
        events: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
            page = await self.feed(partner_id, **params)
            events += page["events"]
            after = page["next_cursor"]
            if not page["has_more"]:
                return events

    async def feed_reaches(
        self, partner_id: str, count: int, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The partner's whole feed once it holds `count` entries."""
        return await eventually(
            lambda: self.whole_feed(partner_id), lambda got: len(got) >= count, timeout
        )


StartPartnerService = Callable[..., AbstractAsyncContextManager[PartnerService]]


@pytest.fixture
def start_partner_service(tmp_path: Path) -> StartPartnerService:
    """`async with start_partner_service(**settings) as svc:` on a SQLite file of its own
    unless `database_url` says otherwise; `broker=` shares an in-memory broker."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[PartnerService]:
        options: dict[str, Any] = {
            "database_url": f"sqlite+aiosqlite:///{tmp_path}/{uuid.uuid4().hex[:8]}.db",
            "retry_delays": [0.01, 0.05],
            "log_json": False,
            "environment": "development",
            **overrides,
        }
        broker = options.pop("broker", None) or InMemoryBroker()
        app = create_app(Settings(**options), broker=broker)
        async with running(app, principal=STAFF_ADMIN) as client:
            yield PartnerService(client, broker, app)

    return start


@pytest.fixture
async def partner_service(
    start_partner_service: StartPartnerService,
) -> AsyncIterator[PartnerService]:
    async with start_partner_service() as svc:
        yield svc
