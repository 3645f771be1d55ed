"""The dashboard's session, driven over HTTP like a browser would: sign-in through the form,
cookies the page scripts cannot read, CSRF on every write, refresh of a token near its end,
and no way out of /dashboard through `next`. (The pages themselves: tests/dashboard/.)"""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from gateway.dashboard import session
from gateway.dashboard.route import safe_next
from gateway.identity.testing import ADMIN_EMAIL, ADMIN_PASSWORD, Gateway, gateway_on

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    # 30-second tokens: within REFRESH_AHEAD of their end at once, so every page refreshes.
    async with gateway_on("sqlite", tmp_path, access_token_seconds=30) as gateway:
        yield gateway


async def csrf_of(client: httpx.AsyncClient) -> str:
    page = await client.get("/dashboard/sign-in")
    assert page.status_code == 200
    found = CSRF_FIELD.search(page.text)
    assert found
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, password: str = ADMIN_PASSWORD) -> httpx.Response:
    form = {"email": ADMIN_EMAIL, "password": password, "csrf": await csrf_of(client)}
    return await client.post("/dashboard/sign-in", data=form)


def set_cookies(answer: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header of the answer by cookie name, whole."""
    return {h.split("=", 1)[0]: h for h in answer.headers.get_list("set-cookie")}


async def test_sign_in_keeps_the_tokens_in_cookies_no_script_can_read(gw: Gateway) -> None:
    answer = await sign_in(gw.client)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/today"  # an admin sees Today first
    cookies = set_cookies(answer)
    for name in ("hotel_access", "hotel_refresh"):
        header = cookies[name].lower()
        assert "httponly" in header and "samesite=strict" in header and "path=/dashboard" in header
    account = await gw.client.get("/dashboard/account")
    assert account.status_code == 200
    assert gw.client.cookies.get("hotel_access", path="/dashboard") not in account.text


async def test_a_wrong_password_shows_the_form_again_with_the_problem(gw: Gateway) -> None:
    answer = await sign_in(gw.client, password="not the password")
    assert answer.status_code == 401
    assert "invalid_credentials" in answer.text and 'name="password"' in answer.text
    assert "hotel_access" not in set_cookies(answer)


async def test_a_post_without_the_session_csrf_token_does_nothing(gw: Gateway) -> None:
    await csrf_of(gw.client)  # the cookie is there, as it would be on a cross-site form post
    for form in (
        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf": "guessed"},
    ):
        answer = await gw.client.post("/dashboard/sign-in", data=form)
        assert answer.status_code == 403
        assert "hotel_access" not in set_cookies(answer)
    # The header htmx sends counts like the form field.
    token = gw.client.cookies.get("hotel_csrf", path="/dashboard")
    assert token
    answer = await gw.client.post(
        "/dashboard/sign-in",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"x-csrf-token": token},
    )
    assert answer.status_code == 303


async def test_a_token_near_its_end_is_refreshed_before_the_page(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(gw.client)
    first_refresh = gw.client.cookies.get("hotel_refresh", path="/dashboard")
    page = await gw.client.get("/dashboard/account")
    assert page.status_code == 200
    renewed = set_cookies(page)
    assert "hotel_access" in renewed and "hotel_refresh" in renewed
    assert gw.client.cookies.get("hotel_refresh", path="/dashboard") != first_refresh
    # The old refresh token was used once: replaying it after the few seconds in which
    # concurrent requests share its renewal ends the session, back to sign-in.
    monkeypatch.setattr(session, "RENEWAL_SHARED_SECONDS", 0)
    gw.client.cookies.set("hotel_refresh", first_refresh or "", path="/dashboard")
    gw.client.cookies.delete("hotel_access", path="/dashboard")
    stale = await gw.client.get("/dashboard/account")
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/dashboard/sign-in")


async def test_without_a_session_pages_send_to_sign_in_and_htmx_is_redirected(
    gw: Gateway,
) -> None:
    page = await gw.client.get("/dashboard/today")
    assert page.status_code == 303
    assert page.headers["location"] == "/dashboard/sign-in?next=/dashboard/today"
    fragment = await gw.client.get("/dashboard/today", headers={"hx-request": "true"})
    assert fragment.status_code == 204
    assert fragment.headers["hx-redirect"].startswith("/dashboard/sign-in")


async def test_dashboard_pages_carry_a_strict_csp_and_no_store(gw: Gateway) -> None:
    page = await gw.client.get("/dashboard/sign-in")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and "style=" not in page.text


async def test_the_language_switch_stays_inside_the_dashboard(gw: Gateway) -> None:
    answer = await gw.client.get(
        "/dashboard/language", params={"lang": "zh-Hant", "next": "https://evil.example/x"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    assert "hotel_lang=zh-Hant" in set_cookies(answer)["hotel_lang"]
    page = await gw.client.get("/dashboard/sign-in")
    assert '<html lang="zh-Hant">' in page.text and "員工登入" in page.text
    unknown = await gw.client.get("/dashboard/language", params={"lang": "xx"})
    assert "hotel_lang" not in set_cookies(unknown)


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/dashboard/today", "/dashboard/today"),
        ("//evil.example/dashboard/", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("/api/v1/staff-users", "/dashboard"),
        ("/dashboardx", "/dashboard"),
        (None, "/dashboard"),
    ],
)
def test_next_is_only_ever_a_dashboard_path(target: str | None, kept: str) -> None:
    assert safe_next(target) == kept
