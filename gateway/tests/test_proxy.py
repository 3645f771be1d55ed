"""The catch-all proxy: routing, request ids, what passes through and what does not."""

import uuid
from collections.abc import AsyncIterator

import pytest
from gateway.config import Settings
from gateway.main import create_app
from gateway.routes import ROUTES, resolve
from gateway.upstream import AsgiUpstream, Upstream
from hotel_common.testing import running
from httpx import AsyncClient

SERVICES = ["reservation-service", "transfer-service", "guest-service", "notification-service"]


@pytest.fixture
async def client(echo) -> AsyncIterator[AsyncClient]:
    upstreams: dict[str, Upstream] = {n: AsgiUpstream(n, echo(n)) for n in SERVICES}
    async with running(create_app(Settings(log_json=False), upstreams)) as client:
        yield client


def test_longest_prefix_wins_and_only_on_whole_segments() -> None:
    table = {"/api/v1/rooms": "rooms", "/api/v1/rooms/special": "special"}
    assert resolve("/api/v1/rooms", table) == "rooms"
    assert resolve("/api/v1/rooms/", table) == "rooms"
    assert resolve("/api/v1/rooms/7", table) == "rooms"
    assert resolve("/api/v1/rooms/special", table) == "special"
    assert resolve("/api/v1/rooms/special/3", table) == "special"
    assert resolve("/api/v1/rooms/specialist", table) == "rooms"
    assert resolve("/api/v1/roomsx", table) is None
    assert resolve("/api/v1/rooms/../guests", table) is None
    assert resolve("/api/v1/room-types/3") == "reservation-service"
    assert resolve("/api/v1/availability?from=x") is None  # paths come without their query


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/properties/1/rooms", "reservation-service"),
        ("/api/v1/room-types", "reservation-service"),
        ("/api/v1/reservations/R-1/confirm", "reservation-service"),
        ("/api/v1/drivers/4", "transfer-service"),
        ("/api/v1/transfers", "transfer-service"),
        ("/api/v1/guests/g-1", "guest-service"),
        ("/api/v1/notifications", "notification-service"),
    ],
)
async def test_each_prefix_reaches_its_service(
    client: AsyncClient, path: str, service: str
) -> None:
    r = await client.get(path)
    assert r.status_code == 200
    assert r.json()["service"] == service
    assert r.json()["path"] == path
    assert ROUTES  # the table the gateway used is the public one


@pytest.mark.parametrize("path", ["/api/v1/unknown", "/api/v1/roomsx/1", "/api/v1/guests/../x"])
async def test_unknown_api_path_is_a_404_problem(client: AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "not_found"
    assert r.headers["x-request-id"]


async def test_request_id_is_created_when_absent_and_reaches_the_service(
    client: AsyncClient,
) -> None:
    r = await client.get("/api/v1/rooms/1")
    rid = r.headers["x-request-id"]
    assert uuid.UUID(rid).version == 4
    assert r.json()["headers"]["x-request-id"] == rid


async def test_a_given_request_id_is_forwarded_and_returned(client: AsyncClient) -> None:
    r = await client.get("/api/v1/rooms/1", headers={"X-Request-ID": "ota-abc-123"})
    assert r.headers["x-request-id"] == "ota-abc-123"
    assert r.json()["headers"]["x-request-id"] == "ota-abc-123"


async def test_post_body_query_and_end_to_end_headers_pass_hop_by_hop_do_not(
    client: AsyncClient,
) -> None:
    r = await client.post(
        "/api/v1/reservations?dry_run=true&tag=a%20b&tag=c",
        json={"room_type": "deluxe", "nights": 3, "note": "晚到"},
        headers={
            "Accept-Language": "fr",
            "Idempotency-Key": "k-1",
            "Connection": "keep-alive, X-Private",
            "X-Private": "for the gateway only",
            "Keep-Alive": "timeout=5",
            "X-Forwarded-For": "203.0.113.9",
        },
    )
    assert r.status_code == 200
    seen = r.json()
    assert seen["method"] == "POST"
    assert seen["query"] == "dry_run=true&tag=a%20b&tag=c"
    assert seen["body"] == '{"room_type":"deluxe","nights":3,"note":"晚到"}'
    headers = seen["headers"]
    assert headers["accept-language"] == "fr"
    assert headers["idempotency-key"] == "k-1"
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(seen["body"].encode())
    for hop in ("connection", "x-private", "keep-alive"):
        assert hop not in headers
    assert headers["host"] != "testserver"  # the service's own host, not the client's
    assert headers["x-forwarded-host"] == "testserver"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert r.headers["x-served-by"] == "reservation-service"


async def test_percent_encoded_paths_reach_the_service_unchanged(client: AsyncClient) -> None:
    r = await client.get("/api/v1/guests/search/li%20na%2Fx")
    assert r.json()["raw_path"] == "/api/v1/guests/search/li%20na%2Fx"
    assert r.json()["path"] == "/api/v1/guests/search/li na/x"


async def test_error_statuses_problem_bodies_and_headers_come_back_unchanged(
    client: AsyncClient,
) -> None:
    r = await client.get("/api/v1/rooms/missing", headers={"X-Request-ID": "rid-9"})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-upstream-note"] == "kept"
    assert r.json()["code"] == "room_not_found"
    assert r.json()["request_id"] == "rid-9"
    assert r.headers["x-request-id"] == "rid-9"


async def test_created_status_location_and_every_cookie_come_back(client: AsyncClient) -> None:
    r = await client.post("/api/v1/rooms/created", json={})
    assert r.status_code == 201
    assert r.headers["location"] == "/api/v1/rooms/42"
    assert r.headers.get_list("set-cookie") == [
        "a=1; Path=/; SameSite=lax",
        "b=2; Path=/; SameSite=lax",
    ]
    assert r.json() == {"id": "42"}


async def test_head_keeps_the_length_of_the_body_it_describes(client: AsyncClient) -> None:
    head = await client.head("/api/v1/rooms/fixed")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "12"
    assert (await client.get("/api/v1/rooms/fixed")).content == b"twelve bytes"


async def test_a_service_not_running_in_this_gateway_is_a_503_naming_it(echo) -> None:
    upstreams: dict[str, Upstream] = {"guest-service": AsgiUpstream("guest-service", echo("g"))}
    async with running(create_app(Settings(log_json=False), upstreams)) as client:
        r = await client.get("/api/v1/transfers")
    assert r.status_code == 503
    assert r.json()["code"] == "service_unavailable"
    assert "transfer-service" in r.json()["detail"]


async def test_non_api_paths_are_problems_too(client: AsyncClient) -> None:
    r = await client.get("/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/", follow_redirects=False)).headers["location"] == "/docs"
