"""The gateway app: the one public entry in front of the services.

`uvicorn --factory gateway.main:create_app` serves it over HTTP upstreams from the environment;
embedded mode passes in-process upstreams and the service apps whose lifespans it hosts.
"""

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from hotel_common.errors import install_problem_handlers
from hotel_common.logging import setup_logging
from hotel_common.middleware import RequestIdMiddleware

from gateway import health, openapi
from gateway.config import Settings
from gateway.proxy import METHODS, proxy
from gateway.upstream import HttpUpstream, Upstream

log = logging.getLogger(__name__)

TITLE = "Hotel guest platform API"
VERSION = "1.0.0"


def http_upstreams(settings: Settings) -> dict[str, Upstream]:
    return {
        name: HttpUpstream(
            name,
            url,
            timeout=settings.upstream_timeout,
            connect_timeout=settings.connect_timeout,
            ready_timeout=settings.ready_timeout,
            max_connections=settings.max_connections,
        )
        for name, url in settings.upstream_urls().items()
    }


def create_app(
    settings: Settings | None = None,
    upstreams: dict[str, Upstream] | None = None,
    *,
    hosted_apps: Sequence[FastAPI] = (),
) -> FastAPI:
    """Build the gateway. `hosted_apps` (embedded mode) start and stop with it, in order."""
    settings = settings or Settings()
    upstreams = http_upstreams(settings) if upstreams is None else upstreams

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_logging("gateway", settings.log_level, settings.log_json)
        async with AsyncExitStack() as stack:
            for hosted in hosted_apps:
                await stack.enter_async_context(hosted.router.lifespan_context(hosted))
            # Registered last, so upstreams close (finishing in-flight work) before services stop.
            for upstream in upstreams.values():
                stack.push_async_callback(upstream.aclose)
            log.info("gateway started", extra={"upstreams": list(upstreams)})
            yield

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        lifespan=lifespan,
        openapi_url=None,  # served merged by gateway.openapi instead
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.upstreams = upstreams
    app.state.openapi = openapi.MergedOpenApi(upstreams, TITLE, VERSION)
    install_problem_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    # First: nearly every request takes it, and it shares no path with the routes below.
    app.router.add_route("/api/v1/{path:path}", proxy, methods=METHODS, include_in_schema=False)
    app.include_router(health.router)
    app.include_router(openapi.router)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
