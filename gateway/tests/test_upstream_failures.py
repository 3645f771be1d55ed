"""Real HTTP upstreams, and what a client sees when a service is down, slow or broken."""

import asyncio
import time

from fastapi import FastAPI
from gateway.config import Settings
from gateway.main import create_app
from gateway.upstream import AsgiUpstream, HttpUpstream, Upstream
from hotel_common.testing import running
from starlette.types import Receive, Scope, Send

RESERVATIONS = "reservation-service"


def gateway(upstream: Upstream) -> FastAPI:
    return create_app(Settings(log_json=False), {upstream.name: upstream})


def assert_problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == code
    assert RESERVATIONS in body["detail"]
    assert body["service"] == RESERVATIONS
    assert body["request_id"] == r.headers["x-request-id"]
    return body


async def test_http_upstream_carries_requests_and_answers(echo, http_server) -> None:
    async with (
        http_server(echo(RESERVATIONS)) as url,
        running(gateway(HttpUpstream(RESERVATIONS, url))) as client,
    ):
        got = await client.get("/api/v1/rooms/7?view=full", headers={"X-Request-ID": "r-1"})
        made = await client.post("/api/v1/rooms/created", json={"number": "42"})
        echoed = await client.put("/api/v1/rooms/7", content=b"raw \x00 bytes")
        missing = await client.get("/api/v1/rooms/missing")

    assert got.status_code == 200
    assert got.headers["x-request-id"] == "r-1"
    assert "server" not in got.headers  # the gateway's server names itself, once
    seen = got.json()
    assert seen["query"] == "view=full"
    assert seen["headers"]["x-request-id"] == "r-1"
    assert seen["headers"]["host"] == url.removeprefix("http://")
    assert seen["headers"]["user-agent"].startswith("python-httpx")  # the client's, not aiohttp's
    assert made.status_code == 201
    assert made.headers.get_list("set-cookie") == [
        "a=1; Path=/; SameSite=lax",
        "b=2; Path=/; SameSite=lax",
    ]
    assert echoed.json()["body"] == "raw \x00 bytes"
    assert missing.status_code == 404
    assert missing.json()["code"] == "room_not_found"


async def test_a_refused_connection_is_a_503_naming_the_service(http_server) -> None:
    async with http_server(FastAPI()) as url:
        pass  # the port is closed again
    async with running(gateway(HttpUpstream(RESERVATIONS, url))) as client:
        r = await client.post("/api/v1/reservations", json={"room_type": "deluxe"})
    assert_problem(r, 503, "service_unavailable")


async def test_a_slow_service_is_a_504_in_about_its_timeout(echo, http_server) -> None:
    async with http_server(echo(RESERVATIONS)) as url:
        upstream = HttpUpstream(RESERVATIONS, url, timeout=0.3)
        async with running(gateway(upstream)) as client:
            started = time.monotonic()
            r = await client.get("/api/v1/rooms/slow")
            elapsed = time.monotonic() - started
            after = await client.get("/api/v1/rooms/1")  # the pool is still usable
    assert_problem(r, 504, "upstream_timeout")
    assert 0.3 <= elapsed < 1.5
    assert after.status_code == 200


async def test_a_slow_in_process_service_is_a_504_too(echo) -> None:
    upstream = AsgiUpstream(RESERVATIONS, echo(RESERVATIONS), timeout=0.3)
    async with running(gateway(upstream)) as client:
        started = time.monotonic()
        r = await client.get("/api/v1/rooms/slow")
        elapsed = time.monotonic() - started
    assert_problem(r, 504, "upstream_timeout")
    assert elapsed < 1.5


async def test_a_connection_cut_mid_request_is_a_502_not_a_500() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with (
        server,
        running(gateway(HttpUpstream(RESERVATIONS, f"http://127.0.0.1:{port}"))) as c,
    ):
        r = await c.post("/api/v1/reservations", json={})
    assert_problem(r, 502, "bad_gateway")


async def test_an_app_that_fails_before_answering_is_a_502() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async with running(gateway(AsgiUpstream(RESERVATIONS, broken))) as client:
        r = await client.get("/api/v1/rooms")
    assert_problem(r, 502, "bad_gateway")


async def test_a_gateway_side_bug_still_answers_as_a_gateway() -> None:
    class Faulty(AsgiUpstream):
        async def forward(self, *args, **kwargs):
            raise KeyError("oops")

    async with running(gateway(Faulty(RESERVATIONS, FastAPI()))) as client:
        r = await client.get("/api/v1/rooms")
    assert_problem(r, 502, "bad_gateway")


async def test_work_an_app_does_after_answering_does_not_delay_the_answer() -> None:
    finished: list[str] = []

    async def answers_then_works(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"accepted"})
        await asyncio.sleep(0.5)
        finished.append("background work")

    upstream = AsgiUpstream(RESERVATIONS, answers_then_works, timeout=0.2)
    async with running(gateway(upstream)) as client:
        r = await client.post("/api/v1/reservations")
        assert r.status_code == 202
        assert finished == []
    assert finished == ["background work"]  # the gateway's shutdown let it finish
