"""Every section, as an admin sees it, in each language, on a front-desk tablet: it renders
(no error page), fits the screen without sideways scrolling, is in the chosen language, and
axe-core finds no serious or critical accessibility violation (checked in English)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, sign_in
from gateway.dashboard.sections import SECTIONS
from playwright.sync_api import Page, expect

TABLET = {"width": 1024, "height": 768}  # an iPad-class screen held landscape
LANGUAGES = {"en": "Sign out", "zh-Hans": "退出登录", "zh-Hant": "登出"}


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_section_renders_fits_a_tablet_and_passes_axe(
    page: Page, platform: RunningPlatform, language: str
) -> None:
    page.set_viewport_size(TABLET)
    sign_in(page, platform, "admin")
    page.goto(f"/dashboard/language?lang={language}&next=/dashboard/today")
    problems: dict[str, list[str]] = {}
    for section in SECTIONS:
        page.goto(section.path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("button", name=LANGUAGES[language])).to_be_visible()
        expect(page.locator(".problem")).to_have_count(0)
        # axe once, in English: the markup is the same in every language (only texts differ,
        # and their fit is what the overflow check below is for).
        found = serious_violations(page) if language == "en" else []
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            found.append(f"wider than the tablet by {overflow}px")
        if found:
            problems[section.path] = found
    assert problems == {}
