"""The frame every page shares: sign-in, navigation by role, language, sign-out, CSRF."""

import re

import httpx
from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, sign_in
from playwright.sync_api import Page, expect


def test_a_wrong_password_is_refused_on_the_form(page: Page, platform: RunningPlatform) -> None:
    email = platform.staff("front_desk")
    page.goto("/dashboard/today")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in\?next=/dashboard/today"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid_credentials")


def test_staff_see_the_sections_their_roles_use(page: Page, platform: RunningPlatform) -> None:
    sign_in(page, platform, "housekeeping")
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="Room rack")).to_be_visible()
    expect(nav.get_by_role("link", name="Dispatch")).to_have_count(0)
    expect(nav.get_by_role("link", name="Reservations")).to_have_count(0)


def test_switching_the_language_keeps_the_page(page: Page, platform: RunningPlatform) -> None:
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/today")
    page.get_by_role("link", name="繁體中文").click()
    expect(page).to_have_url(re.compile(r"/dashboard/today$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(
        page.get_by_role("navigation", name="欄目").get_by_role("link", name="今日")
    ).to_be_visible()
    page.get_by_role("link", name="简体中文").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def test_sign_out_ends_the_session(page: Page, platform: RunningPlatform) -> None:
    sign_in(page, platform, "front_desk")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/dashboard/today")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in"))


def test_a_write_without_the_csrf_token_is_refused(platform: RunningPlatform) -> None:
    email = platform.staff("front_desk")
    with httpx.Client(base_url=platform.url, follow_redirects=False) as client:
        client.get("/dashboard/sign-in")  # a CSRF cookie, as a cross-site form would ride on
        answer = client.post(
            "/dashboard/sign-in", data={"email": email, "password": "dashboard-test-password-1"}
        )
        assert answer.status_code == 403
        assert "hotel_access" not in answer.cookies


def test_the_sign_in_page_passes_axe(page: Page) -> None:
    page.goto("/dashboard/sign-in")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
