"""The dashboard attacked over HTTP (issue 22, adversarial review): CSRF on every unsafe route
(found by walking the app's routes, so a new route is covered), GETs that never write, ids that
cannot reach another API operation, a forged session cookie, cookie values reflected into
attributes, redirects that stay home, hostile numbers that must not be a 500, and the CSP on
every answer. Pages needing the services: tests/test_dashboard_hostile.py."""

import base64
import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from gateway.dashboard import api as dashboard_api
from gateway.dashboard.session import BASE
from gateway.identity.testing import ADMIN_EMAIL, ADMIN_PASSWORD, Gateway, gateway_on, staff_token

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
TEMPLATES = Path(dashboard_api.__file__).parent / "templates"


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with gateway_on("sqlite", tmp_path) as gateway:
        yield gateway


@pytest.fixture
async def unlimited(tmp_path: Path) -> AsyncIterator[Gateway]:
    """No rate limits: many bad tokens from one address would soon be 429 instead of 401."""
    async with gateway_on("sqlite", tmp_path, rate_limit_enabled=False) as gateway:
        yield gateway


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """Every request the dashboard's API client sent: (method, raw path and query after
    /api/v1, the answer's status), as it went over the in-process transport."""
    seen: list[tuple[str, str, int]] = []
    original = httpx.ASGITransport.handle_async_request

    async def spy(self: httpx.ASGITransport, request: httpx.Request) -> httpx.Response:
        answer = await original(self, request)
        raw = request.url.raw_path.decode()
        if raw.startswith(dashboard_api.PREFIX + "/"):
            path = raw.removeprefix(dashboard_api.PREFIX)
            seen.append((request.method, path, answer.status_code))
        return answer

    monkeypatch.setattr(httpx.ASGITransport, "handle_async_request", spy)
    return seen


async def signed_in(gw: Gateway) -> str:
    """Sign the client in through the form; the session's CSRF token."""
    page = await gw.client.get("/dashboard/sign-in")
    found = CSRF_FIELD.search(page.text)
    assert found
    form = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf": found.group(1)}
    answer = await gw.client.post("/dashboard/sign-in", data=form)
    assert answer.status_code == 303
    return found.group(1)


def dashboard_routes(gw: Gateway) -> list[tuple[str, str]]:
    """(method, path with every parameter as "1") of each dashboard route of the app."""
    return [r for r in all_routes(gw) if r not in FAKE_BOOKING_PAGES]


# The fake reservation-service answers any id with a stub, not a whole booking: this page of
# one booking cannot be drawn from it (tests/test_dashboard_hostile.py draws it for real).
FAKE_BOOKING_PAGES = {("GET", "/dashboard/reservations/1")}


def all_routes(gw: Gateway) -> list[tuple[str, str]]:
    found = []
    pending: list[Any] = list(gw.app.routes)
    while pending:
        route = pending.pop(0)
        if (included := getattr(route, "original_router", None)) is not None:
            pending += included.routes  # an included router (FastAPI keeps it whole)
        elif isinstance(route, APIRoute) and route.path.startswith(BASE):
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            found += [(method, path) for method in sorted(route.methods)]
    return found


def unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


# --- CSRF -----------------------------------------------------------------------------------


async def test_every_unsafe_dashboard_route_refuses_without_the_csrf_token(
    gw: Gateway, calls: list[tuple[str, str, int]]
) -> None:
    token = await signed_in(gw)
    unsafe = [(m, p) for m, p in all_routes(gw) if m not in ("GET", "HEAD", "OPTIONS")]
    assert len(unsafe) >= 15, unsafe  # every section's writes are found
    calls.clear()
    for method, path in unsafe:
        for headers, data in (
            ({}, {"idem": "k"}),  # no token at all (a cross-site form)
            ({"x-csrf-token": "guessed"}, {}),
            ({}, {"csrf": "guessed"}),
            ({}, {"csrf": token + "x"}),
        ):
            answer = await gw.client.request(method, path, headers=headers, data=data)
            assert answer.status_code == 403, (method, path, answer.status_code)
    assert calls == []  # refused before anything reached the API
    # Sign-out too: a cross-site form cannot end the session.
    still = await gw.client.get("/dashboard/account")
    assert still.status_code == 200


async def test_sign_in_without_a_csrf_cookie_is_refused(gw: Gateway) -> None:
    """Login CSRF: a cross-site form cannot sign the victim in to the attacker's account."""
    form = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf": "attacker-chosen-token"}
    answer = await gw.client.post("/dashboard/sign-in", data=form)
    assert answer.status_code == 403
    assert "hotel_access" not in answer.headers.get("set-cookie", "")


