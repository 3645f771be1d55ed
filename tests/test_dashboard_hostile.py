"""The dashboard against hostile data and hostile staff, on the embedded platform (issue 22,
adversarial review): guest names, special requests, complaint texts and flight numbers made of
markup and template syntax are shown as text on every page that shows them; a member of one
role cannot reach another role's actions through crafted posts (the API refuses, nothing
changes); every rendered page is free of inline script and style. (Over HTTP with httpx: no
browser is needed to read what the server sends.)"""

import uuid
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from gateway.identity.testing import staff_token
from harness import Platform

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARK = uuid.uuid4().hex[:6]
SCRIPT = f"<script>alert('{MARK}')</script>"
SVG = f'"><svg onload=alert({MARK})>'
TEMPLATE = "{{7*7}}{% raw %}"
HOSTILE_NAME = f"Evil {MARK} {SCRIPT}{SVG}{TEMPLATE}"
RAW = (SCRIPT, "<svg onload", "<script>alert")


class Inline(HTMLParser):
    """What the CSP would block or a hostile text would need: inline scripts, style and event
    attributes, hx-on, javascript: URLs (in the markup, not in the escaped text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag in ("script", "style") and not (tag == "script" and names.get("src")):
            self.found.append(f"<{tag}> inline")
        for name, value in attrs:
            if name == "style" or name.startswith(("on", "hx-on")):
                self.found.append(f"<{tag} {name}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")


def inline(text: str) -> list[str]:
    parser = Inline()
    parser.feed(text)
    return parser.found


def staff(platform: Platform, *roles: str) -> httpx.AsyncClient:
    """A browser signed in as a staff member of `roles` (the session cookie a sign-in sets)."""
    client = platform.caller({})
    token = staff_token(platform.gateway_settings, roles, user_id=f"{'-'.join(roles)}-{MARK}")
    client.cookies.set("hotel_access", token, path="/dashboard")
    client.cookies.set("hotel_csrf", "c" * 32, path="/dashboard")
    return client


async def hostile_booking(platform: Platform) -> dict[str, Any]:
    today = datetime.now(SHANGHAI).date()
    body = {
        "guest": {"name": HOSTILE_NAME, "email": f"evil.{MARK}@example.com"},
        "room_type_code": "KNG",
        "check_in": today.isoformat(),
        "check_out": (today + timedelta(days=2)).isoformat(),
        "guests": 1,
        "special_requests": f"{SCRIPT} javascript:alert(1) {TEMPLATE}",
    }
    created = await platform.client.post(
        "/api/v1/reservations", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert created.status_code == 201, created.text
    booking: dict[str, Any] = created.json()
    confirmed = await platform.client.post(f"/api/v1/reservations/{booking['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    return dict(confirmed.json())


def assert_text_only(page: httpx.Response, where: str) -> None:
    assert page.status_code == 200, (where, page.status_code, page.text[:400])
    for raw in RAW:
        assert raw not in page.text, (where, raw)
    assert inline(page.text) == [], where


async def test_hostile_texts_are_shown_as_text_on_every_page(embedded: Platform) -> None:
    booking = await hostile_booking(embedded)
    complaint = await embedded.client.post(
        "/api/v1/complaints",
        json={
            "name": HOSTILE_NAME,
            "email": f"evil.{MARK}@example.com",
            "category": "noise",
            "channel": "front_desk",
            "severity": "low",
            "subject": f"{SCRIPT} {MARK}",
            "description": f"{SVG} {TEMPLATE}",
            "demand": "javascript:alert(1)",
            "reservation_id": booking["id"],
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert complaint.status_code == 201, complaint.text
    case = complaint.json()
    desk = staff(embedded, "manager")
    pages = {
        "today": "/dashboard/today",
        "search": f"/dashboard/reservations?name={MARK}",
        "booking": f"/dashboard/reservations/{booking['id']}",
        "guests": f"/dashboard/guests?name={MARK}",
        "queue": "/dashboard/complaints",
        "case": f"/dashboard/complaints/{case['id']}",
        "dispatch": "/dashboard/dispatch",
        "rooms": "/dashboard/rooms",
    }
    for where, path in pages.items():
        page = await desk.get(path)
        assert_text_only(page, where)
    # Where the name is shown, it is there as escaped text, the template syntax unevaluated.
    for where in ("today", "search", "booking", "queue", "case"):
        page = await desk.get(pages[where])
        assert "&lt;script&gt;alert(" in page.text and "{{7*7}}" in page.text, where
    # A crafted reservation id in the URL reaches no other operation: a 404, not a listing.
    for crafted in ("%2e%2e", f"{booking['id']}%3Fx=1", f"{booking['id']}%23"):
        answer = await desk.get(f"/dashboard/reservations/{crafted}")
        assert answer.status_code == 404, (crafted, answer.status_code)


async def test_a_member_cannot_reach_another_roles_actions_by_crafted_posts(
    embedded: Platform,
) -> None:
    booking = await hostile_booking(embedded)
    form = {"csrf": "c" * 32, "idem": uuid.uuid4().hex, "reason": "crafted"}
    marketing = staff(embedded, "marketing")
    cancel = await marketing.post(
        f"/dashboard/reservations/{booking['id']}/cancel/confirm", data=form
    )
    assert cancel.status_code == 403, cancel.text[:300]
    housekeeping = staff(embedded, "housekeeping")
    check_in = await housekeeping.post(
        f"/dashboard/today/{booking['id']}/check-in",
        data={**form, "attested": "yes", "deposit": "-500"},
        headers={"hx-request": "true"},
    )
    assert check_in.status_code in (200, 403)  # the board with the problem, or the 403 page
    assert "403" in check_in.text
    after = await embedded.client.get(f"/api/v1/reservations/{booking['id']}")
    assert after.json()["status"] == "confirmed"


async def test_hostile_form_input_is_the_apis_problem_and_writes_nothing(
    embedded: Platform,
) -> None:
    booking = await hostile_booking(embedded)
    desk = staff(embedded, "front_desk")
    base = f"/dashboard/reservations/{booking['id']}"
    for change in (
        {"check_in": "9999-12-30", "check_out": "9999-12-31"},
        {"guests": "-3"},
        {"guests": "²"},
        {"guests": "9" * 5000},
        {"room_type_code": "K" * 10_000},
        {"check_out": "not a date"},
    ):
        form = {"csrf": "c" * 32, "idem": uuid.uuid4().hex, **change}
        preview = await desk.post(f"{base}/modify", data=form)
        confirm = await desk.post(f"{base}/modify/confirm", data=form)
        for answer in (preview, confirm):
            assert 400 <= answer.status_code < 500, (change, answer.status_code)
            assert 'class="problem"' in answer.text, change
    for deposit in ("-500", "nan", "1e400", "\uff11\uff12\uff13"):
        answer = await desk.post(
            f"/dashboard/today/{booking['id']}/check-in",
            data={
                "csrf": "c" * 32,
                "idem": uuid.uuid4().hex,
                "attested": "yes",
                "deposit": deposit,
            },
            headers={"hx-request": "true"},
        )
        assert answer.status_code < 500, (deposit, answer.status_code)
    after = await embedded.client.get(f"/api/v1/reservations/{booking['id']}")
    assert after.json()["status"] == "confirmed"
    assert after.json()["check_in"] == booking["check_in"]
    assert after.json()["guests"] == booking["guests"]


async def test_dates_at_the_ends_of_the_calendar_are_no_server_error(embedded: Platform) -> None:
    manager = staff(embedded, "manager", "dispatcher")
    for path in (
        "/dashboard/dispatch?date=9999-12-31",
        "/dashboard/dispatch/board?date=0001-01-01",
        "/dashboard/complaints/surveys?start=0001-01-01&end=9999-12-31",
        "/dashboard/analytics?date_from=9999-12-30&date_to=9999-12-31",
        "/dashboard/reservations?check_in_from=0001-01-01&stay_on=9999-12-31",
    ):
        answer = await manager.get(path)
        assert answer.status_code < 500, (path, answer.status_code, answer.text[:300])
