"""The dashboard driven over HTTP as a browser would, without a browser: an httpx client that
keeps the session's cookies, reads the forms a page renders (their hidden csrf and idem fields,
selects, buttons) and posts them back. Used by test_dashboard_modes.py and
test_dashboard_races.py on both run modes (a module, not conftest: imported by name).

The Today page's forms are htmx forms (`hx-post`, no `action`): they are posted where htmx
would post them, with the `HX-Request` header htmx adds; the dispatch forms have both.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from harness import Platform

PASSWORD = "dashboard-http-test-password-1"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)  # select name -> values
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of submits


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = a.get("hx-post") or a.get("action") or ""
            method = "post" if a.get("hx-post") else a.get("method", "get").lower()
            self._form = Form(action, method)
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "checkbox" and "checked" not in a:
                return
            self._form.fields[a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form.options[a["name"]] = []
        elif tag == "option" and self._select is not None:
            self._form.options[self._select].append(a.get("value", ""))
            if "selected" in a or self._select not in self._form.fields:
                self._form.fields[self._select] = a.get("value", "")
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._form.buttons.append((a.get("name", ""), a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_to(html: str, action: str) -> Form:
    """The one form that posts to `action`."""
    found = [f for f in forms(html) if f.action == action]
    every = [f.action for f in forms(html)]
    assert len(found) == 1, f"{len(found)} forms post to {action}: {every}"
    return found[0]


class Session:
    """One browser's dashboard session (its own cookie jar) on the platform's gateway."""

    def __init__(self, platform: Platform) -> None:
        self.client = httpx.AsyncClient(
            transport=platform.client._transport,
            base_url=platform.client.base_url,
            timeout=60,
        )

    async def aclose(self) -> None:
        self.client.cookies.clear()

    async def get(self, path: str, *, htmx: bool = False) -> httpx.Response:
        headers = {"hx-request": "true"} if htmx else {}
        return await self.client.get(path, headers=headers)

    async def page(self, path: str) -> str:
        answer = await self.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
        return answer.text

    async def submit(self, form: Form, *, htmx: bool = False, **values: str) -> httpx.Response:
        headers = {"hx-request": "true"} if htmx else {}
        return await self.client.post(form.action, data={**form.fields, **values}, headers=headers)

    async def sign_in(self, email: str, password: str = PASSWORD) -> None:
        signin = form_to(await self.page("/dashboard/sign-in"), "/dashboard/sign-in")
        assert signin.fields.get("csrf"), "the sign-in form carries no CSRF token"
        answer = await self.submit(signin, email=email, password=password)
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
        assert "hotel_access" in self.client.cookies


async def staff(platform: Platform, *roles: str) -> str:
    """A new staff account with `roles`, made by the admin through the API; its email."""
    email = f"{'-'.join(roles)}.{uuid.uuid4().hex[:8]}@example.com"
    body = {
        "email": email,
        "name": "Test " + " ".join(roles),
        "password": PASSWORD,
        "roles": list(roles),
    }
    made = await platform.client.post("/api/v1/staff-users", json=body)
    assert made.status_code == 201, made.text
    return email


async def signed_in(platform: Platform, *roles: str, email: str | None = None) -> Session:
    session = Session(platform)
    await session.sign_in(email or await staff(platform, *roles))
    return session


async def book(
    platform: Platform, name: str, *, pickup_in: timedelta | None = None, confirm: bool = True
) -> dict[str, Any]:
    """Today's arrival for two nights (a pickup landing `pickup_in` from now, if given),
    made and confirmed by the admin through the API."""
    now = datetime.now(SHANGHAI)
    landing = now + pickup_in if pickup_in is not None else None
    check_in = (landing or now).date()
    body: dict[str, Any] = {
        "guest": {"name": name, "email": f"g.{uuid.uuid4().hex[:8]}@example.com"},
        "room_type_code": "KNG",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=2)).isoformat(),
        "guests": 1,
    }
    if landing is not None:
        body["transfer"] = {
            "flight_number": "MU5101",
            "arrival_time": landing.isoformat(timespec="minutes"),
            "pickup_place": "Shanghai Pudong International Airport T1",
            "passengers": 1,
            "luggage": 1,
        }
    api = platform.client
    made = await api.post(
        "/api/v1/reservations", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert made.status_code == 201, made.text
    booking: dict[str, Any] = made.json()
    if confirm:
        confirmed = await api.post(f"/api/v1/reservations/{booking['id']}/confirm")
        assert confirmed.status_code == 200, confirmed.text
        booking = confirmed.json()
    return booking


def row_of(html: str, booking_id: str, list_key: str = "arrivals") -> str:
    """The Today board's row of one booking in one list ('' if it is not there)."""
    start = html.find(f'id="row-{list_key}-{booking_id}"')
    if start < 0:
        return ""
    return html[start : html.find("</tr>", start)]
