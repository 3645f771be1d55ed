"""The gateway's edges, wired in one call: admission (authentication once, rate limits),
resilience around every upstream, CORS, security headers, the offline docs pages, the
documented merged OpenAPI document and `GET /api/v1/me/trips`.

`Settings` inherits `EdgeSettings`; `create_app` calls `install_edges(app, settings)` once,
after its own routes and middleware are added.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from hotel_common.middleware import RequestIdMiddleware
from pydantic import Field
from pydantic_settings import BaseSettings
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute

from gateway import docs, trips
from gateway.admission import Admission, Policy
from gateway.breaker import CircuitBreaker, ResilientUpstream
from gateway.headers import SecurityHeaders
from gateway.limits import Failover, LimitStore, MemoryStore, RedisStore
from gateway.upstream import Upstream


def _per_kind() -> dict[str, int]:
    return {"anonymous": 120, "booking": 120, "guest": 300, "partner": 1200, "staff": 1200}


class EdgeSettings(BaseSettings):
    # Rate limits, per `rate_limit_period` seconds. Buckets are shared by the gateway's
    # replicas through Redis when `redis_url` (env REDIS_URL) is set, in process otherwise.
    redis_url: str | None = None
    rate_limit_enabled: bool = True
    rate_limit_prefix: str = "hotel:ratelimit:"
    rate_limit_period: float = Field(60.0, gt=0)
    # Per caller: a principal of that kind by its id, anonymous callers by IP.
    rate_limits: dict[str, int] = Field(default_factory=_per_kind)
    rate_limit_ip: int = Field(2400, ge=1)  # every caller from one address, together
    rate_limit_auth: int = Field(10, ge=1)  # /api/v1/auth/* and failed credentials, per IP
    rate_limit_list_cost: int = Field(5, ge=1)  # a GET listing or searching a collection

    # One deadline for a request's whole time upstream (all attempts); each attempt gets its
    # route's timeout ("/api/v1/availability" or "GET /api/v1/reservations": seconds, longest
    # prefix wins) or `upstream_timeout`, cut to what is left.
    request_deadline: float = Field(15.0, gt=0)
    route_timeouts: dict[str, float] = Field(default_factory=dict)
    retry_attempts: int = Field(2, ge=0)  # more tries for GET/HEAD and POST + Idempotency-Key
    retry_backoff: float = Field(0.05, ge=0)  # seconds, doubled per attempt, full jitter
    breaker_failures: int = Field(5, ge=1)  # consecutive failures that open a service's breaker
    breaker_open_seconds: float = Field(10.0, gt=0)

    # Browser origins allowed to call the API (CORS), e.g. ["https://app.hotel.example"].
    cors_origins: list[str] = Field(default_factory=list)
    # Where integrators reach the API (OpenAPI `servers`); "/" means wherever the docs came from.
    public_urls: list[str] = Field(default_factory=lambda: ["/"])


# Headers a browser script may read from a cross-origin answer.
EXPOSED = (
    "location",
    "retry-after",
    "x-request-id",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-policy",
)


def limit_store(settings: EdgeSettings) -> LimitStore:
    if settings.redis_url:
        return RedisStore(settings.redis_url, settings.rate_limit_prefix)
    return MemoryStore()


def resilient(upstream: Upstream, settings: EdgeSettings) -> ResilientUpstream:
    return ResilientUpstream(
        upstream,
        deadline=settings.request_deadline,
        route_timeouts=settings.route_timeouts,
        retries=settings.retry_attempts,
        backoff=settings.retry_backoff,
        breaker=CircuitBreaker(settings.breaker_failures, settings.breaker_open_seconds),
    )


def _inner_of_request_id(app: FastAPI, middleware: list[Middleware]) -> None:
    """Add `middleware` (outermost first) just inside RequestIdMiddleware, so their answers
    carry the request id whichever order create_app added things in."""
    stack = app.user_middleware
    at = next((i + 1 for i, m in enumerate(stack) if m.cls is RequestIdMiddleware), 0)
    stack[at:at] = middleware


def _first(app: FastAPI, routes: list[BaseRoute]) -> None:
    """Put `routes` ahead of the proxy's catch-all."""
    for route in routes:
        app.router.routes.remove(route)
    app.router.routes[0:0] = routes


def install_edges(app: FastAPI, settings: Any) -> None:
    """Wire the edges into the gateway app; `settings` is the gateway's `Settings`."""
    edge: EdgeSettings = settings
    upstreams: dict[str, Upstream] = app.state.upstreams
    for name, upstream in list(upstreams.items()):  # the same dict the lifespan closes
        upstreams[name] = resilient(upstream, edge)

    store = limit_store(edge)
    app.state.limit_store = store
    limiter = store if isinstance(store, MemoryStore) else Failover(store)
    policy = Policy(
        edge.rate_limits,
        edge.rate_limit_ip,
        edge.rate_limit_auth,
        edge.rate_limit_list_cost,
        edge.rate_limit_period,
    )
    cors = [
        Middleware(
            CORSMiddleware,
            allow_origins=edge.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "x-api-key", "content-type", "idempotency-key"],
            expose_headers=[*EXPOSED],
            max_age=600,
        )
    ]
    _inner_of_request_id(
        app,
        [
            Middleware(SecurityHeaders),
            *(cors if edge.cors_origins else []),  # none configured: no cross-origin caller
            Middleware(Admission, policy=policy, store=limiter, enabled=edge.rate_limit_enabled),
        ],
    )

    before = list(app.router.routes)
    app.include_router(trips.router)
    docs.install(app)
    _first(app, [r for r in app.router.routes if r not in before])

    app.state.openapi.app = app
    app.state.openapi.servers = [{"url": url} for url in edge.public_urls]
    hosted = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        try:
            async with hosted(app) as state:
                yield state
        finally:
            await store.aclose()

    app.router.lifespan_context = lifespan
