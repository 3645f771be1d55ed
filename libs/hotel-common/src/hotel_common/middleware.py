"""Request ids: taken from X-Request-ID or made, set for logs and events, echoed back; and one
access-log line per request carrying them (uvicorn's own access log knows neither)."""

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotel_common import context

REQUEST_ID = "x-request-id"
CORRELATION_ID = "x-correlation-id"
_REQUEST_ID = REQUEST_ID.encode()  # encoded once: this runs for every header of every answer
_CORRELATION_ID = CORRELATION_ID.encode()

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
        rid_raw = cid_raw = b""
        for key, value in scope["headers"]:  # ASGI header names are lower-case already
            if key == _REQUEST_ID:
                rid_raw = value
            elif key == _CORRELATION_ID:
                cid_raw = value
        rid = rid_raw.decode("latin-1")[:128] or str(uuid.uuid4())
        cid = cid_raw.decode("latin-1")[:128] or rid
        tokens = (context.request_id.set(rid), context.correlation_id.set(cid))
        service_token = context.service.set(self.service) if self.service else None
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = [(k, v) for k, v in message.get("headers", []) if k.lower() != _REQUEST_ID]
                out.append((_REQUEST_ID, rid.encode("latin-1")))
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
