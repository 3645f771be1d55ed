"""Proxied calls take the short way past the framework's router (gateway.fast); the gateway's
own routes, and any path one of them might serve, keep the framework's way."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from gateway.admission import Policy
from gateway.config import Settings
from gateway.fast import Gateway
from gateway.identity.authenticator import IdentityAuthenticator
from gateway.identity.keys import KeyCache
from gateway.main import create_app
from gateway.upstream import AsgiUpstream
from hotel_common.principal import Kind, Principal
from hotel_common.testing import running
from httpx import AsyncClient
from starlette.types import ASGIApp, Receive, Scope, Send

RESERVATIONS = "reservation-service"


class Counting:
    """Counts the calls reaching the framework's middleware stack (router included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls.append(scope["path"])
        await self.app(scope, receive, send)


async def gateway(echo: Any, extra_route: str | None = None) -> AsyncIterator[Any]:
    app = create_app(
        Settings(log_json=False), {RESERVATIONS: AsgiUpstream(RESERVATIONS, echo(RESERVATIONS))}
    )
    if extra_route is not None:

        @app.get(extra_route)
        async def own() -> dict[str, str]:
            return {"served_by": "gateway"}

        app.router.routes.insert(0, app.router.routes.pop())  # ahead of the catch-all

    async with running(app) as client:
        assert isinstance(app, Gateway)
        framework = Counting(app.build_middleware_stack())
        app.middleware_stack = framework
        yield app, client, framework


@pytest.fixture
async def short(echo: Any) -> AsyncIterator[tuple[Gateway, AsyncClient, Counting]]:
    async for made in gateway(echo):
        yield made


async def test_a_proxied_call_skips_the_framework_and_keeps_every_edge(short: Any) -> None:
    _app, client, framework = short
    answer = await client.get("/api/v1/rooms/7?x=1", headers={"x-request-id": "rid-1"})
    assert answer.status_code == 200
    assert answer.json()["path"] == "/api/v1/rooms/7"
    assert answer.json()["headers"]["x-principal"]  # signed for the service
    # The edges all ran: request id, rate limits, security headers.
    assert answer.headers["x-request-id"] == "rid-1"
    assert "ratelimit-limit" in answer.headers
    assert answer.headers["x-frame-options"] == "DENY"
    assert framework.calls == []


async def test_the_gateways_own_routes_and_unproxied_paths_keep_the_framework(short: Any) -> None:
    _app, client, framework = short
    await client.get("/api/v1/me/trips")  # its own route
    assert (await client.get("/health/live")).status_code == 200
    assert (await client.request("TRACE", "/api/v1/rooms/7")).status_code == 405
    assert framework.calls == ["/api/v1/me/trips", "/health/live", "/api/v1/rooms/7"]


async def test_a_route_under_a_proxied_prefix_is_served_by_the_route(echo: Any) -> None:
    async for _app, client, framework in gateway(echo, "/api/v1/rooms/special/{n}"):
        answer = await client.get("/api/v1/rooms/special/3")
        assert answer.json() == {"served_by": "gateway"}
        assert (await client.get("/api/v1/rooms/7")).json()["path"] == "/api/v1/rooms/7"
        # Conservative: everything under the route's literal start goes the framework's way.
        assert framework.calls == ["/api/v1/rooms/special/3"]


async def test_a_route_that_could_take_any_api_path_turns_the_short_way_off(echo: Any) -> None:
    async for _app, client, framework in gateway(echo, "/api/{version}/anything"):
        assert (await client.get("/api/v1/rooms/7")).status_code == 200
        assert framework.calls == ["/api/v1/rooms/7"]


def test_a_plain_fastapi_app_is_not_a_gateway() -> None:
    assert not isinstance(FastAPI(), Gateway)


async def test_callers_principals_are_made_once_per_credential_and_address() -> None:
    auth = IdentityAuthenticator(Settings(log_json=False), KeyCache())
    first = auth.identify(None, None, "10.0.0.1")
    assert first.kind is Kind.ANONYMOUS and first.ip == "10.0.0.1"
    assert auth.identify(None, None, "10.0.0.1") is first
    other = auth.identify(None, None, "10.0.0.2")
    assert other.ip == "10.0.0.2" and other is not first


def test_a_callers_buckets_are_built_once() -> None:
    policy = Policy({"staff": 7}, ip_ceiling=50, auth_per_ip=3, list_cost=5)
    staff = Principal(id="staff:1", kind=Kind.STAFF)
    buckets = policy.buckets("/api/v1/rooms", "10.0.0.1", staff)
    assert [(b.key, b.limit) for b in buckets] == [("who:staff:1", 7), ("ip:10.0.0.1", 50)]
    assert policy.buckets("/api/v1/rooms/2", "10.0.0.1", staff) is buckets
    auth = policy.buckets("/api/v1/auth/token", "10.0.0.1", staff)
    assert [(b.key, b.limit) for b in auth] == [("auth:10.0.0.1", 3), ("ip:10.0.0.1", 50)]
    anonymous = policy.buckets("/api/v1/rooms", "10.0.0.2", Principal(id="a", kind=Kind.ANONYMOUS))
    assert [(b.key, b.limit) for b in anonymous] == [("anon:10.0.0.2", 50), ("ip:10.0.0.2", 50)]