async def test_no_get_route_writes_through_the_api(
    gw: Gateway, calls: list[tuple[str, str, int]]
) -> None:
    await signed_in(gw)
    calls.clear()
    for method, path in dashboard_routes(gw):
        if method == "GET":
            # (the fake reservation-service's bookings are not whole: a page may fail on them)
            await gw.client.get(path, params={"lang": "en", "date": "2030-01-01"})
    writes = [c for c in calls if c[0] != "GET" and c[1] != "/auth/refresh"]
    assert writes == []


# --- ids placed into API paths ----------------------------------------------------------------


@pytest.mark.parametrize(
    "crafted",
    [
        "..",
        "%2e%2e",
        "r-1%3Fconfirmation_number=HX4K7Q",  # a '?' ends the API path early
        "r-1%23",  # a '#' cuts the rest of the API path off
        "%2e%2e%3Fstatus=checked_in",
        "r-1%20x",
        "r-1%5C..",
    ],
)
async def test_an_id_from_the_url_never_reaches_another_api_operation(
    gw: Gateway, calls: list[tuple[str, str, int]], crafted: str
) -> None:
    token = await signed_in(gw)
    calls.clear()
    page = await gw.client.get(f"/dashboard/reservations/{crafted}")
    cancel = await gw.client.post(
        f"/dashboard/reservations/{crafted}/cancel/confirm",
        data={"csrf": token, "idem": "k", "reason": "x"},
    )
    dismiss = await gw.client.post(
        f"/dashboard/guests/merge-suggestions/{crafted}/dismiss", data={"csrf": token}
    )
    for answer in (page, cancel, dismiss):  # (502/503: the fake gateway's missing services)
        assert answer.status_code < 500 or answer.status_code in (502, 503), crafted
    sent = [path for _, path, _ in calls if path != "/auth/refresh"]
    # Nothing with the crafted id was asked of the API: only the guests page's own listing.
    assert set(sent) <= {"/guests/merge-suggestions?limit=50"}, sent


async def test_a_crafted_id_reaches_no_upstream_at_all(gw: Gateway) -> None:
    token = await signed_in(gw)
    before = len(gw.reservations.seen)
    await gw.client.post(
        "/dashboard/reservations/r-1%23/cancel/confirm",
        data={"csrf": token, "idem": "k2", "reason": "x"},
    )
    await gw.client.get("/dashboard/reservations/r-1%3Fconfirmation_number=HX4K7Q")
    assert len(gw.reservations.seen) == before


# --- a forged session -------------------------------------------------------------------------


async def test_a_forged_admin_cookie_gets_no_page_data(
    unlimited: Gateway, calls: list[tuple[str, str, int]]
) -> None:
    """An unsigned token claiming admin: the nav may believe it, the API does not, and every
    page sends the holder to sign in with the forged cookie cleared."""
    gw = unlimited
    forged = unsigned_jwt(
        {"sub": "staff:evil", "kind": "staff", "roles": ["admin"], "exp": 4102444800}
    )
    wrong_key = staff_token(gw.settings.model_copy(update={"token_secret": "x" * 40}))
    for token in (forged, wrong_key):
        gw.client.cookies.clear()
        gw.client.cookies.set("hotel_access", token, path="/dashboard")
        # A page whose panels fail one by one (analytics) still ends the session as a whole.
        htmx = await gw.client.get("/dashboard/analytics", headers={"hx-request": "true"})
        assert htmx.status_code == 204, calls
        assert htmx.headers["hx-redirect"].startswith("/dashboard/sign-in")
        gw.client.cookies.set("hotel_access", token, path="/dashboard")
        for method, path in dashboard_routes(gw):
            if method != "GET" or path in ("/dashboard/sign-in", "/dashboard/language", BASE):
                continue
            calls.clear()
            answer = await gw.client.get(path)
            assert all(status == 401 for *_, status in calls), (path, calls)
            if not calls:  # a page that reads nothing (/account, the empty search form)
                continue
            assert answer.status_code in (303, 204), (path, answer.status_code)
            assert answer.headers["location"].startswith("/dashboard/sign-in"), path
            assert 'hotel_access=""' in answer.headers.get("set-cookie", ""), path


# --- cookie values reflected into the page ----------------------------------------------------


