"""Adversarial tests of the gateway's short way for proxied calls (gateway.fast, issue 16).

Requests are sent as raw ASGI calls (as uvicorn would pass them: `path` percent-decoded,
`raw_path` as sent, dot segments kept; httpx would normalise them away), each once on the
short way and once on the framework's way (the short way switched off), and the two answers
must be the same. A gateway-owned path must never reach a service; every proxied answer keeps
the edges (security headers, rate limits, a signed principal, the staff-cancellation audit).
"""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from gateway.fast import Gateway
from gateway.identity.testing import bearer, settings_for, staff_token
from gateway.main import create_app
from gateway.upstream import AsgiUpstream, Upstream
from hotel_common.principal import HEADER, Kind, Principal, Role, signed_header, verify
from hotel_common.testing import running, scratch_url

from gateway import registry

Answer = tuple[int, dict[str, str], bytes]


class Gw:
    def __init__(self, app: Gateway, settings: Any) -> None:
        self.app = app
        self.settings = settings

    async def call(
        self,
        method: str,
        raw: bytes,
        headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
        body: bytes = b"",
        *,
        short: bool = True,
        ip: str = "10.1.1.1",
    ) -> Answer:
        raw_path, _, query = raw.partition(b"?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(raw_path.decode("ascii")),  # as uvicorn does
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": [(b"host", b"gw"), (b"x-request-id", b"adv-rid"), *headers],
            "client": (ip, 5000),
            "server": ("gw", 80),
            "state": {},
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status = 0
        out: dict[str, str] = {}
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out.update({k.decode(): v.decode() for k, v in message.get("headers", [])})
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        if self.app.middleware_stack is None:
            self.app.middleware_stack = self.app.build_middleware_stack()
        kept = self.app._short
        if not short:
            self.app._short = None
        try:
            await self.app(scope, receive, send)  # type: ignore[arg-type]
        finally:
            self.app._short = kept
        return status, out, b"".join(chunks)


@pytest.fixture
async def gw(tmp_path: Path, echo: Any) -> AsyncIterator[Gw]:
    settings = settings_for(scratch_url("sqlite", tmp_path, "gateway"), rate_limit_ip=100_000)
    names = sorted({s for s in registry.routes().values()})
    upstreams: dict[str, Upstream] = {n: AsgiUpstream(n, echo(n)) for n in names}
    app = create_app(settings, upstreams, identity=True)
    assert isinstance(app, Gateway)
    async with running(app, principal=None):
        made = Gw(app, settings)
        await made.call("GET", b"/health/live")  # builds the stacks
        assert app._short is not None  # the short way is on in this gateway
        yield made


def _reached_a_service(answer: Answer) -> bool:
    return "x-served-by" in answer[1]


def _comparable(answer: Answer) -> tuple[int, dict[str, str], bytes]:
    status, headers, body = answer
    varying = {"ratelimit-remaining", "ratelimit-reset", "date", "x-request-id"}
    return status, {k: v for k, v in headers.items() if k not in varying}, body


OWN = [
    b"/api/v1/auth/token",
    b"/api/v1/staff-users",
    b"/api/v1/partners",
    b"/api/v1/audit",
    b"/api/v1/me",
    b"/api/v1/me/trips",
]
TRICKS = [
    lambda p: p,
    lambda p: p + b"/",
    lambda p: p + b"?x=1",
    lambda p: p.replace(b"/api/v1/", b"/api/v1//"),
    lambda p: p.replace(b"/api/v1/", b"/api/v1/./"),
    lambda p: p.replace(b"/api/v1/", b"/api/v1/rooms/../"),
    lambda p: p.replace(b"/api/v1/", b"/api/v1/rooms/%2e%2e/"),
    lambda p: p.replace(b"/api/v1/", b"/api/v1/rooms%2F..%2F"),
    lambda p: p.replace(b"/api/v1/", b"/api/v1/%2e/"),
    lambda p: b"/api/v1/%" + p[8:9].hex().upper().encode() + p[9:],  # first letter encoded
    lambda p: p.replace(b"/api/v1/", b"/api%2Fv1/"),
    lambda p: p.replace(b"/api/v1/", b"/api/v1%2F"),
    lambda p: p.upper(),
    lambda p: p[:8] + p[8:].upper(),
    lambda p: p + b"/%2e%2e",
    lambda p: p + b"%00",
    lambda p: p + b"%C3%A9",
]


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "POST", "DELETE"])
async def test_no_trick_takes_a_gateway_owned_path_to_a_service_or_another_way(
    gw: Gw, method: str
) -> None:
    admin = staff_token(gw.settings)
    auth = [(b"authorization", f"Bearer {admin}".encode())]
    for own in OWN:
        for trick in TRICKS:
            raw = trick(own)
            short = await gw.call(method, raw, auth)
            framework = await gw.call(method, raw, auth, short=False)
            where = f"{method} {raw!r}"
            assert _comparable(short) == _comparable(framework), where
            # A service saw it only if it decodes to a path a service owns (and no dot
            # segment), never one of the gateway's own.
            if _reached_a_service(short):
                seen = unquote(raw.partition(b"?")[0].decode())
                assert not any(seen.startswith(o.decode()) for o in OWN), where
            assert short[1].get("x-frame-options") == "DENY", where


