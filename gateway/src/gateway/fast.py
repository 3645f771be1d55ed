"""The proxied calls' short way through the gateway app.

Nearly every request the gateway serves is proxied. Through the framework it would pass
FastAPI's router, which tries every route ahead of the proxy's catch-all (the identity and
docs routes: ~40% of the gateway's CPU per call, measured with cProfile), and the exception
and body-limit layers, which have nothing to do for it. `Gateway` sends such a request
straight through the same edge middleware (request id, security headers, CORS, admission,
the audit of staff cancellations) to the proxy; everything else goes the framework's way.

Which requests: an HTTP request under /api/v1/ with a method the proxy route takes, whose
path does not start with the static part of any route ahead of the catch-all (so a path the
router might serve otherwise is always left to the router: a false "no" only costs time).
"""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import Authenticate
from gateway.identity.bodies import IDENTITY_PREFIXES, BoundedIdentityBodies
from gateway.identity.idempotent import OwnWritesIdempotency
from gateway.proxy import Proxy

PROXIED_PREFIX = "/api/v1/"
# Middleware that lets a proxied request pass untouched: the identity routes' body bound
# and idempotency (their paths never take the short way), and authentication, which
# admission has done already (it leaves the principal in the scope, and Authenticate then
# passes). Everything else the app was given runs on the short way too, in the same order.
PASSED_BY = (BoundedIdentityBodies, Authenticate, OwnWritesIdempotency)


def _literals(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, bool]]:
    """Every route's path up to its first parameter, and whether more may follow (a
    parameter or a mount). ("", True) for a route of a kind not known here: any path."""
    for route in routes:
        context = getattr(route, "include_context", None)  # FastAPI's included router
        if context is not None:
            inner = context.included_router.routes
            yield from _literals(inner, prefix + context.prefix)
        elif isinstance(route, Route | Mount | APIRoute):
            literal, brace, _ = (prefix + route.path).partition("{")
            yield literal, bool(brace) or isinstance(route, Mount)
        else:
            yield "", True


class Gateway(FastAPI):
    _short: ASGIApp | None = None
    _methods: frozenset[str] = frozenset()
    _routed: tuple[str, ...] = ()

    def build_middleware_stack(self) -> ASGIApp:
        """Built with the framework's stack, once, when the app first serves."""
        stack = super().build_middleware_stack()
        self._short = self._build_short()
        return stack

    def _build_short(self) -> ASGIApp | None:
        routes = self.router.routes
        at = next(
            (i for i, r in enumerate(routes) if isinstance(r, Route) and isinstance(r.app, Proxy)),
            None,
        )
        # Telemetry (OpenTelemetry configured by start-up) wants every call: the framework's way.
        if at is None or self.root_path or self._native_telemetry.enabled():
            return None
        catch_all = routes[at]
        assert isinstance(catch_all, Route)
        if catch_all.path != PROXIED_PREFIX + "{path:path}":
            return None
        self._methods = frozenset(catch_all.methods or ())
        # Every other route, wherever it stands: what the router might prefer to the proxy.
        others = set(_literals(routes[:at] + routes[at + 1 :]))
        if any(open_ and PROXIED_PREFIX.startswith(p) for p, open_ in others):
            return None  # one of them could take any /api/v1 path
        # Kept as prefixes even when exact: "/api/v1/me/" and the like stay the router's.
        routed = {p for p, _ in others if p.startswith(PROXIED_PREFIX)}
        self._routed = tuple(sorted(routed | set(IDENTITY_PREFIXES)))
        # As FastAPI.build_middleware_stack, less what a proxied call has no use for.
        error_handler: Any = None
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
        app: ASGIApp = catch_all.app
        for cls, args, kwargs in reversed(self.user_middleware):
            if cls not in PASSED_BY:
                app = cls(app, *args, **kwargs)
        app = ExceptionTelemetryMiddleware(app)
        return ServerErrorMiddleware(app, handler=error_handler, debug=self.debug)

    def takes_short_way(self, scope: Scope) -> bool:
        if self._short is None or scope["type"] != "http":
            return False
        path: str = scope["path"]
        return (
            path.startswith(PROXIED_PREFIX)
            and not path.startswith(self._routed)
            and scope["method"] in self._methods
            and not scope.get("root_path")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.middleware_stack is None:  # a test may skip the lifespan: build on first call
            self.middleware_stack = self.build_middleware_stack()
        if self.takes_short_way(scope):
            scope["app"] = self
            assert self._short is not None
            await self._short(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
