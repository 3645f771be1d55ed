"""What the cross-service tests share: a handle on the running platform, a way to read the
guest's mail, and a guest's one-night stay through the gateway. (A module, not conftest: test
files import it by name.)"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from gateway.config import Settings as GatewaySettings
from gateway.identity.testing import bearer, staff_token
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.rabbit import RabbitBus
from hotel_common.testing import TEST_ADMIN, TcpProxy, eventually, principal_headers

RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672/"
ID = {"document_type": "passport", "issuing_country": "CN", "last4": "1234", "attested": True}


def admin_headers(settings: GatewaySettings | None = None) -> dict[str, str]:
    """An admin's credentials for a client that calls the gateway and services alike: a staff
    JWT (the gateway's) and a signed X-Principal (what a service takes directly; the gateway
    drops a client's). Processes started by the tests read the same environment (dev secrets
    unless it sets others)."""
    settings = settings or GatewaySettings()
    return bearer(staff_token(settings)) | principal_headers(TEST_ADMIN, settings.internal_secret)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None
    return str(part.get_content())


@dataclass
class Platform:
    """The running platform: a client of its gateway, plus the levers a fault test pulls."""

    client: httpx.AsyncClient  # talks to the gateway only
    mode: str
    service_apps: dict[str, FastAPI] = field(default_factory=dict)
    broker: InMemoryBroker | None = None  # embedded
    proxy: TcpProxy | None = None  # distributed: the link to RabbitMQ, which a test may cut
    namespace: str = ""  # distributed: the run's exchange and queue prefix
    # Every replica's app per service (service_apps holds the first); embedded has one each.
    replica_apps: dict[str, list[FastAPI]] = field(default_factory=dict)
    # The gateway's settings: mint other callers' tokens with gateway.identity.testing.
    gateway_settings: GatewaySettings = field(default_factory=GatewaySettings)

    def caller(self, headers: dict[str, str]) -> httpx.AsyncClient:
        """A client of the same gateway sending `headers` instead of the admin's (a partner's
        key, another staff member's token). It shares the platform client's transport: leave
        it open, the platform's client closes the transport."""
        return httpx.AsyncClient(
            transport=self.client._transport, base_url=self.client.base_url, headers=headers
        )

    def replicas(self, name: str) -> list[httpx.AsyncClient]:
        """A client of each replica of one service (operations endpoints)."""
        return [self.service(name, i) for i in range(len(self.replica_apps.get(name, [])))]

    async def wait_ready(self, timeout: float = 30) -> None:
        await eventually(
            lambda: self.client.get("/health/ready"),
            lambda r: r.status_code == 200,
            timeout=timeout,
        )

    def cut_broker(self) -> None:
        if self.broker is not None:
            self.broker.up = False
        if self.proxy is not None:
            self.proxy.cut()

    def restore_broker(self) -> None:
        if self.broker is not None:
            self.broker.up = True
        if self.proxy is not None:
            self.proxy.restore()

    async def publish(self, *envelopes: Envelope) -> None:
        """Put events on the bus as another service would (duplicates included)."""
        if self.broker is not None:
            for envelope in envelopes:
                self.broker.route(envelope)
            return
        bus = RabbitBus(RABBIT_URL, "test-publisher", namespace=self.namespace)
        await bus.start()
        await eventually(bus.ready)
        try:
            await bus.publish(list(envelopes))
        finally:
            await bus.close()

    def service(self, name: str, replica: int = 0) -> httpx.AsyncClient:
        """A client of one service replica's own operations endpoints (not exposed by the
        gateway), as the gateway would send an admin; the first replica unless told."""
        app = self.replica_apps[name][replica] if replica else self.service_apps[name]
        transport = httpx.ASGITransport(app=app)
        headers = principal_headers(TEST_ADMIN, app.state.settings.internal_secret)
        return httpx.AsyncClient(transport=transport, base_url=f"http://{name}", headers=headers)


def tonight() -> tuple[str, str]:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return today.isoformat(), (today + timedelta(days=1)).isoformat()


async def stay_one_night(client: httpx.AsyncClient, name: str, email: str) -> dict[str, Any]:
    """Book tonight, confirm, check in with a deposit that covers the bill, check out today."""
    check_in, check_out = tonight()
    body = {
        "guest": {"name": name, "email": email, "language": "en"},
        "room_type_code": "KNG",
        "check_in": check_in,
        "check_out": check_out,
        "guests": 1,
    }
    created = await client.post(
        "/api/v1/reservations", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert created.status_code == 201, created.text
    base = f"/api/v1/reservations/{created.json()['id']}"
    assert (await client.post(f"{base}/confirm")).status_code == 200
    assert (await client.post(f"{base}/assign-room")).status_code == 200
    deposit = {"amount": 200_000, "method": "cash"}
    checked_in = await client.post(
        f"{base}/check-in", json={"id_verification": ID, "deposit": deposit}
    )
    assert checked_in.status_code == 200, checked_in.text
    out = await client.post(f"{base}/check-out")
    assert out.status_code == 200, out.text
    return dict(out.json())