@pytest.mark.parametrize(
    "raw",
    [
        b"/api/v1/rooms/7",
        b"/api/v1/rooms//7",
        b"/api/v1/rooms/./7",
        b"/api/v1/rooms/%2e/7",
        b"/api/v1/rooms%2F7",
        b"/api/v1/ROOMS/7",
        b"/api/v1/rooms/7/",
        b"/api/v1/rooms/%C3%A9?q=%2F..%2F",
        b"/api/v1/",
        b"/api/v1",
        b"/api/v1/nothing",
    ],
)
async def test_a_proxied_path_is_answered_the_same_on_both_ways(gw: Gw, raw: bytes) -> None:
    for method in ("GET", "HEAD", "POST", "OPTIONS"):
        short = await gw.call(method, raw)
        framework = await gw.call(method, raw, short=False)
        assert _comparable(short) == _comparable(framework), (method, raw)
        assert short[1].get("x-frame-options") == "DENY"


async def test_a_client_sent_principal_is_never_passed_on(gw: Gw) -> None:
    forged = signed_header(
        Principal(id="staff:evil", kind=Kind.STAFF, roles=frozenset({Role.ADMIN})),
        gw.settings.internal_secret,  # even one signed with the right secret
    )
    headers = [(HEADER.encode(), forged.encode())]
    headers += [(b"X-Principal", b"raw-case"), (b"connection", b"x-principal")]
    for short in (True, False):
        status, _, body = await gw.call("GET", b"/api/v1/rooms/7", headers, short=short)
        assert status == 200
        seen = json.loads(body)["headers"]
        signed = seen[HEADER.lower()]
        assert verify(signed, gw.settings.internal_secret).kind is Kind.ANONYMOUS


async def test_rate_limits_count_on_the_short_way(tmp_path: Path, echo: Any) -> None:
    settings = settings_for(
        scratch_url("sqlite", tmp_path, "gateway"), rate_limits={"anonymous": 3}
    )
    name = "reservation-service"
    app = create_app(settings, {name: AsgiUpstream(name, echo(name))}, identity=True)
    assert isinstance(app, Gateway)
    async with running(app, principal=None):
        gw = Gw(app, settings)
        await gw.call("GET", b"/health/live")
        assert app._short is not None
        statuses = [(await gw.call("GET", b"/api/v1/rooms/7"))[0] for _ in range(3)]
        statuses.append((await gw.call("HEAD", b"/api/v1/rooms/7"))[0])
        statuses.append((await gw.call("GET", b"/api/v1//rooms/7"))[0])
        assert statuses == [200, 200, 200, 429, 429]


async def test_a_staff_cancellation_on_the_short_way_is_audited(gw: Gw) -> None:
    token = staff_token(gw.settings, user_id="cancels")
    auth = list({k.lower().encode(): v.encode() for k, v in bearer(token).items()}.items())
    status, _, _ = await gw.call("POST", b"/api/v1/reservations/R-9/cancel", auth)
    assert status == 200
    # A path the service would take as the same cancellation, spelled differently.
    status, _, _ = await gw.call("POST", b"/api/v1/reservations/R%2D8/cancel", auth)
    assert status == 200
    admin = list(
        {
            k.lower().encode(): v.encode() for k, v in bearer(staff_token(gw.settings)).items()
        }.items()
    )
    status, _, body = await gw.call("GET", b"/api/v1/audit?action=reservation.cancel", admin)
    assert status == 200, body
    targets = sorted(
        e["target"] for e in json.loads(body)["items"] if e["action"] == "reservation.cancel"
    )
    assert targets == ["R-8", "R-9"]


async def test_a_chunked_body_without_length_and_a_huge_header_are_bounded(gw: Gw) -> None:
    limit = gw.settings.max_body_bytes
    chunked = [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")]
    for short in (True, False):
        status, headers, _ = await gw.call(
            "POST", b"/api/v1/reservations", chunked, b"x" * (limit + 1), short=short
        )
        assert status == 413 and headers.get("x-frame-options") == "DENY"
        status, _, _ = await gw.call("POST", b"/api/v1/reservations", chunked, b"{}", short=short)
        assert status == 200
