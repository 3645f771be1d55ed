"""Feedback through the gateway (issue 19).

A guest stays a night and checks out: the survey invitation reaches their mailbox, they answer
by its link without signing in, and the results show their NPS.

A guest complains at the front desk after their stay: they are told the case is received; the
desk walks the manual's steps; the folio credit asked for is above what the desk may grant, so
a manager approves it; once remedied the credit shows on the booking's folio; a second, small
case gives loyalty points (no approval needed), which the member's statement shows; the guest
is told the outcome.
"""

import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway.identity.testing import bearer, staff_token
from harness import body_of, stay_one_night
from hotel_common.principal import Role
from hotel_common.testing import MailServer, eventually
from launcher.embedded import create_embedded_app

from conftest import FAST, FAST_SERVICE, SPECS

# Surveys go out as soon as the worker runs after check-out (the hotel waits a day).
FEEDBACK = {"survey_delay_hours_after_checkout": 0, "feedback_interval_seconds": 0.2}
SURVEY_LINK = re.compile(r"/survey/([A-Za-z0-9_-]{16,})")


@pytest.fixture
async def hotel(tmp_path: Path, mailbox: MailServer) -> AsyncIterator[dict[str, Any]]:
    """The embedded platform: a front-desk client, a manager's, and an anonymous one."""
    overrides = {name: {**FAST, **FAST_SERVICE.get(name, {})} for name in [*SPECS, "gateway"]}
    overrides["guest-service"] |= FEEDBACK
    app = create_embedded_app(tmp_path / "data", smtp_url=mailbox.url, overrides=overrides)
    settings = app.state.settings

    def client(headers: dict[str, str]) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(transport=transport, base_url="http://gw", headers=headers)

    async with (
        app.router.lifespan_context(app),
        client(bearer(staff_token(settings, roles=[Role.FRONT_DESK]))) as desk,
        client(bearer(staff_token(settings, roles=[Role.MANAGER], user_id="mgr"))) as manager,
        client({}) as anonymous,
    ):
        yield {"desk": desk, "manager": manager, "anonymous": anonymous, "mailbox": mailbox}


async def mail_to(mailbox: MailServer, email: str, subject: str) -> str:
    """The body of the guest's email whose subject holds `subject` (once it has arrived)."""

    async def found() -> list[str]:
        return [body_of(m) for m in mailbox.to(email) if subject in str(m["Subject"])]

    [body] = await eventually(found, timeout=20)
    return body


async def test_a_guest_answers_the_survey_by_its_link_and_the_results_show_the_nps(
    hotel: dict[str, Any],
) -> None:
    desk, manager, anonymous = hotel["desk"], hotel["manager"], hotel["anonymous"]
    email = f"zhao.min.{uuid.uuid4().hex[:6]}@example.com"

    await stay_one_night(desk, "Zhao Min", email)

    invitation = await mail_to(hotel["mailbox"], email, "How was your stay")
    link = SURVEY_LINK.search(invitation)
    assert link is not None, invitation
    token = link.group(1)
    page = await anonymous.get(f"/api/v1/surveys/{token}")
    assert page.status_code == 200, page.text
    answer = {
        "ratings": {"room": 5, "cleanliness": 4, "staff": 5, "value": 4},
        "nps": 10,
        "comments": "Lovely quiet room.",
    }
    answered = await anonymous.post(f"/api/v1/surveys/{token}/response", json=answer)
    assert answered.status_code in (200, 201), answered.text
    again = await anonymous.post(f"/api/v1/surveys/{token}/response", json=answer)
    assert again.status_code == 409, again.text  # one answer per link

    today = date.today()
    results = await manager.get(
        "/api/v1/surveys/results",
        params={
            "from": (today - timedelta(days=1)).isoformat(),
            "to": (today + timedelta(days=1)).isoformat(),
            "period": "month",
        },
    )
    assert results.status_code == 200, results.text
    [period] = results.json()["periods"]
    assert (period["responses"], period["promoters"], period["nps"]) == (1, 1, 100.0)
    room = next(a for a in period["aspects"] if a["aspect"] == "room")
    assert room["average"] == 5.0


