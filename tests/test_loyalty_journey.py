"""Loyalty through the gateway: a guest stays one night in a King Room (a settled folio above
500 CNY) and checks out; they are a member at Regular, and their next quote shows the 10 %
member rate; a second stay in the year promotes them (Silver at two stays, as this hotel is
configured here) and the quote shows 15 %."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway.identity.testing import bearer, staff_token
from harness import stay_one_night, tonight
from hotel_common.testing import MailServer, eventually
from launcher.embedded import create_embedded_app

from conftest import FAST, FAST_SERVICE, SPECS

# Two stays in the window make Silver here (the defaults ask five): the test stays short.
LOYALTY = {
    "loyalty_tier_stays": {"silver": 2, "gold": 10, "diamond": 20},
}


@pytest.fixture
async def gateway(tmp_path: Path, mailbox: MailServer) -> AsyncIterator[httpx.AsyncClient]:
    overrides = {name: {**FAST, **FAST_SERVICE.get(name, {})} for name in [*SPECS, "gateway"]}
    overrides["guest-service"] |= LOYALTY
    app = create_embedded_app(tmp_path / "data", smtp_url=mailbox.url, overrides=overrides)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://gw",
            headers=bearer(staff_token(app.state.settings)),
        ) as client,
    ):
        yield client


async def quote(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    check_in, check_out = tonight()
    body = {
        "room_type_code": "KNG",
        "check_in": check_in,
        "check_out": check_out,
        "guests": 1,
        "guest_email": email,
    }
    answer = await client.post("/api/v1/quotes", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_stay_makes_a_member_whose_quotes_show_the_member_rate_and_its_promotion(
    gateway: httpx.AsyncClient,
) -> None:
    email = f"sun.li.{uuid.uuid4().hex[:6]}@example.com"
    before = await quote(gateway, email)
    assert before["member_discount"] is None

    first = await stay_one_night(gateway, "Sun Li", email)
    assert first["amount_spent"] >= 50_000  # CNY minor units: the entry threshold

    regular = await eventually(
        lambda: quote(gateway, email), until=lambda q: q["member_discount"] is not None
    )
    room = before["room_amount"]
    assert regular["member_discount"] == {
        "tier": "regular",
        "percent": 10,
        "amount": room - regular["room_amount"],
    }
    assert regular["room_amount"] == room * 90 // 100
    assert regular["total_amount"] < before["total_amount"]
    members = await gateway.get("/api/v1/loyalty/members", params={"tier": "regular"})
    [member] = [
        m for m in members.json()["items"] if m["points_balance"] == first["amount_spent"] // 100
    ]
    assert member["status"] == "active"

    await stay_one_night(gateway, "Sun Li", email)
    silver = await eventually(
        lambda: quote(gateway, email),
        until=lambda q: (q["member_discount"] or {}).get("tier") == "silver",
    )
    assert silver["member_discount"]["percent"] == 15
    assert silver["room_amount"] == room - (room * 1500 + 5000) // 10000
    # The booking itself is priced at the member rate too.
    check_in, check_out = tonight()
    booked = await gateway.post(
        "/api/v1/reservations",
        json={
            "guest": {"name": "Sun Li", "email": email, "language": "en"},
            "room_type_code": "KNG",
            "check_in": check_in,
            "check_out": check_out,
            "guests": 1,
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["total_amount"] == silver["total_amount"]
