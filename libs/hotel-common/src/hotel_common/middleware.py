"""Request ids: taken from X-Request-ID or made, set for logs and events, echoed back; and one
access-log line per request carrying them (uvicorn's own access log knows neither)."""

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotel_common import context

REQUEST_ID = "x-request-id"
CORRELATION_ID = "x-correlation-id"

access_log = logging.getLogger("hotel.access")


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it sits on every request's path."""

    def __init__(self, app: ASGIApp, service: str | None = None) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid = headers.get(REQUEST_ID.encode(), b"").decode("latin-1")[:128] or str(uuid.uuid4())
        cid = headers.get(CORRELATION_ID.encode(), b"").decode("latin-1")[:128] or rid
        tokens = (context.request_id.set(rid), context.correlation_id.set(cid))
        service_token = context.service.set(self.service) if self.service else None
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != REQUEST_ID.encode()
                ]
                out.append((REQUEST_ID.encode(), rid.encode("latin-1")))
                message["headers"] = out
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            context.request_id.reset(tokens[0])
            context.correlation_id.reset(tokens[1])
            if service_token is not None:
                context.service.reset(service_token)