async def step(client: httpx.AsyncClient, case_id: str, to: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/complaints/{case_id}/transitions", json={"to": to, **body})


async def test_a_complaint_is_walked_to_its_remedy_and_the_guest_sees_points_and_credit(
    hotel: dict[str, Any],
) -> None:
    desk, manager, mailbox = hotel["desk"], hotel["manager"], hotel["mailbox"]
    email = f"qian.yu.{uuid.uuid4().hex[:6]}@example.com"
    stay = await stay_one_night(desk, "Qian Yu", email)
    rid = stay["id"]
    # The settled stay makes them a member (above 500 CNY).
    guest_id = (
        await eventually(
            lambda: desk.get("/api/v1/guests", params={"email": email}),
            lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
        )
    ).json()["items"][0]["id"]
    member = (
        await eventually(
            lambda: desk.get("/api/v1/loyalty/members", params={"guest_id": guest_id}),
            lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
        )
    ).json()["items"][0]

    # The guest complains at the desk about the noise: a case, and the guest is told.
    filed = await desk.post(
        "/api/v1/complaints",
        json={
            "guest_id": guest_id,
            "channel": "front_desk",
            "category": "noise",
            "severity": "high",
            "reservation_id": rid,
            "subject": "Construction noise all night",
            "demand": "Money back for the night",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert filed.status_code == 201, filed.text
    case = filed.json()
    number = case["case_number"]
    acknowledged = await mail_to(mailbox, email, "We have received your complaint")
    assert number in acknowledged

    # The manual's steps; 550 CNY back is more than the desk may grant alone.
    assert (await step(desk, case["id"], "validated")).status_code == 200
    assigned = await step(desk, case["id"], "assigned", department="front_office", owner="Ms Lin")
    assert assigned.status_code == 200, assigned.text
    assert (await step(desk, case["id"], "investigating")).status_code == 200
    credit = {"kind": "folio_credit", "amount": 55_000, "currency": "CNY"}
    proposed = await step(
        desk,
        case["id"],
        "remedy_proposed",
        cause="Works next door not announced",
        remedy="A credit of 550 CNY on the stay",
        compensation=credit,
    )
    assert proposed.status_code == 200, proposed.text
    early = await step(desk, case["id"], "remedied")
    assert (early.status_code, early.json()["code"]) == (409, "approval_required")
    by_desk = await step(desk, case["id"], "approved")
    assert by_desk.status_code == 403, by_desk.text
    assert (await step(manager, case["id"], "approved")).status_code == 200
    assert (await step(desk, case["id"], "remedied")).status_code == 200

    # The credit shows on the booking's folio, once; the stay is settled, so it is paid back.
    async def folio() -> dict[str, Any]:
        answer = await desk.get(f"/api/v1/reservations/{rid}/folio")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    shown = await eventually(
        folio, lambda f: any(line["kind"] == "compensation" for line in f["lines"])
    )
    [line] = [x for x in shown["lines"] if x["kind"] == "compensation"]
    assert line["amount"] == -55_000 and number in line["description"]
    refunds = [x for x in shown["lines"] if x["kind"] == "refund" and number in x["description"]]
    # Paid back by the method the guest paid with, never more than they paid.
    assert sum(x["amount"] for x in refunds) == min(55_000, stay["amount_spent"])
    assert {x["method"] for x in refunds} == {"cash"}

    # A second, small case: points for the slow room service, within the desk's say.
    second = await desk.post(
        "/api/v1/complaints",
        json={
            "guest_id": guest_id,
            "channel": "front_desk",
            "category": "food",
            "reservation_id": rid,
            "subject": "Room service took an hour",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert second.status_code == 201, second.text
    small = second.json()["id"]
    for to, body in (
        ("validated", {}),
        ("assigned", {"department": "food_and_beverage", "owner": "Mr Wu"}),
        ("investigating", {}),
        (
            "remedy_proposed",
            {
                "cause": "Kitchen short-staffed",
                "remedy": "1,000 points",
                "compensation": {"kind": "points", "points": 1000},
            },
        ),
        ("remedied", {}),
    ):
        moved = await step(desk, small, to, **body)
        assert moved.status_code == 200, (to, moved.text)
    statement = await desk.get(f"/api/v1/loyalty/members/{member['member_number']}/statement")
    assert statement.status_code == 200, statement.text
    [points] = [x for x in statement.json()["items"] if x["reason"] == "compensation"]
    assert (points["points"], points["state"]) == (1000, "posted")
    after = await desk.get(f"/api/v1/loyalty/members/{member['member_number']}")
    assert after.json()["points_balance"] == member["points_balance"] + 1000

    # The guest is told the outcome of the first case.
    informed = await step(desk, case["id"], "guest_informed", guest_reaction="Satisfied")
    assert informed.status_code == 200, informed.text
    resolved = await mail_to(mailbox, email, "Your complaint has been resolved")
    assert number in resolved and "550 CNY" in resolved
    assert (await step(desk, case["id"], "closed")).status_code == 200
