"""What the webhook tests share: partner-service on SQLite (or PostgreSQL) with short delays,
partners calling it, feed entries written the way the feed writes them, and a webhook receiver
on a loopback port of its own (behind a proxy a test can cut, to play a receiver that is down).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import ApiScope, Kind, Principal
from hotel_common.testing import TcpProxy, eventually, principal_headers, running, serving
from hotel_common.time import utcnow
from partner_service import feed
from partner_service.config import Settings
from partner_service.delivery import WAKE
from partner_service.main import create_app

from .conftest import new_partner_id


def partner(partner_id: str) -> Principal:
    # A key as the gateway issues them: with scopes (webhook changes need reservations:read).
    return Principal(
        id=f"partner:{partner_id}", kind=Kind.PARTNER, channel="ota", scopes=frozenset(ApiScope)
    )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    status: int


@dataclass
class Receiver:
    """Answers `statuses` in turn, then `status`; `delay` seconds before answering; `huge`:
    a 200 with an endless body; `redirect_to`: a 302 there."""

    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    huge: bool = False
    redirect_to: str | None = None
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    proxy: TcpProxy | None = None

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.status < 300]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path:path}")
        async def receive(path: str, request: Request) -> Response:
            body = await request.body()
            status = self.statuses.pop(0) if self.statuses else self.status
            if self.redirect_to is not None:
                status = 302
            headers = {k.lower(): v for k, v in request.headers.items()}
            if self.delay:
                await asyncio.sleep(self.delay)
            self.requests.append(Received("/" + path, headers, body, _json(body), status))
            if self.redirect_to is not None:
                return RedirectResponse(self.redirect_to, status_code=302)
            if self.huge:

                async def endless() -> AsyncIterator[bytes]:
                    while True:
                        yield b"x" * 65536
                        await asyncio.sleep(0)

                return StreamingResponse(endless(), status_code=status)
            return Response(b"ok", status_code=status)

        return app

    def event_ids(self, accepted_only: bool = True) -> list[str]:
        rows = self.accepted if accepted_only else self.requests
        return [r.json["id"] for r in rows]


def _json(body: bytes) -> Any:
    import json

    try:
        return json.loads(body)
    except ValueError:
        return None


@asynccontextmanager
async def receiving(receiver: Receiver | None = None) -> AsyncIterator[Receiver]:
    receiver = receiver or Receiver()
    async with serving(receiver.app(), lifespan="off") as base:
        port = int(base.rsplit(":", 1)[1])
        proxy = await TcpProxy("127.0.0.1", port).start()
        receiver.proxy = proxy
        receiver.url = f"http://127.0.0.1:{proxy.port}/hook"
        try:
            yield receiver
        finally:
            await proxy.close()


@dataclass
class Platform:
    app: FastAPI
    client: httpx.AsyncClient  # as `partner_id`
    partner_id: str
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def as_partner(self, partner_id: str) -> httpx.AsyncClient:
        if partner_id not in self.clients:
            self.clients[partner_id] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app),
                base_url="http://testserver",
                headers=principal_headers(
                    partner(partner_id), self.runtime.settings.internal_secret
                ),
            )
        return self.clients[partner_id]

    async def append(
        self,
        count: int = 1,
        *,
        partner_id: str | None = None,
        event_type: str = "reservation.confirmed",
    ) -> list[str]:
        """`count` feed entries for the partner (one transaction each); their event ids."""
        ids = []
        for _ in range(count):
            event_id = str(uuid.uuid4())
            async with self.runtime.sessions() as session:
                await feed.append(
                    session,
                    partner_id or self.partner_id,
                    event_id=event_id,
                    event_type=event_type,
                    occurred_at=utcnow(),
                    payload={"reservation_id": "r-1", "status": "confirmed"},
                    reservation_id="0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
                    on_commit=self.runtime.extras.get(WAKE),
                )
                await session.commit()
            ids.append(event_id)
        return ids

    async def subscribe(
        self, url: str, *, partner_id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        client = self.as_partner(partner_id) if partner_id else self.client
        body = {"event_types": ["*"], "contact_email": "ops@example-ota.com", **fields, "url": url}
        made = await client.post("/api/v1/webhook-subscriptions", json=body)
        assert made.status_code == 201, made.text
        answer: dict[str, Any] = made.json()
        return answer

    async def subscription(self, sub_id: str, partner_id: str | None = None) -> dict[str, Any]:
        client = self.as_partner(partner_id) if partner_id else self.client
        got = await client.get(f"/api/v1/webhook-subscriptions/{sub_id}")
        assert got.status_code == 200, got.text
        answer: dict[str, Any] = got.json()
        return answer

    async def deliveries(self, sub_id: str, partner_id: str | None = None) -> list[dict[str, Any]]:
        """The whole delivery log, oldest first."""
        client = self.as_partner(partner_id) if partner_id else self.client
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = await client.get(
                f"/api/v1/webhook-subscriptions/{sub_id}/deliveries", params=params
            )
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if not cursor:
                return items[::-1]


FAST: dict[str, Any] = {
    "environment": "development",
    "webhook_backoff_seconds": [0.05, 0.1, 0.2],
    "webhook_poll_seconds": 0.2,
    "webhook_timeout_seconds": 3.0,
    "webhook_connect_timeout_seconds": 1.0,
    "log_json": False,
}


@asynccontextmanager
async def platform(tmp_path: Any, **overrides: Any) -> AsyncIterator[Platform]:
    options: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/{uuid.uuid4().hex[:8]}.db",
        **FAST,
        **overrides,
    }
    broker = options.pop("broker", None) or InMemoryBroker()
    partner_id = new_partner_id()
    app = create_app(Settings(**options), broker=broker)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(running(app, principal=partner(partner_id)))
        found = Platform(app, client, partner_id)
        try:
            yield found
        finally:
            for other in found.clients.values():
                await other.aclose()


__all__ = ["Platform", "Receiver", "eventually", "platform", "receiving"]
