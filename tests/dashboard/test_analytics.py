"""Analytics: charts with their figures, the figures the API gives, the range, roles."""

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, sign_in
from gateway.dashboard import i18n
from playwright.sync_api import Page, expect

SHANGHAI = ZoneInfo("Asia/Shanghai")
PANELS = (
    "Occupancy",
    "ADR and RevPAR",
    "Channel mix",
    "Cancellations",
    "Pickup",
    "Length of stay",
    "On-time pickups",
    "Guest satisfaction",
)


def default_range() -> tuple[str, str, str]:
    """The page's default range: (from, to included, to for the API: the day after)."""
    today = datetime.now(SHANGHAI).date()
    first, last = today - timedelta(days=30), today + timedelta(days=14)
    return first.isoformat(), last.isoformat(), (last + timedelta(days=1)).isoformat()


def occupancy(platform: RunningPlatform, first: str, end: str) -> dict[str, Any]:
    answer = platform.api.get("/api/v1/analytics/occupancy", params={"from": first, "to": end})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_manager_sees_each_chart_with_figures_the_api_gives_and_axe_passes(
    page: Page, platform: RunningPlatform
) -> None:
    platform.book("Analytics Manager-Guest", nights=3)
    sign_in(page, platform, "manager")
    first, _, end = default_range()
    # Other tests book meanwhile: take the figures when the API gives the same before and after.
    for _ in range(3):
        before = occupancy(platform, first, end)
        page.goto("/dashboard/analytics")
        if occupancy(platform, first, end) == before:
            break
    for name in PANELS:
        panel = page.get_by_role("region", name=name, exact=True)
        expect(panel.get_by_role("img").first).to_be_visible()
        expect(panel.get_by_text("Figures as a table").first).to_be_visible()
    occupancy_panel = page.get_by_role("region", name="Occupancy", exact=True)
    adr = i18n.money(before["period"]["adr"], before["currency"])
    expect(occupancy_panel.locator(".kpi", has_text="ADR")).to_contain_text(adr)
    occupancy_panel.get_by_text("Figures as a table").click()
    table = occupancy_panel.get_by_role("table")
    today = before["nights"][30]
    row = table.get_by_role("row", name=re.compile(re.escape(i18n.day(today["night"], "en"))))
    expect(row.get_by_role("cell").first).to_have_text(str(today["rooms_sold"]))
    expect(table.locator("tbody tr")).to_have_count(45)
    chart = occupancy_panel.get_by_role("img", name="Occupancy")
    expect(chart).to_have_attribute("viewBox", re.compile(r"^0 0 \d+ \d+$"))
    # The page with a table open passes axe (one test: a fourth browser context in this file
    # has hung Chromium on this machine).
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
    occupancy_panel.get_by_text("Figures as a table").click()  # closed: a shorter screenshot
    expect(table).to_be_hidden()


def test_changing_the_range_draws_the_charts_again(page: Page, platform: RunningPlatform) -> None:
    sign_in(page, platform, "manager")
    page.goto("/dashboard/analytics")
    today = datetime.now(SHANGHAI).date()
    first, last = today - timedelta(days=2), today + timedelta(days=1)
    page.get_by_label("From").fill(first.isoformat())
    page.get_by_label("To (included)").fill(last.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text(f"Figures from {i18n.day(first, 'en')}")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"date_from={first.isoformat()}"))
    occupancy_panel = page.get_by_role("region", name="Occupancy", exact=True)
    expect(occupancy_panel.locator("tbody tr")).to_have_count(4)
    expect(occupancy_panel.locator("svg .series .marker")).to_have_count(4)
    # An end before the start is said, and the default range shown instead.
    page.goto(f"/dashboard/analytics?date_from={last}&date_to={first}")
    expect(page.get_by_role("alert")).to_contain_text("The end came before the start")


def test_a_dispatcher_sees_transfer_figures_and_not_for_your_role_elsewhere(
    page: Page, platform: RunningPlatform
) -> None:
    sign_in(page, platform, "dispatcher")
    page.goto("/dashboard/analytics")
    transfers = page.get_by_role("region", name="On-time pickups", exact=True)
    expect(transfers.locator(".kpi", has_text="On-time rate")).to_be_visible()
    expect(
        transfers.get_by_text("Counted from the transfer jobs your role may see.")
    ).to_be_visible()
    expect(transfers.get_by_text("Not for your role.")).to_have_count(0)
    for name in PANELS:
        if name != "On-time pickups":
            panel = page.get_by_role("region", name=name, exact=True)
            expect(panel.get_by_text("Not for your role.")).to_be_visible()
            expect(panel.get_by_role("img")).to_have_count(0)