async def test_a_planted_csrf_cookie_cannot_break_out_of_hx_headers(gw: Gateway) -> None:
    planted = 'x", "HX-Current-URL": "evil", "z": "</body><script>alert(1)</script>'
    gw.client.cookies.set("hotel_csrf", planted, path="/dashboard")
    page = await gw.client.get("/dashboard/sign-in")
    assert page.status_code == 200
    found = re.search(r"<body hx-headers='([^']*)'>", page.text)
    assert found, page.text[:800]
    headers = json.loads(html.unescape(found.group(1)))
    assert list(headers) == ["X-CSRF-Token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", headers["X-CSRF-Token"])
    assert "<script>alert" not in page.text
    # ... and a planted value is no token: a post carrying it is refused.
    answer = await gw.client.post(
        "/dashboard/sign-in",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf": planted},
    )
    assert answer.status_code == 403


# --- redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/dashboard/%0d%0aSet-Cookie:%20hotel_access=evil",
        "/dashboard/\r\nSet-Cookie: hotel_access=evil",
        "/dashboard/\\evil.example",
        "/dashboard/../../\\evil.example",
        "/dashboard/..%2f..%2f%2fevil.example",
        "\\\\evil.example/dashboard/",
        "/\\evil.example",
        "javascript:alert(1)//dashboard/",
        "/dashboard/\tjavascript:alert(1)",
    ],
)
async def test_redirects_never_leave_the_dashboard_nor_split_headers(
    gw: Gateway, target: str
) -> None:
    answers = [
        await gw.client.get("/dashboard/language", params={"lang": "en", "next": target}),
        await gw.client.get("/dashboard/sign-in", params={"next": target}),
    ]
    token = CSRF_FIELD.search(answers[1].text)
    assert token
    form = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf": token.group(1)}
    answers.append(await gw.client.post("/dashboard/sign-in", data={**form, "next": target}))
    for answer in (answers[0], answers[2]):
        location = answer.headers["location"]
        assert location.startswith("/dashboard") and not location.startswith("//")
        assert "\r" not in location and "\n" not in location and "\\" not in location
        cookies = answer.headers.get_list("set-cookie")
        assert not any(c.startswith("hotel_access=evil") for c in cookies)
        resolved = httpx.URL("https://gw.example/x/").join(location)
        assert resolved.host == "gw.example" and resolved.path.startswith("/dashboard")


# --- hostile numbers and dates: the API's problem, never a 500 -------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/dashboard/analytics?date_from=9999-12-30&date_to=9999-12-31", None),
        ("GET", "/dashboard/analytics?date_from=0001-01-01&date_to=0001-01-02", None),
        ("GET", "/dashboard/dispatch?date=9999-12-31", None),
        ("GET", "/dashboard/dispatch/board?date=0001-01-01", None),
        ("GET", "/dashboard/complaints/surveys?start=9999-12-31&end=9999-12-31", None),
        ("GET", "/dashboard/reservations?stay_on=9999-12-31", None),
        ("POST", "/dashboard/today/r-1/check-in", {"deposit": "nan", "attested": "yes"}),
        ("POST", "/dashboard/today/r-1/check-in", {"deposit": "inf"}),
        ("POST", "/dashboard/today/r-1/check-in", {"deposit": "1e400"}),
        ("POST", "/dashboard/today/r-1/check-in", {"deposit": "9" * 5000}),
        ("POST", "/dashboard/today/r-1/assign-room", {"room_id": "²"}),
        ("POST", "/dashboard/today/r-1/assign-room", {"room_id": "9" * 5000}),
        (
            "POST",
            "/dashboard/complaints/1/transitions",
            {"to": "remedy_proposed", "compensation_kind": "points", "points": "²"},
        ),
        (
            "POST",
            "/dashboard/complaints/1/transitions",
            {"to": "remedy_proposed", "compensation_kind": "refund", "amount": "nan"},
        ),
        (
            "POST",
            "/dashboard/complaints/1/transitions",
            {"to": "remedy_proposed", "compensation_kind": "refund", "amount": "-inf"},
        ),
        ("POST", "/dashboard/rooms/1/status", {"status": "clean", "room_id": "x"}),
        ("POST", "/dashboard/dispatch/incidents", {"vehicle_id": "9" * 5000, "description": "x"}),
    ],
)
async def test_hostile_numbers_are_never_a_server_error(
    gw: Gateway, method: str, path: str, data: dict[str, str] | None
) -> None:
    token = await signed_in(gw)
    if data is None:
        answer = await gw.client.get(path)
    else:
        answer = await gw.client.post(path, data={**data, "csrf": token, "idem": "k"})
    # The dashboard's own error page relaying the API's 502/503 is the fake gateway's lack of
    # that service; an exception (a 500 of the dashboard's) would have been raised here.
    assert answer.status_code < 500 or answer.status_code in (502, 503), (path, data)


