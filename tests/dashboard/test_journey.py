"""The hotel's day on the dashboard, end to end, on the platform exactly as `make run` starts
it (the demo day seeded): a duty manager signs in, finds today's arrival, gives the guest a
room and checks them in, sees the pickup on the dispatch board, reports the car broken down,
sees the job on another car and the guest told, and reads the page in Chinese. Each step
leaves a screenshot in test-artifacts/dashboard/ (journey-*.png)."""

import re
import uuid
from datetime import timedelta
from typing import Any

from browser_kit import ARTIFACTS, RunningPlatform, pickup_of, sign_in, spare_crew, wait_for
from playwright.sync_api import Locator, Page, expect


def region(page: Page, title: str) -> Locator:
    return page.get_by_role("region", name=re.compile(rf"^{re.escape(title)}"))


def snap(page: Page, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{step}.png"), full_page=True)


def assigned_pickup(platform: RunningPlatform, booking: dict[str, Any]) -> dict[str, Any]:
    """The booking's pickup once transfer-service has given it a car."""

    def found() -> dict[str, Any] | None:
        job = pickup_of(platform, booking)
        fresh = platform.api.get(f"/api/v1/transfers/{job['id']}").json()
        return fresh if fresh.get("vehicle") else None

    job: dict[str, Any] = wait_for("a car for the pickup", found)
    return job


def test_a_duty_managers_day_from_arrival_to_breakdown(
    demo_page: Page, demo_platform: RunningPlatform
) -> None:
    page, platform = demo_page, demo_platform
    name = f"Journey Guest {uuid.uuid4().hex[:6].upper()}"
    # Two cars and drivers on shift of the test's own: one for the pickup, one to take over
    # after the breakdown, whatever the demo fleet is doing at this hour.
    spare_crew(platform)
    spare_crew(platform)
    booking = platform.book(name, pickup_in=timedelta(hours=3), nights=2)
    job = assigned_pickup(platform, booking)

    # Sign in; today's arrivals (the demo day's and ours) are on the first page.
    sign_in(page, platform, "manager")
    expect(page).to_have_url(re.compile(r"/dashboard/today$"))
    arrivals = region(page, "Arrivals")
    expect(arrivals.get_by_role("row").filter(has_text="MU")).not_to_have_count(0)
    arrival = arrivals.get_by_role("row").filter(has_text=name)
    expect(arrival).to_contain_text(booking["confirmation_number"])
    snap(page, "1-today")

    # Give the guest a room and check them in from the arrival's row.
    arrival.get_by_role("button", name="Assign room").click()
    arrival.get_by_role("button", name="Assign this room").click()
    expect(page.get_by_role("status")).to_contain_text("assigned")
    arrival = region(page, "Arrivals").get_by_role("row").filter(has_text=name)
    arrival.get_by_role("button", name="Check in").click()
    arrival.get_by_label("Issuing country").fill("GB")
    arrival.get_by_label("Last 4 characters").fill("4321")
    arrival.get_by_label("Deposit").fill(str(booking["total_amount"] // 100 + 200))
    arrival.get_by_label("I have seen the document").check()
    arrival.get_by_role("button", name="Check in now").click()
    expect(page.get_by_role("status")).to_contain_text(f"{name} checked in")
    expect(region(page, "In house").get_by_role("row").filter(has_text=name)).to_contain_text(
        "Checked in"
    )
    snap(page, "2-checked-in")

    # The pickup is on the dispatch board, on the car transfer-service gave it.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Dispatch").click()
    on_board = page.get_by_role("row").filter(has_text=name)
    expect(on_board).to_contain_text(job["vehicle"]["plate"])
    expect(page.locator("svg").filter(has_text=name).first).to_be_attached()
    snap(page, "3-dispatch")

    # The car breaks down: the job moves to another car and the guest is told.
    page.get_by_label("Vehicle", exact=True).select_option(str(job["vehicle"]["id"]))
    page.get_by_label("What happened").fill("Engine warning light on the airport road")
    page.get_by_role("button", name="Report breakdown").click()
    outcome = page.get_by_role("region", name="Report a breakdown")
    expect(outcome).to_contain_text("Breakdown reported")
    expect(outcome.get_by_role("link", name=name)).to_be_visible()
    moved = platform.api.get(f"/api/v1/transfers/{job['id']}").json()
    assert moved["vehicle"] is not None and moved["vehicle"]["id"] != job["vehicle"]["id"]
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text(moved["vehicle"]["plate"])
    wait_for(
        "the guest's notice of the new car",
        lambda: platform.api.get(
            "/api/v1/notifications",
            params={"reservation_id": booking["id"], "kind": "transfer_reassigned"},
        ).json()["items"],
    )
    outcome.get_by_role("link", name=name).click()
    notices = page.get_by_role("region", name="Notices to the guest")
    expect(notices.get_by_role("row").filter(has_text="Crew changed")).not_to_have_count(0)
    snap(page, "4-reassigned-and-told")

    # The same page in Simplified, then Traditional Chinese.
    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("region", name="发给宾客的通知")).to_be_visible()
    snap(page, "5-zh-Hans")
    page.get_by_role("link", name="繁體中文").click()
    expect(page.get_by_role("region", name="發給賓客的通知")).to_be_visible()
    page.get_by_role("navigation", name="欄目").get_by_role("link", name="今日").click()
    expect(region(page, "今日抵店")).to_be_visible()
    snap(page, "6-zh-Hant-today")


def test_the_demo_day_fills_the_dashboard(demo_page: Page, demo_platform: RunningPlatform) -> None:
    """What `make run` shows a newcomer: arrivals with pickups, guests in house, a complaint
    in the queue and figures for the days before today."""
    page = demo_page
    sign_in(page, demo_platform, "manager")
    expect(region(page, "Arrivals").get_by_role("row")).not_to_have_count(0)
    expect(
        region(page, "In house").get_by_role("row").filter(has_text="Checked in")
    ).not_to_have_count(0)
    page.goto("/dashboard/complaints")
    expect(
        page.get_by_role("link", name=re.compile("noise", re.I))
        .or_(page.get_by_role("row").filter(has_text=re.compile("noise", re.I)))
        .first
    ).to_be_visible()
    page.goto("/dashboard/analytics")
    expect(page.get_by_role("img").first).to_be_visible()
    snap(page, "demo-analytics")
