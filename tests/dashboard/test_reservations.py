"""The reservations section: search, one booking's panels, modify and cancel behind a
confirmation screen that shows the money first, marketing's masked view."""

import re
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, sign_in
from gateway.dashboard.pages.reservations_fee import expected_fee
from playwright.sync_api import Page, expect


def _name(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:6].title()}"


def _wait_for_notices(platform: RunningPlatform, booking_id: str) -> None:
    """Notices are sent after the booking's events flow: wait for them before the page."""
    for _ in range(40):
        answer = platform.api.get("/api/v1/notifications", params={"reservation_id": booking_id})
        if answer.status_code == 200 and answer.json()["items"]:
            return
        time.sleep(0.25)


def _search(page: Page, **fields: str) -> None:
    page.goto("/dashboard/reservations")
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Search").click()


def test_find_a_booking_by_name_and_by_confirmation_number(
    page: Page, platform: RunningPlatform
) -> None:
    name = _name("Zhao Findme")
    booking = platform.book(name)
    number = booking["confirmation_number"]
    sign_in(page, platform, "front_desk")
    _search(page, **{"Guest name": name.split()[-1].lower()})
    results = page.get_by_role("table")
    expect(results).to_contain_text(name)
    expect(results.get_by_role("row")).to_have_count(2)  # header + the one booking
    _search(page, **{"Confirmation number": number.lower()})
    page.get_by_role("link", name=f"Open booking {number}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.get_by_text(name).first).to_be_visible()


def test_the_booking_shows_folio_pickup_notices_and_history(
    page: Page, platform: RunningPlatform
) -> None:
    booking = platform.book(_name("Qian Pickup"), pickup_in=timedelta(hours=3))
    _wait_for_notices(platform, booking["id"])
    sign_in(page, platform, "front_desk")
    page.goto(f"/dashboard/reservations/{booking['id']}")
    pickup = page.get_by_role("region", name="Pickup")
    expect(pickup).to_contain_text("Shanghai Pudong International Airport T1")
    expect(pickup).to_contain_text("MU5101")
    folio = page.get_by_role("region", name="Folio")
    expect(folio).to_contain_text("Balance")
    notices = page.get_by_role("region", name="Notices sent")
    expect(notices.get_by_role("table")).to_contain_text("reservation_")
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("confirmed")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


def test_cancel_shows_the_fee_before_confirming(page: Page, platform: RunningPlatform) -> None:
    booking = platform.book(_name("Sun Cancel"))  # arrives today: past free cancellation
    first_night = booking["nightly_amounts"][0]
    expected = f"¥{first_night / 100:,.2f}"
    sign_in(page, platform, "reservations")
    page.goto(f"/dashboard/reservations/{booking['id']}")
    page.get_by_label("Reason").fill("Plans changed")
    page.get_by_role("button", name="Review the cancellation fee").click()
    expect(page.get_by_role("heading", name="Confirm the cancellation")).to_be_visible()
    expect(page.get_by_text(expected)).to_be_visible()
    page.get_by_role("button", name="Confirm the cancellation").click()
    expect(page.get_by_role("status").filter(has_text="cancelled")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancelled")
    expect(page.locator("dd").filter(has_text=expected).first).to_be_visible()
    after = platform.api.get(f"/api/v1/reservations/{booking['id']}").json()
    assert after["status"] == "cancelled"
    assert after["cancellation_fee_amount"] == first_night


def test_modify_dates_shows_the_new_price_and_saves(page: Page, platform: RunningPlatform) -> None:
    booking = platform.book(_name("Li Longer"), nights=2)
    new_out = (date.fromisoformat(booking["check_out"]) + timedelta(days=1)).isoformat()
    sign_in(page, platform, "front_desk")
    page.goto(f"/dashboard/reservations/{booking['id']}")
    page.get_by_label("Check-out").fill(new_out)
    page.get_by_role("button", name="Review the price").click()
    expect(page.get_by_role("heading", name="Confirm the change")).to_be_visible()
    quote = platform.api.post(
        "/api/v1/quotes",
        json={
            "room_type_code": booking["room_type_code"],
            "check_in": booking["check_in"],
            "check_out": new_out,
            "guests": booking["guests"],
            "rate_plan_code": booking["rate_plan_code"],
        },
    ).json()
    new_total = f"¥{quote['total_amount'] / 100:,.2f}"
    expect(page.get_by_text(new_total).first).to_be_visible()
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_role("status").filter(has_text="changed")).to_be_visible()
    after = platform.api.get(f"/api/v1/reservations/{booking['id']}").json()
    assert after["check_out"] == new_out
    assert after["total_amount"] == quote["total_amount"]


def test_a_refused_modify_shows_the_problem_and_changes_nothing(
    page: Page, platform: RunningPlatform
) -> None:
    booking = platform.book(_name("Zhou Backwards"), nights=2)
    before = (date.fromisoformat(booking["check_in"]) - timedelta(days=1)).isoformat()
    sign_in(page, platform, "front_desk")
    page.goto(f"/dashboard/reservations/{booking['id']}")
    page.get_by_label("Check-out").fill(before)
    page.get_by_role("button", name="Review the price").click()
    expect(page.get_by_role("alert")).to_contain_text("check_out_not_after_check_in")
    expect(page.get_by_role("heading", name="Confirm the change")).to_have_count(0)
    after = platform.api.get(f"/api/v1/reservations/{booking['id']}").json()
    assert after["check_out"] == booking["check_out"]
    assert after["total_amount"] == booking["total_amount"]


def test_marketing_sees_the_booking_with_contacts_masked(
    page: Page, platform: RunningPlatform
) -> None:
    name = _name("Wu Masked")
    booking = platform.book(name, pickup_in=timedelta(hours=3))
    sign_in(page, platform, "marketing")
    _search(page, **{"Confirmation number": booking["confirmation_number"]})
    expect(page.get_by_role("table")).to_contain_text(name)
    expect(page.get_by_role("table")).not_to_contain_text(booking["guest"]["email"])
    page.get_by_role("link", name=re.compile("Open booking")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(booking["confirmation_number"])
    expect(page.get_by_text(booking["guest"]["email"])).to_have_count(0)
    expect(page.get_by_role("region", name="Folio")).to_contain_text("Your role may not see this")
    expect(page.get_by_role("button", name="Review the cancellation fee")).to_have_count(0)
    expect(page.get_by_role("region", name="History")).to_contain_text("confirmed")


def test_the_expected_fee_follows_the_booking_policy() -> None:
    booking = {
        "status": "confirmed",
        "check_in": "2030-06-10",
        "total_amount": 30000,
        "lines": [{"nightly_amounts": [10000, 12000]}, {"nightly_amounts": [5000, 5000]}],
        "policy": {"cancellation": {"free_until_hours": 48, "fee": "percent", "fee_percent": 25}},
    }
    zone, at = "Asia/Shanghai", clock_time(14, 0)
    early = datetime(2030, 6, 8, 5, 59, tzinfo=UTC)  # 13:59 local, 48 h + 1 min before arrival
    assert expected_fee(booking, early, at, zone)[0] == 0
    late = datetime(2030, 6, 8, 6, 0, tzinfo=UTC)
    assert expected_fee(booking, late, at, zone)[0] == 8000  # 25% of the 32,000 room amount
    booking["policy"] = {"cancellation": {"free_until_hours": 24, "fee": "first_night"}}
    assert expected_fee(booking, late, at, zone)[0] == 0  # still more than 24 h ahead
    day_before = datetime(2030, 6, 9, 6, 0, tzinfo=UTC)
    assert expected_fee(booking, day_before, at, zone)[0] == 15000  # both rooms' first night
    assert expected_fee({**booking, "status": "requested"}, day_before, at, zone)[0] == 0
