"""Real HTTP upstreams, and what a client sees when a service is down, slow or broken."""

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from gateway.config import Settings
from gateway.main import create_app
from gateway.upstream import AsgiUpstream, HttpUpstream, Upstream
from hotel_common.testing import assert_problem, running
from starlette.types import Receive, Scope, Send

RESERVATIONS = "reservation-service"


def gateway(upstream: Upstream) -> FastAPI:
    return create_app(Settings(log_json=False), {upstream.name: upstream})


def assert_upstream_problem(r, status: int, code: str) -> dict:
    """The gateway's own problem about the reservations upstream."""
    body = assert_problem(r, status, code)
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
    assert_upstream_problem(r, 503, "service_unavailable")


async def test_a_slow_service_is_a_504_in_about_its_timeout(echo, http_server) -> None:
    async with http_server(echo(RESERVATIONS)) as url:
        upstream = HttpUpstream(RESERVATIONS, url, timeout=0.3)
        async with running(gateway(upstream)) as client:
            started = time.monotonic()
            r = await client.get("/api/v1/rooms/slow")
            elapsed = time.monotonic() - started
            after = await client.get("/api/v1/rooms/1")  # the pool is still usable
    assert_upstream_problem(r, 504, "upstream_timeout")
    assert 0.3 <= elapsed < 1.5
    assert after.status_code == 200


async def test_a_slow_in_process_service_is_a_504_too(echo) -> None:
    upstream = AsgiUpstream(RESERVATIONS, echo(RESERVATIONS), timeout=0.3)
    async with running(gateway(upstream)) as client:
        started = time.monotonic()
        r = await client.get("/api/v1/rooms/slow")
        elapsed = time.monotonic() - started
    assert_upstream_problem(r, 504, "upstream_timeout")
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
    assert_upstream_problem(r, 502, "bad_gateway")


async def test_an_app_that_fails_before_answering_is_a_502() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async with running(gateway(AsgiUpstream(RESERVATIONS, broken))) as client:
        r = await client.get("/api/v1/rooms")
    assert_upstream_problem(r, 502, "bad_gateway")


async def test_a_gateway_side_bug_still_answers_as_a_gateway() -> None:
    class Faulty(AsgiUpstream):
        async def forward(self, *args, **kwargs):
            raise KeyError("oops")

    async with running(gateway(Faulty(RESERVATIONS, FastAPI()))) as client:
        r = await client.get("/api/v1/rooms")
    assert_upstream_problem(r, 502, "bad_gateway")


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


async def test_an_in_process_call_the_gateway_gives_up_on_still_finishes_whole() -> None:
    """Point 13: a timeout must not cut the service between its commit and what follows."""
    done: list[str] = []
    committed = asyncio.Event()

    async def commits_then_is_slow(scope: Scope, receive: Receive, send: Send) -> None:
        done.append("booking committed")
        committed.set()
        await asyncio.sleep(0.5)  # past the gateway's timeout
        done.append("answer recorded")  # e.g. the Idempotency-Key's stored answer
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    upstream = AsgiUpstream(RESERVATIONS, commits_then_is_slow, timeout=0.2)
    async with running(gateway(upstream)) as client:
        r = await client.post("/api/v1/reservations")
        assert_upstream_problem(r, 504, "upstream_timeout")
        assert committed.is_set()
        # Still running after the 504: it ends on its own, once, without being cancelled.
        await asyncio.wait_for(asyncio.gather(*upstream._calls), timeout=5)
    assert done == ["booking committed", "answer recorded"]


def counting_service() -> tuple[FastAPI, list[int]]:
    seen: list[int] = []
    app = FastAPI()

    @app.post("/api/v1/reservations")
    async def take(request: Request) -> dict[str, int]:
        seen.append(len(await request.body()))
        return {"bytes": seen[-1]}

    return app, seen


async def test_request_bodies_are_bounded_in_size_and_in_time() -> None:
    """Point 10: 413 above the limit (declared or counted), 408 when it stalls, no call made."""
    app, seen = counting_service()
    settings = Settings(log_json=False, max_body_bytes=1000, body_read_timeout=0.3)
    upstream = AsgiUpstream(RESERVATIONS, app)
    async with running(create_app(settings, {RESERVATIONS: upstream})) as client:
        fits = await client.post("/api/v1/reservations", content=b"x" * 1000)
        declared = await client.post("/api/v1/reservations", content=b"x" * 1001)

        async def chunked(stall: float = 0) -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"y" * 400
                await asyncio.sleep(stall)

        counted = await client.post("/api/v1/reservations", content=chunked())
        stalled = await client.post("/api/v1/reservations", content=chunked(stall=1))
    assert fits.status_code == 200 and fits.json() == {"bytes": 1000}
    for answer in (declared, counted):
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "request_too_large"
    assert stalled.status_code == 408, stalled.text
    assert stalled.json()["code"] == "request_timeout"
    assert seen == [1000]  # the refused ones never reached the service


async def test_replicas_share_the_requests_and_one_that_refuses_is_skipped(
    echo, http_server
) -> None:
    async with http_server(FastAPI()) as gone:
        pass  # a replica that is down: its port refuses connections
    async with (
        http_server(echo("replica-a")) as a,
        http_server(echo("replica-b")) as b,
    ):
        settings = Settings(
            log_json=False,
            upstreams={RESERVATIONS: f"{a}, {gone},{b}/"},
        )
        assert settings.upstream_replicas()[RESERVATIONS] == [a, gone, b]
        async with running(create_app(settings)) as client:
            served = [
                (await client.post("/api/v1/reservations", json={"n": n})).headers["x-served-by"]
                for n in range(6)
            ]
            ready = await client.get("/health/ready")
    # Every request answered; the dead replica's turns went to the next one.
    assert sorted(served) == ["replica-a"] * 2 + ["replica-b"] * 4
    assert ready.status_code == 200, ready.text
