"""What the gateway tells the services about a caller: a client cannot claim to be someone
(X-Principal from the client is dropped), bad or expired tokens are 401, never anonymous."""

from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
from gateway.identity.testing import Gateway, bearer, gateway_on, guest_token, staff_token
from hotel_common.principal import Kind, Principal, Role, booking_token, sign
from hotel_common.testing import assert_problem


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with gateway_on("sqlite", tmp_path) as gateway:
        yield gateway


async def test_a_client_sent_x_principal_is_ignored(gw: Gateway) -> None:
    forged = sign(
        Principal(id="staff:evil", kind=Kind.STAFF, roles=frozenset({Role.ADMIN})),
        gw.settings.internal_secret,
    )
    answer = await gw.client.get("/api/v1/reservations/r-1", headers={"X-Principal": forged})
    assert answer.status_code == 200
    assert (answer.json()["as"]["id"], answer.json()["as"]["kind"]) == ("anonymous", "anonymous")
    me = await gw.client.get("/api/v1/me", headers={"X-Principal": forged})
    assert me.json()["kind"] == "anonymous"


async def test_staff_and_guest_tokens_reach_the_service_as_their_principal(gw: Gateway) -> None:
    token = staff_token(gw.settings, roles=[Role.DRIVER], driver_id=4, properties=[3])
    seen = (await gw.client.get("/api/v1/reservations/x", headers=bearer(token))).json()["as"]
    assert (seen["kind"], seen["roles"], seen["driver_id"], seen["properties"]) == (
        "staff",
        ["driver"],
        4,
        [3],
    )
    guest = guest_token(gw.settings, email="li@example.com")
    seen = (await gw.client.get("/api/v1/reservations/x", headers=bearer(guest))).json()["as"]
    assert (seen["kind"], seen["email"]) == ("guest", "li@example.com")
    assert seen["id"].startswith("guest:") and "li@" not in seen["id"]


async def test_booking_tokens_are_accepted_and_forged_ones_refused(gw: Gateway) -> None:
    good = booking_token("r-1", gw.settings.internal_secret, 3600)
    seen = (await gw.client.get("/api/v1/reservations/r-1", headers=bearer(good))).json()["as"]
    assert (seen["kind"], seen["reservation_id"]) == ("booking", "r-1")
    forged = booking_token("r-1", "another-secret-of-16+chars", 3600)
    answer = await gw.client.get("/api/v1/reservations/r-1", headers=bearer(forged))
    assert_problem(answer, 401, "invalid_credentials")


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1},  # expired
        {"typ": "refresh"},  # not an access token
        {"kind": "service"},  # only staff and guests hold JWTs
        {"kind": "partner"},
    ],
)
async def test_bad_jwts_are_401(gw: Gateway, claims: dict[str, object]) -> None:
    base = {
        "sub": "staff:1",
        "kind": "staff",
        "typ": "access",
        "exp": 4_000_000_000,
        "roles": ["admin"],
    }
    token = jwt.encode(base | claims, gw.settings.token_secret, algorithm="HS256")
    answer = await gw.client.get("/api/v1/reservations/x", headers=bearer(token))
    problem = assert_problem(answer, 401, "invalid_credentials")
    assert "token" in problem["detail"]
    assert answer.headers["www-authenticate"].startswith("Bearer")
    other_secret = jwt.encode(base, "x" * 32, algorithm="HS256")
    assert_problem(
        await gw.client.get("/api/v1/me", headers=bearer(other_secret)), 401, "invalid_credentials"
    )
    assert gw.reservations.seen == []


async def test_anonymous_callers_carry_their_address(gw: Gateway) -> None:
    seen = (await gw.client.get("/api/v1/reservations/x")).json()["as"]
    assert (seen["kind"], seen["ip"]) == ("anonymous", "127.0.0.1")


async def test_a_staff_cancellation_is_audited_a_guests_is_not(gw: Gateway) -> None:
    admin = await gw.admin_headers()
    desk = bearer(staff_token(gw.settings, roles=[Role.FRONT_DESK], user_id="9"))
    assert (
        await gw.client.post("/api/v1/reservations/r-5/cancel", json={}, headers=desk)
    ).status_code == 200
    guest = bearer(guest_token(gw.settings, email="li@example.com"))
    await gw.client.post("/api/v1/reservations/r-6/cancel", json={}, headers=guest)
    log = await gw.client.get(
        "/api/v1/audit", params={"action": "reservation.cancel"}, headers=admin
    )
    assert [(e["actor"], e["target"]) for e in log.json()["items"]] == [("staff:9", "r-5")]
