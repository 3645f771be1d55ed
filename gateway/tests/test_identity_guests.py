"""Guests sign in by a one-time code (published for notification-service through the
gateway's outbox) or by confirmation number and last name."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from gateway.identity.testing import BOOKING, Gateway, bearer, gateway_on
from gateway.identity.tidy import prune
from hotel_common.contracts.identity import SignInCodeRequested
from hotel_common.testing import Probe, assert_problem, eventually
from hotel_common.time import utcnow

DBS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)]
CODES = SignInCodeRequested.event_type


@pytest.fixture(params=DBS)
async def gw(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with gateway_on(request.param, tmp_path) as gateway:
        yield gateway


async def code_sent(gw: Gateway, probe: Probe, count: int) -> dict[str, object]:
    events = await eventually(lambda: probe.events(CODES), lambda e: len(e) >= count)
    payload: dict[str, object] = events[count - 1].payload
    return payload


async def test_a_code_signs_a_guest_in_once(gw: Gateway) -> None:
    probe = Probe(gw.broker, {CODES})
    asked = await gw.client.post(
        "/api/v1/auth/guest/code", json={"email": "Li@Example.com", "language": "zh-hans"}
    )
    assert asked.status_code == 202
    sent = await code_sent(gw, probe, 1)
    assert (sent["email"], sent["phone"], sent["language"]) == ("li@example.com", None, "zh-Hans")
    code = str(sent["code"])
    assert len(code) == 6 and code.isdigit()
    signed_in = await gw.client.post(
        "/api/v1/auth/guest/token", json={"email": "li@example.com", "code": code}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["refresh_token"] is None
    me = await gw.client.get("/api/v1/me", headers=bearer(signed_in.json()["access_token"]))
    assert me.json()["kind"] == "guest" and me.json()["id"].startswith("guest:")
    seen = await gw.client.get(
        "/api/v1/reservations/r-1", headers=bearer(signed_in.json()["access_token"])
    )
    assert seen.json()["as"]["email"] == "li@example.com"
    again = await gw.client.post(
        "/api/v1/auth/guest/token", json={"email": "li@example.com", "code": code}
    )
    assert_problem(again, 401, "invalid_code")


async def test_wrong_guesses_burn_the_code(gw: Gateway) -> None:
    probe = Probe(gw.broker, {CODES})
    await gw.client.post("/api/v1/auth/guest/code", json={"phone": "+86 138 0013 8000"})
    sent = await code_sent(gw, probe, 1)
    assert sent["phone"] == "+8613800138000"
    wrong = "000000" if sent["code"] != "000000" else "111111"
    for _ in range(5):
        answer = await gw.client.post(
            "/api/v1/auth/guest/token", json={"phone": "+8613800138000", "code": wrong}
        )
        assert_problem(answer, 401, "invalid_code")
    right = await gw.client.post(
        "/api/v1/auth/guest/token", json={"phone": "+8613800138000", "code": sent["code"]}
    )
    assert_problem(right, 401, "invalid_code")


async def test_codes_are_limited_per_address_and_hour_without_telling(gw: Gateway) -> None:
    probe = Probe(gw.broker, {CODES})
    for _ in range(7):
        answer = await gw.client.post("/api/v1/auth/guest/code", json={"email": "a@example.com"})
        assert answer.status_code == 202
    await gw.client.post("/api/v1/auth/guest/code", json={"email": "b@example.com"})
    await code_sent(gw, probe, 6)
    assert [e.payload["email"] for e in probe.events(CODES)] == ["a@example.com"] * 5 + [
        "b@example.com"
    ]


async def test_code_requests_are_strict(gw: Gateway) -> None:
    for body in [
        {},
        {"email": "a@example.com", "phone": "+8613800138000"},
        {"email": "a@example.com", "code": "123456"},
        {"email": "not an address"},
    ]:
        answer = await gw.client.post("/api/v1/auth/guest/code", json=body)
        assert_problem(answer, 422, "validation_error")


async def test_booking_sign_in_by_confirmation_number_and_last_name(gw: Gateway) -> None:
    answer = await gw.client.post(
        "/api/v1/auth/booking",
        json={
            "confirmation_number": BOOKING["confirmation_number"].lower(),
            "last_name": " ZHANG ",
        },
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    assert token.startswith("bk_") and answer.json()["token_type"] == "bearer"
    # The gateway asked as itself (a service principal)...
    assert [p.kind for p in gw.reservations.seen] == ["service"]
    # ...and the token opens that booking.
    seen = (await gw.client.get("/api/v1/reservations/r-1", headers=bearer(token))).json()["as"]
    assert (seen["kind"], seen["reservation_id"]) == ("booking", "r-1")


@pytest.mark.parametrize(
    ("number", "last_name"), [("HX4K7Q", "Wei"), ("HX4K7Q", "Zhan"), ("ZZZZZZ", "Zhang")]
)
async def test_booking_sign_in_refuses_a_wrong_pair(
    gw: Gateway, number: str, last_name: str
) -> None:
    answer = await gw.client.post(
        "/api/v1/auth/booking", json={"confirmation_number": number, "last_name": last_name}
    )
    assert_problem(answer, 401, "invalid_credentials")


async def test_spent_codes_and_refresh_tokens_are_pruned_a_day_after_expiry(gw: Gateway) -> None:
    probe = Probe(gw.broker, {CODES})
    await gw.client.post("/api/v1/auth/guest/code", json={"email": "old@example.com"})
    await code_sent(gw, probe, 1)
    await gw.admin_headers()  # a sign-in: one refresh token
    sessions = gw.app.state.runtime.sessions
    assert await prune(sessions) == {"sign_in_codes": 0, "refresh_tokens": 0}
    later = utcnow() + timedelta(days=1, minutes=11)  # the code expired a day ago, not the token
    assert await prune(sessions, later) == {"sign_in_codes": 1, "refresh_tokens": 0}
    assert await prune(sessions, later + timedelta(days=14)) == {
        "sign_in_codes": 0,
        "refresh_tokens": 1,
    }
