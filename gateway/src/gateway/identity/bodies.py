"""Request bodies of the identity routes, bounded before FastAPI reads them.

FastAPI reads a whole body into memory before any dependency runs, and the proxy's bound
(`max_body_bytes`) covers proxied requests only: without this an anonymous client could make
the gateway buffer any size of body on /api/v1/auth/*. Identity bodies are small (an email, a
password, a list of property ids), so the bound is tighter than the proxy's.
"""

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.proxy import BodyRefused, read_body

IDENTITY_PREFIXES = ("/api/v1/auth", "/api/v1/staff-users", "/api/v1/partners", "/api/v1/audit")
MAX_IDENTITY_BODY = 64 * 1024  # bytes; a staff user with a thousand properties is ~12 KB


class BoundedIdentityBodies:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(IDENTITY_PREFIXES):
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        limit = min(MAX_IDENTITY_BODY, settings.max_body_bytes)
        try:
            body = await read_body(Request(scope, receive), limit, settings.body_read_timeout)
        except BodyRefused as refused:
            await refused.response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: the client's disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
