"""Rate limits at the gateway: per caller, per IP, costlier searches, strict sign-in routes;
in process and in Redis (shared by gateway replicas)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from gateway.config import Settings
from gateway.limits import Bucket, MemoryStore, RedisStore
from gateway.main import create_app
from gateway.upstream import AsgiUpstream, Upstream
from hotel_common.principal import Kind, Principal
from hotel_common.testing import assert_problem

REDIS_URL = "redis://127.0.0.1:6379/0"
SERVICES = ["reservation-service", "guest-service"]
PARTNER_A = Principal(id="partner:a", kind=Kind.PARTNER, channel="ota_a")
PARTNER_B = Principal(id="partner:b", kind=Kind.PARTNER, channel="ota_b")
BACKENDS = ["memory", "redis"]


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
async def redis_cleanup(prefix: str) -> AsyncIterator[None]:
    yield
    store = RedisStore(REDIS_URL, prefix)
    keys = [k async for k in store.redis.scan_iter(match=prefix + "*")]
    if keys:
        await store.redis.delete(*keys)
    await store.aclose()


def settings(backend: str, prefix: str, **limits: Any) -> Settings:
    return Settings(
        log_json=False,
        redis_url=REDIS_URL if backend == "redis" else None,
        rate_limit_prefix=prefix,
        **limits,
    )


def gateway(echo, tokens, backend: str, prefix: str, **limits: Any) -> FastAPI:
    upstreams: dict[str, Upstream] = {n: AsgiUpstream(n, echo(n)) for n in SERVICES}
    auth = tokens({"a": PARTNER_A, "b": PARTNER_B})
    app = create_app(settings(backend, prefix, **limits), upstreams, authenticator=auth)
    return app


def assert_limited(r) -> int:
    body = assert_problem(r, 429, "rate_limited")
    wait = int(r.headers["retry-after"])
    assert wait >= 1 and body["retry_after"] == wait
    assert r.headers["ratelimit-remaining"] == "0"
    return wait


@pytest.mark.parametrize("backend", BACKENDS)
async def test_each_partner_has_its_own_budget(
    echo, tokens, clients, backend, prefix, redis_cleanup
) -> None:
    app = gateway(echo, tokens, backend, prefix, rate_limits={"partner": 3})
    async with clients(app) as (client,):
        a = [
            await client.get("/api/v1/rooms/1", headers={"Authorization": "Bearer a"})
            for _ in range(4)
        ]
        b = await client.get("/api/v1/rooms/1", headers={"Authorization": "Bearer b"})
    assert [r.status_code for r in a] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in a[:3]] == ["2", "1", "0"]
    assert a[0].headers["ratelimit-limit"] == "3"
    assert a[0].headers["ratelimit-policy"] == "3;w=60"
    wait = assert_limited(a[3])
    assert 1 <= wait <= 20  # one request's share of the minute
    assert b.status_code == 200  # partner B is untouched by A's burst


@pytest.mark.parametrize("backend", BACKENDS)
async def test_anonymous_callers_are_limited_per_ip_and_searches_cost_more(
    echo, tokens, clients, backend, prefix, redis_cleanup
) -> None:
    app = gateway(
        echo, tokens, backend, prefix, rate_limits={"anonymous": 10}, rate_limit_list_cost=5
    )
    async with clients(app, "10.0.0.1", "10.0.0.2") as (one, two):
        first = await one.get("/api/v1/reservations")  # a search: 5
        second = await one.get("/api/v1/guests?email=x")  # 5 more: budget spent
        by_id = await one.get("/api/v1/reservations/r-1")  # even 1 is too much now
        other_ip = await two.get("/api/v1/reservations/r-1")
    assert first.status_code == 200 and first.headers["ratelimit-remaining"] == "5"
    assert second.status_code == 200 and second.headers["ratelimit-remaining"] == "0"
    assert_limited(by_id)
    assert other_ip.status_code == 200 and other_ip.headers["ratelimit-remaining"] == "9"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_every_caller_from_one_address_shares_a_ceiling(
    echo, tokens, clients, backend, prefix, redis_cleanup
) -> None:
    app = gateway(echo, tokens, backend, prefix, rate_limit_ip=4)
    async with clients(app) as (client,):
        answers = [
            await client.get("/api/v1/rooms/1", headers={"Authorization": f"Bearer {who}"})
            for who in ("a", "b", "a", "b", "b")
        ]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_sign_in_routes_and_bad_credentials_are_strict_per_ip(
    echo, tokens, clients, backend, prefix, redis_cleanup
) -> None:
    app = gateway(echo, tokens, backend, prefix, rate_limit_auth=3)
    auth = APIRouter()

    @auth.post("/api/v1/auth/token")
    async def token() -> dict[str, str]:  # stands for H1's route: a gateway route, not proxied
        return {"access_token": "x"}

    app.include_router(auth)
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the proxy, as H1's are
    async with clients(app, "10.0.0.1", "10.0.0.2") as (one, two):
        tries = [await one.post("/api/v1/auth/token") for _ in range(3)]
        guessed = await one.get("/api/v1/rooms/1", headers={"Authorization": "Bearer guess"})
        other = [
            await two.get("/api/v1/rooms/1", headers={"Authorization": "Bearer guess"})
            for _ in range(4)
        ]
        still_served = await two.get("/api/v1/rooms/1")
    assert [r.status_code for r in tries] == [200, 200, 200]
    assert tries[0].headers["ratelimit-limit"] == "3"
    assert_limited(guessed)  # the sign-in budget is spent: no more guessing from 10.0.0.1
    assert [r.status_code for r in other] == [401, 401, 401, 429]
    assert_problem(other[0], 401, "invalid_credentials")
    assert other[0].headers["www-authenticate"].startswith("Bearer")
    assert still_served.status_code == 200  # anonymous use goes on


async def test_two_gateways_sharing_redis_share_the_budget(
    echo, tokens, clients, prefix, redis_cleanup
) -> None:
    first = gateway(echo, tokens, "redis", prefix, rate_limits={"partner": 4})
    second = gateway(echo, tokens, "redis", prefix, rate_limits={"partner": 4})
    alone = gateway(echo, tokens, "memory", prefix, rate_limits={"partner": 4})
    headers = {"Authorization": "Bearer a"}
    async with clients(first) as (one,), clients(second) as (two,), clients(alone) as (three,):
        answers = [
            await (one if i % 2 else two).get("/api/v1/rooms/1", headers=headers) for i in range(5)
        ]
        in_process = [await three.get("/api/v1/rooms/1", headers=headers) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
    assert all(r.status_code == 200 for r in in_process)  # a replica without Redis counts alone


async def test_redis_down_falls_back_to_limits_in_process(echo, tokens, clients, prefix) -> None:
    app = create_app(
        Settings(
            log_json=False,
            redis_url="redis://127.0.0.1:1/0",  # nothing listens there
            rate_limits={"anonymous": 2},
        ),
        {"reservation-service": AsgiUpstream("reservation-service", echo("reservation-service"))},
        authenticator=tokens({}),
    )
    async with clients(app) as (client,):
        answers = [await client.get("/api/v1/rooms/1") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]


async def test_buckets_refill_over_time() -> None:
    now = [1000.0]
    store = MemoryStore(clock=lambda: now[0])
    bucket = Bucket("k", 2, 10.0)
    assert (await store.acquire([bucket], 1)).allowed
    assert (await store.acquire([bucket], 1)).allowed
    refused = await store.acquire([bucket], 1)
    assert not refused.allowed and refused.retry_after == pytest.approx(5.0)
    now[0] += 5.0
    assert (await store.acquire([bucket], 1)).allowed
    too_big = await store.acquire([bucket], 3)  # more than the bucket ever holds
    assert not too_big.allowed


async def test_limits_can_be_switched_off(echo, tokens, clients, prefix) -> None:
    app = gateway(
        echo, tokens, "memory", prefix, rate_limits={"anonymous": 1}, rate_limit_enabled=False
    )
    async with clients(app) as (client,):
        answers = [await client.get("/api/v1/rooms/1") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert "ratelimit-limit" not in answers[0].headers


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_concurrent_burst_gets_exactly_the_budget(
    echo, tokens, clients, backend, prefix, redis_cleanup
) -> None:
    first = gateway(echo, tokens, backend, prefix, rate_limits={"partner": 10})
    second = gateway(echo, tokens, backend, prefix, rate_limits={"partner": 10})
    headers = {"Authorization": "Bearer a"}
    async with clients(first) as (one,), clients(second) as (two,):
        burst = await asyncio.gather(
            *(one.get("/api/v1/rooms/1", headers=headers) for _ in range(15)),
            *(two.get("/api/v1/rooms/1", headers=headers) for _ in range(15)),
        )
    statuses = [r.status_code for r in burst]
    assert set(statuses) == {200, 429}
    # One budget across both gateways in Redis; each gateway its own in process.
    assert statuses.count(200) == (10 if backend == "redis" else 20)
