"""GET /api/v1/me/trips: a guest's bookings with transfers and latest notices, assembled from
three services at once, partial (not a 500) when one is down."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from gateway.config import Settings
from gateway.main import create_app
from gateway.upstream import AsgiUpstream, HttpUpstream, Upstream
from hotel_common.errors import problem
from hotel_common.principal import HEADER, Kind, Principal, Role, verify
from hotel_common.settings import DEV_INTERNAL_SECRET
from hotel_common.testing import assert_problem

GUEST = Principal(id="guest:a", kind=Kind.GUEST, email="ana@example.com")
HOLDER = Principal(id="booking:r3", kind=Kind.BOOKING, reservation_id="r3")
STAFF = Principal(id="staff:1", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))
TOKENS = {"guest": GUEST, "holder": HOLDER, "staff": STAFF}

RESERVATIONS = [
    {"id": "r1", "email": "ana@example.com", "confirmation_number": "C1"},
    {"id": "r2", "email": "ana@example.com", "confirmation_number": "C2"},
    {"id": "r3", "email": "bo@example.com", "confirmation_number": "C3"},
]
TRANSFERS = [
    {"id": "t1", "reservation_id": "r1", "guest_email": "ana@example.com"},
    {"id": "t2", "reservation_id": "r3", "guest_email": "bo@example.com"},
]
NOTICES = [  # newest first, as notification-service lists them
    *({"id": f"n{i}", "reservation_id": "r1", "email": "ana@example.com"} for i in range(1, 6)),
    {"id": "n6", "reservation_id": "r2", "email": "ana@example.com"},
    {"id": "n7", "reservation_id": "r3", "email": "bo@example.com"},
]


def fake(name: str, rows: list[dict[str, Any]], email_field: str) -> FastAPI:
    """A service that verifies the caller's principal and shows only what is theirs."""
    app = FastAPI(title=name)
    app.state.callers = []

    def caller(request: Request) -> Principal:
        principal = verify(request.headers[HEADER], DEV_INTERNAL_SECRET)
        app.state.callers.append(principal)
        return principal

    def visible(principal: Principal, row: dict[str, Any]) -> bool:
        if principal.kind is Kind.BOOKING:
            return principal.reservation_id in (row.get("reservation_id"), row["id"])
        return row[email_field] == principal.email

    @app.get("/api/v1/{collection}/{item_id}")
    async def one(request: Request, item_id: str) -> JSONResponse:
        principal = caller(request)
        for row in rows:
            if row["id"] == item_id and visible(principal, row):
                return JSONResponse(row)
        return problem(404, "not_found", "No such record.")

    @app.get("/api/v1/{collection}")
    async def listing(request: Request) -> dict[str, Any]:
        principal = caller(request)
        wanted = request.query_params.get("reservation_id")
        items = [
            r for r in rows if visible(principal, r) and wanted in (None, r.get("reservation_id"))
        ]
        return {"items": items, "next_cursor": None}

    return app


def services() -> dict[str, FastAPI]:
    return {
        "reservation-service": fake("reservation-service", RESERVATIONS, "email"),
        "transfer-service": fake("transfer-service", TRANSFERS, "guest_email"),
        "notification-service": fake("notification-service", NOTICES, "email"),
    }


def gateway(tokens, apps: dict[str, FastAPI], extra: dict[str, Upstream] | None = None) -> FastAPI:
    upstreams: dict[str, Upstream] = {n: AsgiUpstream(n, a) for n, a in apps.items()}
    upstreams.update(extra or {})
    settings = Settings(log_json=False, retry_backoff=0.01)
    return create_app(settings, upstreams, authenticator=tokens(TOKENS))


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


async def test_a_guest_gets_their_bookings_with_transfers_and_latest_notices(
    tokens, clients
) -> None:
    apps = services()
    async with clients(gateway(tokens, apps)) as (client,):
        r = await client.get("/api/v1/me/trips", headers={"Authorization": "Bearer guest"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["partial"] is False and body["unavailable"] == []
    trips = {t["reservation_id"]: t for t in body["trips"]}
    assert list(trips) == ["r1", "r2"]  # not r3, which is someone else's
    assert trips["r1"]["reservation"]["confirmation_number"] == "C1"
    assert ids(trips["r1"]["transfers"]) == ["t1"]
    assert ids(trips["r1"]["notices"]) == ["n1", "n2", "n3"]  # the latest three
    assert ids(trips["r2"]["notices"]) == ["n6"] and trips["r2"]["transfers"] == []
    for app in apps.values():  # each service was asked as the guest, signed by the gateway
        assert [p.id for p in app.state.callers] == ["guest:a"]
    assert r.headers["ratelimit-limit"]


async def test_a_booking_token_holder_gets_its_one_booking(tokens, clients) -> None:
    async with clients(gateway(tokens, services())) as (client,):
        r = await client.get("/api/v1/me/trips", headers={"Authorization": "Bearer holder"})
    assert r.status_code == 200, r.text
    (trip,) = r.json()["trips"]
    assert trip["reservation_id"] == "r3" and trip["reservation"]["id"] == "r3"
    assert ids(trip["transfers"]) == ["t2"] and ids(trip["notices"]) == ["n7"]


async def test_a_service_that_is_down_leaves_a_partial_answer(tokens, clients, http_server) -> None:
    async with http_server(FastAPI()) as url:
        pass  # nothing listens there any more
    apps = services()
    transfers_down = {"transfer-service": HttpUpstream("transfer-service", url)}
    del apps["transfer-service"]
    async with clients(gateway(tokens, apps, transfers_down)) as (client,):
        r = await client.get("/api/v1/me/trips", headers={"Authorization": "Bearer guest"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["partial"] is True and body["unavailable"] == ["transfer-service"]
    trips = {t["reservation_id"]: t for t in body["trips"]}
    assert list(trips) == ["r1", "r2"]
    assert trips["r1"]["transfers"] == [] and ids(trips["r1"]["notices"]) == ["n1", "n2", "n3"]


async def test_without_reservations_the_transfers_and_notices_still_come(tokens, clients) -> None:
    apps = services()
    broken = FastAPI()

    @broken.get("/api/v1/{path:path}")
    async def fail() -> JSONResponse:
        return problem(500, "internal_error", "Boom.")

    apps["reservation-service"] = broken
    async with clients(gateway(tokens, apps)) as (client,):
        r = await client.get("/api/v1/me/trips", headers={"Authorization": "Bearer guest"})
    body = r.json()
    assert r.status_code == 200 and body["partial"] is True
    assert body["unavailable"] == ["reservation-service"]
    trips = {t["reservation_id"]: t for t in body["trips"]}
    assert trips["r1"]["reservation"] is None and ids(trips["r1"]["transfers"]) == ["t1"]
    assert ids(trips["r2"]["notices"]) == ["n6"]


async def test_only_guests_and_booking_holders_have_trips(tokens, clients) -> None:
    async with clients(gateway(tokens, services())) as (client,):
        anonymous = await client.get("/api/v1/me/trips")
        staff = await client.get("/api/v1/me/trips", headers={"Authorization": "Bearer staff"})
        forged = await client.get("/api/v1/me/trips", headers={"Authorization": "Bearer nope"})
    assert_problem(anonymous, 401, "unauthenticated")
    assert_problem(staff, 403, "forbidden")
    assert_problem(forged, 401, "invalid_credentials")
