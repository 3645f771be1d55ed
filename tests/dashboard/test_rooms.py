"""The Room rack: rooms by floor with housekeeping status and occupant; mark clean, dirty,
out of order and back; housekeeping sees the rack without guests' names."""

import uuid
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, sign_in
from playwright.sync_api import Locator, Page, expect


def room_row(page: Page, number: str) -> Locator:
    return page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=number, exact=True)
    )


def a_room(platform: RunningPlatform, room_type: str, index: int) -> dict[str, Any]:
    """A room of `room_type` to mark (tests of other pages book KNG: these use other types)."""
    answer = platform.api.get("/api/v1/rooms", params={"room_type_code": room_type, "limit": 200})
    assert answer.status_code == 200, answer.text
    rooms = sorted(answer.json()["items"], key=lambda r: r["number"])
    return dict(rooms[index])


def test_the_rack_shows_an_in_house_guest_in_their_room(
    page: Page, platform: RunningPlatform
) -> None:
    name = f"Rack Guest {uuid.uuid4().hex[:6].upper()}"
    booking = platform.book(name, nights=1)
    base = f"/api/v1/reservations/{booking['id']}"
    assigned = platform.api.post(base + "/assign-room", json={})
    assert assigned.status_code == 200, assigned.text
    body = {"id_verification": {"document_type": "passport", "attested": True}}
    assert platform.api.post(base + "/check-in", json=body).status_code == 200
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/rooms")
    expect(room_row(page, assigned.json()["room_number"])).to_contain_text(name)


def test_housekeeping_marks_a_room_dirty_then_clean(page: Page, platform: RunningPlatform) -> None:
    room = a_room(platform, "STE", -1)
    platform.api.patch(f"/api/v1/rooms/{room['id']}", json={"housekeeping_status": "clean"})
    sign_in(page, platform, "housekeeping")
    page.goto("/dashboard/rooms")
    expect(page.get_by_text("Guest names are not shown for your role")).to_be_visible()
    row = room_row(page, room["number"])
    expect(row).to_contain_text("Not shown")
    row.get_by_role("button", name="Mark dirty").click()
    expect(page.get_by_role("status")).to_contain_text(f"Room {room['number']}: Dirty")
    expect(room_row(page, room["number"])).to_contain_text("Dirty")
    page.reload()
    row = room_row(page, room["number"])
    expect(row).to_contain_text("Dirty")
    row.get_by_role("button", name="Mark clean").click()
    expect(page.get_by_role("status")).to_contain_text(f"Room {room['number']}: Clean")
    expect(room_row(page, room["number"]).get_by_role("button", name="Mark dirty")).to_be_visible()


def test_out_of_order_and_back(page: Page, platform: RunningPlatform) -> None:
    room = a_room(platform, "STE", -2)
    sign_in(page, platform, "housekeeping")
    page.goto("/dashboard/rooms")
    room_row(page, room["number"]).get_by_role("button", name="Out of order").click()
    row = room_row(page, room["number"])
    expect(row).to_contain_text("Out of order")
    listed = platform.api.get("/api/v1/rooms", params={"room_type_code": "STE", "limit": 200})
    status = {r["id"]: r["housekeeping_status"] for r in listed.json()["items"]}
    assert status[room["id"]] == "out_of_order"
    row.get_by_role("button", name="Back in order").click()
    expect(page.get_by_role("status")).to_contain_text("back in order")
    row = room_row(page, room["number"])
    expect(row).to_contain_text("Dirty")
    row.get_by_role("button", name="Mark clean").click()
    expect(room_row(page, room["number"])).to_contain_text("Clean")


def test_the_room_rack_passes_axe(page: Page, platform: RunningPlatform) -> None:
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/rooms")
    expect(page.get_by_role("heading", name="Room rack")).to_be_visible()
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
