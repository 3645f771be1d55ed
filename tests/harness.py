"""What the cross-service tests share: a handle on the running platform and a way to read
the guest's mail. (A module, not conftest: test files import it by name.)"""

from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx
from fastapi import FastAPI
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.rabbit import RabbitBus
from hotel_common.testing import TcpProxy, eventually

RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672/"


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

    def service(self, name: str) -> httpx.AsyncClient:
        """A client of one service's own operations endpoints (not exposed by the gateway)."""
        transport = httpx.ASGITransport(app=self.service_apps[name])
        return httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
