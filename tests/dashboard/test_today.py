"""The Today page: the business day's arrivals, in-house guests and departures, with the
desk's quick actions (confirm, assign a room, check in, check out) and the next days' figures."""

import re
import uuid
from datetime import timedelta

from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, sign_in
from playwright.sync_api import Locator, Page, expect


def guest(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:6].upper()}"


def section(page: Page, title: str) -> Locator:
    return page.get_by_role("region", name=re.compile(rf"^{title}"))


def row(page: Page, title: str, name: str) -> Locator:
    return section(page, title).get_by_role("row").filter(has_text=name)


def checked_in(platform: RunningPlatform, name: str, *, deposit: int) -> dict[str, object]:
    """A booking arriving today, its room assigned and its guest checked in, through the API."""
    booking = platform.book(name)
    base = f"/api/v1/reservations/{booking['id']}"
    assigned = platform.api.post(base + "/assign-room", json={})
    assert assigned.status_code == 200, assigned.text
    body = {
        "id_verification": {"document_type": "passport", "attested": True},
        "deposit": {"amount": deposit},
    }
    answer = platform.api.post(base + "/check-in", json=body)
    assert answer.status_code == 200, answer.text
    return booking


def test_an_arrival_is_listed_with_its_pickup(page: Page, platform: RunningPlatform) -> None:
    name = guest("Arrival Pickup")
    booking = platform.book(name, pickup_in=timedelta(hours=2))
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/today")
    arrival = row(page, "Arrivals", name)
    expect(arrival).to_contain_text(booking["confirmation_number"])
    expect(arrival).to_contain_text("MU5101")
    expect(arrival).to_contain_text("Confirmed")
    expect(page.get_by_role("table", name=re.compile("Tonight and the next"))).to_be_visible()


def test_a_pending_booking_is_confirmed_in_place(page: Page, platform: RunningPlatform) -> None:
    name = guest("Pending Desk")
    platform.book(name, confirm=False)
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/today")
    arrival = row(page, "Arrivals", name)
    expect(arrival).to_contain_text("Pending")
    arrival.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text(f"Booking of {name} confirmed")
    expect(row(page, "Arrivals", name)).to_contain_text("Confirmed")


def test_assign_a_room_check_in_and_out_from_today(page: Page, platform: RunningPlatform) -> None:
    name = guest("Desk Flow")
    booking = platform.book(name, nights=1)
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/today")
    arrival = row(page, "Arrivals", name)
    expect(arrival).to_contain_text("Not assigned")
    arrival.get_by_role("button", name="Assign room").click()
    room = arrival.get_by_label("Suggested room")
    expect(room).to_be_focused()
    number = room.locator("option").first.inner_text().split(" · ")[0]
    arrival.get_by_role("button", name="Assign this room").click()
    expect(page.get_by_role("status")).to_contain_text(f"Room {number} assigned")
    arrival = row(page, "Arrivals", name)
    expect(arrival).to_contain_text(number)

    # Without attesting the ID the API refuses: the problem shows under the booking's row.
    arrival.get_by_role("button", name="Check in").click()
    expect(arrival.get_by_label("ID document")).to_be_focused()
    arrival.get_by_label("Issuing country").fill("CN")
    arrival.get_by_label("Last 4 characters").fill("1234")
    arrival.get_by_role("button", name="Check in now").click()
    refusal = section(page, "Arrivals").get_by_role("alert")
    expect(refusal).to_contain_text("Refused")

    arrival = row(page, "Arrivals", name)
    arrival.get_by_role("button", name="Check in").click()
    arrival.get_by_label("Issuing country").fill("CN")
    arrival.get_by_label("Last 4 characters").fill("1234")
    arrival.get_by_label("Deposit").fill(str(booking["total_amount"] // 100 + 100))
    arrival.get_by_label("I have seen the document").check()
    arrival.get_by_role("button", name="Check in now").click()
    expect(page.get_by_role("status")).to_contain_text(f"{name} checked in to room {number}")
    in_house = row(page, "In house", name)
    expect(in_house).to_contain_text("Checked in")
    expect(in_house).to_contain_text(number)

    in_house.get_by_role("button", name="Check out").click()
    expect(page.get_by_role("status")).to_contain_text(f"{name} checked out")
    expect(row(page, "In house", name)).to_have_count(0)


def test_a_refused_check_out_shows_the_balance(page: Page, platform: RunningPlatform) -> None:
    name = guest("Owes Money")
    checked_in(platform, name, deposit=0)
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/today")
    row(page, "In house", name).get_by_role("button", name="Check out").click()
    refusal = section(page, "In house").get_by_role("alert")
    expect(refusal).to_contain_text("folio_unsettled")
    expect(section(page, "In house")).to_contain_text("Balance owed:")
    expect(row(page, "In house", name)).to_contain_text("Checked in")


def test_the_today_page_passes_axe(page: Page, platform: RunningPlatform) -> None:
    platform.book(guest("Axe Today"), pickup_in=timedelta(hours=2))
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/today")
    expect(section(page, "Arrivals")).to_be_visible()
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
