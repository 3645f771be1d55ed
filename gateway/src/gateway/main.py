"""The gateway app: the one public entry in front of the services.

`uvicorn --factory gateway.main:create_app` serves it over HTTP upstreams from the environment;
embedded mode passes in-process upstreams and the service apps whose lifespans it hosts.
With its identity store (gateway.identity) it authenticates callers and serves sign-in, staff
users, partners and their keys, and the audit log; without it (a test of the proxy alone)
every caller is anonymous.
"""

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse
from hotel_common import context
from hotel_common.errors import ProblemError, install_problem_handlers
from hotel_common.events.memory import InMemoryBroker
from hotel_common.logging import setup_logging
from hotel_common.middleware import RequestIdMiddleware
from hotel_common.service import start
from hotel_common.strict import reject_unknown_query

from gateway import dashboard, health, openapi
from gateway.auth import AnonymousOnly, Authenticate, Authenticator
from gateway.config import Settings
from gateway.edges import install_edges
from gateway.fast import Gateway
from gateway.identity import audit, partners, problems, signin, staff
from gateway.identity.authenticator import IdentityAuthenticator
from gateway.identity.bodies import BoundedIdentityBodies
from gateway.identity.idempotent import OwnWritesIdempotency
from gateway.identity.keys import KeyCache
from gateway.identity.store import identity_spec
from gateway.proxy import METHODS, proxy
from gateway.upstream import HttpUpstream, ReplicatedUpstream, Upstream

log = logging.getLogger(__name__)

TITLE = "Hotel guest platform API"
VERSION = openapi.API_VERSION  # the API's (semver): see gateway.openapi


def http_upstreams(settings: Settings) -> dict[str, Upstream]:
    """One upstream per service; a service with several URLs is spread over its replicas."""

    def one(name: str, url: str) -> HttpUpstream:
        return HttpUpstream(
            name,
            url,
            timeout=settings.upstream_timeout,
            connect_timeout=settings.connect_timeout,
            ready_timeout=settings.ready_timeout,
            max_connections=settings.max_connections,
        )

    upstreams: dict[str, Upstream] = {}
    for name, urls in settings.upstream_replicas().items():
        replicas = [one(name, url) for url in urls]
        upstreams[name] = replicas[0] if len(replicas) == 1 else ReplicatedUpstream(name, replicas)
    return upstreams


def create_app(
    settings: Settings | None = None,
    upstreams: dict[str, Upstream] | None = None,
    *,
    hosted_apps: Sequence[FastAPI] = (),
    authenticator: Authenticator | None = None,
    identity: bool | None = None,
    broker: InMemoryBroker | None = None,
) -> FastAPI:
    """Build the gateway. `hosted_apps` (embedded mode) start and stop with it, in order.

    `identity`: run the identity store (its database, settings.database_url) and authenticate
    callers with it; by default exactly when the upstreams come from the settings (a real
    gateway), so a test passing its own upstreams gets a proxy with anonymous callers only.
    `broker`: the in-memory broker of embedded mode, for the store's events (bus "memory").
    """
    settings = settings or Settings()
    with_identity = upstreams is None if identity is None else identity
    upstreams = http_upstreams(settings) if upstreams is None else upstreams
    keys = KeyCache()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_logging("gateway", settings.log_level, settings.log_json)
        async with AsyncExitStack() as stack:
            for hosted in hosted_apps:
                await stack.enter_async_context(hosted.router.lifespan_context(hosted))
            if with_identity:  # after the hosted services: their queues exist for its events
                token = context.service.set(settings.service_name)
                try:
                    await start(app, identity_spec(keys), settings, broker, stack)
                finally:
                    context.service.reset(token)
            # Registered last, so upstreams close (finishing in-flight work) before services stop.
            for upstream in upstreams.values():
                stack.push_async_callback(upstream.aclose)
            log.info("gateway started", extra={"upstreams": list(upstreams)})
            yield

    app = Gateway(
        title=TITLE,
        version=VERSION,
        lifespan=lifespan,
        openapi_url=None,  # served merged by gateway.openapi instead
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,  # stable operation ids
    )
    app.state.settings = settings
    app.state.upstreams = upstreams
    app.state.key_cache = keys
    default: Authenticator = (
        IdentityAuthenticator(settings, keys) if with_identity else AnonymousOnly()
    )
    app.state.authenticator = authenticator or default
    app.state.openapi = openapi.MergedOpenApi(upstreams, TITLE, VERSION)
    install_problem_handlers(app)
    app.add_exception_handler(ProblemError, problems.answer)  # with WWW-Authenticate, Retry-After
    if with_identity:  # innermost: it needs the principal Authenticate leaves in the scope
        app.add_middleware(
            OwnWritesIdempotency, engine=lambda: app.state.runtime.engine, settings=settings
        )
    app.add_middleware(audit.AuditStaffCancellations)
    app.add_middleware(Authenticate)
    app.add_middleware(BoundedIdentityBodies)
    app.add_middleware(RequestIdMiddleware)
    if with_identity:
        # Ahead of the proxy's catch-all below: the first route matching a path serves it.
        strict = [Depends(reject_unknown_query)]
        for router in (
            signin.router,
            signin.me_router,
            staff.router,
            partners.router,
            audit.router,
        ):
            app.include_router(router, dependencies=strict)
    # Nearly every request takes it, and it shares no path with the routes below.
    # `proxy` is pure ASGI (Starlette's Route calls an instance as an app, not an endpoint).
    app.router.add_route(
        "/api/v1/{path:path}",
        proxy,  # type: ignore[arg-type]
        methods=METHODS,
        include_in_schema=False,
    )
    app.include_router(health.router)
    app.include_router(openapi.router)
    if with_identity:  # staff sign in to it: no identity store, no dashboard
        dashboard.install(app)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    install_edges(app, settings)
    return app
