"""Timeouts inside one deadline, safe retries, and a circuit breaker per upstream."""

import asyncio
import time
from typing import Any

from fastapi import FastAPI
from gateway.breaker import CircuitBreaker, State
from gateway.config import Settings
from gateway.main import create_app
from gateway.upstream import AsgiUpstream, HttpUpstream, Upstream
from hotel_common.testing import assert_problem

RESERVATIONS = "reservation-service"
GUESTS = "guest-service"


def gateway(services: dict[str, FastAPI], tokens, **edges: Any) -> FastAPI:
    upstreams: dict[str, Upstream] = {n: AsgiUpstream(n, app) for n, app in services.items()}
    return create_app(
        Settings(log_json=False, rate_limit_enabled=False, **edges),
        upstreams,
        authenticator=tokens({}),
    )


async def test_reads_are_retried_through_a_503_writes_only_with_an_idempotency_key(
    echo, tokens, clients
) -> None:
    service = echo(RESERVATIONS)
    app = gateway({RESERVATIONS: service}, tokens, retry_attempts=2, retry_backoff=0.01)
    async with clients(app) as (client,):
        service.state.failures_left = 2
        read = await client.get("/api/v1/rooms/flaky")
        read_calls = service.state.calls

        service.state.calls, service.state.failures_left = 0, 2
        write = await client.post("/api/v1/rooms/flaky", json={})
        write_calls = service.state.calls

        service.state.calls, service.state.failures_left = 0, 2
        keyed = await client.post(
            "/api/v1/rooms/flaky", json={}, headers={"Idempotency-Key": "k-1"}
        )
        keyed_calls = service.state.calls

        service.state.calls, service.state.failures_left = 0, 5
        exhausted = await client.get("/api/v1/rooms/flaky")
    assert (read.status_code, read_calls) == (200, 3)
    assert (write_calls, write.status_code) == (1, 503)  # could apply twice: not retried
    assert_problem(write, 503, "database_unavailable")  # the service's own answer, as it was
    assert (keyed.status_code, keyed_calls) == (200, 3)
    assert exhausted.status_code == 503 and service.state.calls == 3  # 1 + 2 retries


async def test_a_route_timeout_and_retries_stay_inside_the_deadline(echo, tokens, clients) -> None:
    app = gateway(
        {RESERVATIONS: echo(RESERVATIONS)},
        tokens,
        route_timeouts={"GET /api/v1/rooms": 0.2},
        request_deadline=0.5,
        retry_attempts=5,
        retry_backoff=0.01,
    )
    async with clients(app) as (client,):
        started = time.monotonic()
        slow = await client.get("/api/v1/rooms/slow")
        elapsed = time.monotonic() - started
        other_route = await client.get("/api/v1/reservations/1")
    assert_problem(slow, 504, "upstream_timeout")
    assert 0.4 <= elapsed < 1.0  # retried once or twice, never past the deadline
    assert other_route.status_code == 200


async def test_a_failing_service_opens_its_breaker_and_leaves_the_others_alone(
    echo, tokens, clients
) -> None:
    slow, fast = echo(RESERVATIONS), echo(GUESTS)
    # The slow service's routes time out at 0.2 s; the fast one keeps the default, so a loaded
    # machine slowing the burst cannot be mistaken for one service taking the other down.
    app = gateway(
        {RESERVATIONS: slow, GUESTS: fast},
        tokens,
        route_timeouts={"/api/v1/rooms": 0.2},
        retry_attempts=0,
        breaker_failures=3,
        breaker_open_seconds=30,
    )
    async with clients(app) as (client,):
        started = time.monotonic()
        burst = await asyncio.gather(
            *(client.get("/api/v1/rooms/slow") for _ in range(3)),
            *(client.get("/api/v1/guests/1") for _ in range(20)),
        )
        first_wave = time.monotonic() - started
        started = time.monotonic()
        refused = await asyncio.gather(*(client.get("/api/v1/rooms/1") for _ in range(20)))
        refused_in = time.monotonic() - started
        guests = await client.get("/api/v1/guests/1")
    assert [r.status_code for r in burst[:3]] == [504, 504, 504]
    assert all(r.status_code == 200 for r in burst[3:])
    assert first_wave < 3  # the slow service takes 5 s: nobody waited for it
    for r in refused:  # answered at once, without calling the service (circuit_open)
        body = assert_problem(r, 503, "circuit_open")
        assert body["service"] == RESERVATIONS
        assert 1 <= int(r.headers["retry-after"]) <= 30
    assert refused_in < 2  # twenty calls, none waiting out a 0.2 s timeout one after another
    assert guests.status_code == 200


async def test_an_open_breaker_probes_once_then_closes_when_the_service_is_back(
    echo, tokens, clients
) -> None:
    service = echo(RESERVATIONS)
    app = gateway(
        {RESERVATIONS: service},
        tokens,
        retry_attempts=0,
        breaker_failures=2,
        breaker_open_seconds=0.3,
    )
    async with clients(app) as (client,):
        service.state.failures_left = 2
        failing = [await client.get("/api/v1/rooms/flaky") for _ in range(2)]
        opened = await client.get("/api/v1/rooms/flaky")
        calls_while_open = service.state.calls
        await asyncio.sleep(0.35)
        probe = await client.get("/api/v1/rooms/flaky")
        after = await client.get("/api/v1/rooms/flaky")
    assert [r.status_code for r in failing] == [503, 503]
    assert_problem(opened, 503, "circuit_open")
    assert calls_while_open == 2
    assert probe.status_code == 200 and after.status_code == 200


def test_half_open_lets_one_probe_through_and_a_failed_probe_reopens() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=1, open_seconds=5, clock=lambda: now[0])
    assert breaker.admit()
    breaker.failed()
    assert breaker.state is State.OPEN and not breaker.admit()
    assert breaker.retry_after() == 5
    now[0] = 5.0
    assert breaker.admit() and breaker.state is State.HALF_OPEN
    assert not breaker.admit()  # a second caller waits for the probe's outcome
    breaker.failed()
    assert breaker.state is State.OPEN and breaker.retry_after() == 5
    now[0] = 10.0
    assert breaker.admit()
    breaker.succeeded()
    assert breaker.state is State.CLOSED and breaker.admit() and breaker.admit()


async def test_an_unreachable_service_is_a_503_with_retry_after(
    http_server, tokens, clients
) -> None:
    async with http_server(FastAPI()) as url:
        pass  # the port is closed again
    app = create_app(
        Settings(log_json=False, retry_backoff=0.01),
        {RESERVATIONS: HttpUpstream(RESERVATIONS, url)},
        authenticator=tokens({}),
    )
    async with clients(app) as (client,):
        started = time.monotonic()
        r = await client.get("/api/v1/rooms/1")
    assert_problem(r, 503, "service_unavailable")
    assert r.headers["retry-after"] == "1"
    assert time.monotonic() - started < 2


def test_a_wrapped_upstream_still_shows_what_it_wraps(echo) -> None:
    service = echo(RESERVATIONS)
    app = create_app(Settings(log_json=False), {RESERVATIONS: AsgiUpstream(RESERVATIONS, service)})
    upstream = app.state.upstreams[RESERVATIONS]
    assert upstream.app is service  # embedded mode's tests reach the service app this way
    assert upstream.breaker.state is State.CLOSED
