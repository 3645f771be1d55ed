"""The catch-all route: every /api/v1 request goes, as it came, to the service that owns it."""

import asyncio
import logging
import math

from hotel_common import context, principal
from hotel_common.errors import ProblemError, problem
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.breaker import CircuitOpen
from gateway.routes import resolve
from gateway.upstream import (
    Upstream,
    UpstreamError,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)

log = logging.getLogger(__name__)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Meaningful for one connection only (RFC 9110 7.6.1), plus what the gateway sets itself.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
REQUEST_DROPPED = HOP_BY_HOP | {
    b"host",
    b"content-length",
    b"x-request-id",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    principal.HEADER.encode(),  # only the gateway vouches for a caller
    # The caller's credentials stay at the gateway: services trust X-Principal alone, and a
    # service that logs or echoes headers cannot leak a key or token.
    b"authorization",
    b"x-api-key",
}
# The gateway's own server writes Date and Server; passing the service's would send them twice.
RESPONSE_DROPPED = HOP_BY_HOP | {b"content-length", b"x-request-id", b"date", b"server"}
NO_BODY_STATUSES = frozenset({204, 304})


def _named_by_connection(headers: list[tuple[bytes, bytes]]) -> set[bytes]:
    """Headers a `Connection: a, b` header marks as hop-by-hop too."""
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }


def request_headers(
    scope: Scope, body: bytes, signed_principal: str = ""
) -> list[tuple[bytes, bytes]]:
    """The client's end-to-end headers plus the gateway's X-Forwarded-*, X-Request-ID and the
    signed X-Principal."""
    raw: list[tuple[bytes, bytes]] = scope["headers"]  # ASGI: names already lower-case
    seen = dict(raw)
    dropped = REQUEST_DROPPED
    if b"connection" in seen:
        dropped = dropped | _named_by_connection(raw)
    out = [(name, value) for name, value in raw if name not in dropped]
    if body or b"content-length" in seen:  # the body is whole now, even if it came chunked
        out.append((b"content-length", str(len(body)).encode()))
    forwarded_for = seen.get(b"x-forwarded-for")
    if client := scope.get("client"):
        ip = client[0].encode("latin-1")
        forwarded_for = forwarded_for + b", " + ip if forwarded_for else ip
    if forwarded_for:
        out.append((b"x-forwarded-for", forwarded_for))
    out.append((b"x-forwarded-proto", scope.get("scheme", "http").encode("latin-1")))
    if host := seen.get(b"host"):
        out.append((b"x-forwarded-host", host))
    # RequestIdMiddleware has taken the client's id or made one; the service logs the same id.
    out.append((b"x-request-id", (context.request_id.get() or "").encode("latin-1")))
    if signed_principal:
        out.append((principal.HEADER.encode(), signed_principal.encode("ascii")))
    return out


def response_headers(
    headers: list[tuple[bytes, bytes]], method: str, status: int, body: bytes
) -> list[tuple[bytes, bytes]]:
    dropped = RESPONSE_DROPPED | _named_by_connection(headers)
    if method == "HEAD":
        dropped = dropped - {b"content-length"}  # describes the GET body that was not sent
    out = [(name, value) for name, value in headers if name.lower() not in dropped]
    if method != "HEAD" and status >= 200 and status not in NO_BODY_STATUSES:
        out.append((b"content-length", str(len(body)).encode()))
    return out


UNAVAILABLE_RETRY_AFTER = 1  # seconds a client waits after a 503 for an unreachable service


def failure_response(exc: UpstreamError) -> Response:
    if isinstance(exc, CircuitOpen):
        wait = max(1, math.ceil(exc.retry_after))
        answer = problem(
            503,
            "circuit_open",
            f"{exc.service} is failing; the gateway stops calling it for {wait} s.",
            service=exc.service,
        )
        answer.headers["retry-after"] = str(wait)
        return answer
    if isinstance(exc, UpstreamUnavailable):
        answer = problem(
            503,
            "service_unavailable",
            f"{exc.service} is unavailable ({exc.reason}); try again shortly.",
            service=exc.service,
        )
        answer.headers["retry-after"] = str(UNAVAILABLE_RETRY_AFTER)
        return answer
    if isinstance(exc, UpstreamTimeout):
        return problem(
            504, "upstream_timeout", f"{exc.service} did not answer in time.", service=exc.service
        )
    return problem(502, "bad_gateway", f"{exc.service} failed ({exc.reason}).", service=exc.service)


class BodyRefused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The whole body, bounded: a declared length above `limit` is refused before reading,
    a chunked one as soon as its count passes it, one that stalls after `timeout` seconds."""
    headers = request.headers
    declared = headers.get("content-length")
    if declared is None and "transfer-encoding" not in headers:
        return b""  # no body announced (most GETs): nothing to wait for

    def too_large() -> BodyRefused:
        return BodyRefused(
            problem(
                413,
                "request_too_large",
                f"The request body is larger than {limit} bytes.",
                limit=limit,
            )
        )

    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large()
                chunks.append(chunk)
    except TimeoutError as exc:
        raise BodyRefused(
            problem(408, "request_timeout", f"The request body did not arrive in {timeout:g} s.")
        ) from exc
    return b"".join(chunks)


def _announces_body(raw: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"content-length" or name == b"transfer-encoding" for name, _ in raw)


class Proxy:
    """Pure ASGI (no request/response objects, no dependency solving): every proxied request
    takes it. gateway.fast calls it behind the edges without the framework's routing; the
    catch-all route serves it too, for a path the fast path leaves to the router."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self.answer(scope, receive)
        if isinstance(answer, Response):
            await answer(scope, receive, send)
            return
        status, headers, body = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def answer(self, scope: Scope, receive: Receive) -> Response | UpstreamResponse:
        state = scope["app"].state
        path: str = scope["path"]
        service = resolve(path)
        if service is None:
            return problem(404, "not_found", f"No service serves {path}.")
        upstream: Upstream | None = state.upstreams.get(service)
        if upstream is None:
            return failure_response(UpstreamUnavailable(service, "not running in this gateway"))
        raw_path = scope.get("raw_path") or path.encode()
        target = raw_path.split(b"?", 1)[0].decode("latin-1")
        if query := scope.get("query_string"):
            target += "?" + query.decode("latin-1")
        method: str = scope["method"]
        settings = state.settings
        # gateway.admission has authenticated the caller already; without it, authenticate here.
        caller: principal.Principal | None = scope.get(principal.SCOPE_KEY)
        if caller is None:
            try:
                caller = await state.authenticator.authenticate(Request(scope, receive))
            except ProblemError as refused:
                return problem(refused.status, refused.code, refused.detail, **refused.extra)
            scope[principal.SCOPE_KEY] = caller
        signed = principal.signed_header(caller, settings.internal_secret)
        body = b""
        if _announces_body(scope["headers"]):
            try:
                body = await read_body(
                    Request(scope, receive), settings.max_body_bytes, settings.body_read_timeout
                )
            except BodyRefused as refused:
                return refused.response
        try:
            answer = await upstream.forward(
                method, target, request_headers(scope, body, signed), body
            )
        except UpstreamError as exc:
            log.warning("upstream failed: %s", exc, extra={"upstream": exc.service})
            return failure_response(exc)
        except Exception as exc:  # a gateway bug must still answer as a gateway
            log.exception("proxying to %s failed", service)
            return failure_response(UpstreamError(upstream.name, type(exc).__name__))
        headers = response_headers(answer.headers, method, answer.status, answer.body)
        return UpstreamResponse(answer.status, headers, answer.body)


proxy = Proxy()