async def test_a_huge_form_is_refused_without_a_server_error(gw: Gateway) -> None:
    token = await signed_in(gw)
    answer = await gw.client.post(
        "/dashboard/complaints",
        data={"csrf": token, "idem": "k", "subject": "x" * 3_000_000, "name": "n"},
    )
    assert answer.status_code < 500 or answer.status_code == 413


# --- headers on every answer -----------------------------------------------------------------


async def test_every_dashboard_answer_has_the_strict_csp_and_no_framing(gw: Gateway) -> None:
    token = await signed_in(gw)
    answers = [await gw.client.get(path) for m, path in dashboard_routes(gw) if m == "GET"]
    answers += [
        await gw.client.post("/dashboard/today/1/confirm"),  # CSRF refusal
        await gw.client.post(
            "/dashboard/dispatch/incidents", data={"csrf": token, "vehicle_id": "x"}
        ),  # validation
        await gw.client.get("/dashboard/no-such-page"),
        await gw.client.get("/dashboard/static/dashboard.js"),
        await gw.client.get("/dashboard/static/../../main.py"),
        await gw.client.get("/dashboard/static/%2e%2e/routes.py"),
    ]
    for answer in answers:
        csp = answer.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, answer.url
        if not answer.url.path.startswith(BASE):
            continue  # a traversal the client normalised out of /dashboard: the API's CSP
        assert "script-src 'self'" in csp, (answer.url, answer.status_code)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert answer.headers.get("x-frame-options") == "DENY"
        assert answer.headers.get("referrer-policy") == "no-referrer"
    for traversal in answers[-2:]:
        assert traversal.status_code == 404
        assert "def install" not in traversal.text


async def test_the_analytics_fragment_shows_a_refused_panel_without_failing(gw: Gateway) -> None:
    """A range change (htmx) answered while a panel's call fails (here: no such service in
    the fake gateway) is the fragment with the problem in place, not a 500."""
    await signed_in(gw)
    answer = await gw.client.get("/dashboard/analytics", headers={"hx-request": "true"})
    assert answer.status_code == 200
    assert 'class="problem"' in answer.text


def test_no_template_has_inline_script_style_or_handlers() -> None:
    """The CSP would block them: they must not exist (every template, scanned)."""
    bad = re.compile(
        r"<script(?![^>]*\bsrc=)|\sstyle\s*=|\son[a-z]+\s*=|hx-on|javascript:|\|\s*safe\b"
        r"|<style|hx-vals\s*=\s*['\"]\s*js:",
        re.IGNORECASE,
    )
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not bad.search(text), (template.name, bad.search(text))


async def test_tokens_never_appear_in_pages_or_urls(gw: Gateway) -> None:
    await signed_in(gw)
    access = gw.client.cookies.get("hotel_access", path="/dashboard")
    refresh = gw.client.cookies.get("hotel_refresh", path="/dashboard")
    assert access and refresh
    for method, path in dashboard_routes(gw):
        if method != "GET":
            continue
        answer = await gw.client.get(path)
        for token in (access, refresh):
            assert token not in answer.text, path
            assert token not in answer.headers.get("location", ""), path


# --- a session after the account changes ------------------------------------------------------


@pytest.fixture
async def short(tmp_path: Path) -> AsyncIterator[Gateway]:
    """30-second tokens: within the refresh margin at once, so every page refreshes."""
    async with gateway_on("sqlite", tmp_path, access_token_seconds=30) as gateway:
        yield gateway


@pytest.mark.parametrize("change", [{"active": False}, {"password": "another-Pass-word-9"}])
async def test_a_disabled_account_or_new_password_ends_the_dashboard_session(
    short: Gateway, change: dict[str, Any]
) -> None:
    admin = await short.admin_headers()
    email = "desk.member@example.com"
    created = await short.client.post(
        "/api/v1/staff-users",
        headers=admin,
        json={
            "email": email,
            "name": "Desk Member",
            "password": "first-Pass-word-1",
            "roles": ["front_desk"],
        },
    )
    assert created.status_code == 201, created.text
    member = httpx.AsyncClient(transport=short.client._transport, base_url=short.client.base_url)
    page = await member.get("/dashboard/sign-in")
    found = CSRF_FIELD.search(page.text)
    assert found
    form = {"email": email, "password": "first-Pass-word-1", "csrf": found.group(1)}
    assert (await member.post("/dashboard/sign-in", data=form)).status_code == 303
    assert (await member.get("/dashboard/account")).status_code == 200
    changed = await short.client.patch(
        f"/api/v1/staff-users/{created.json()['id']}", headers=admin, json=change
    )
    assert changed.status_code == 200, changed.text
    after = await member.get("/dashboard/account")
    assert after.status_code == 303 and after.headers["location"].startswith("/dashboard/sign-in")
