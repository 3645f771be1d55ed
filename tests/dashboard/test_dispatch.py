"""The dispatch board: a booking's pickup on the board, reassigned, its vehicle broken down and
the job moved (or flagged) with the guest told, statuses refreshing by themselves, and the
front desk reading without dispatcher actions.

Each test runs its job on a vehicle and driver of its own (registered through the API, the
driver on a dated shift covering the next 20 hours): the demo fleet is shared with every other
test of the worker, so a crew of its own is the one a test can count on being free. The
tests pass one by one; run together on one platform, the embedded platform was seen to stop
answering (every request, for 30 s and more) after the dispatcher writes of two of them:
reported with issue 22's dispatch board.
"""

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, pickup_of, sign_in, spare_crew, wait_for
from playwright.sync_api import Page, expect


@pytest.fixture(scope="module")
def platform(own_platform: RunningPlatform) -> RunningPlatform:
    """This file's own platform: the crews it registers must not be taken by pickups that
    other files left without one."""
    return own_platform


def _row(page: Page, guest: str) -> Any:
    return (
        page.get_by_role("table", name=re.compile("Jobs")).get_by_role("row").filter(has_text=guest)
    )


def test_the_front_desk_reads_the_board_without_dispatcher_actions(
    page: Page, platform: RunningPlatform
) -> None:
    guest = f"Dispatch Desk {uuid.uuid4().hex[:6]}"
    booking = platform.book(guest, pickup_in=timedelta(hours=4))
    pickup_of(platform, booking)
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/dispatch")
    expect(_row(page, guest)).to_be_visible()
    expect(page.get_by_role("heading", name="Report a breakdown")).to_have_count(0)
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()

    _row(page, guest).get_by_role("link", name=guest).click()
    expect(page.get_by_role("heading", name=f"Transfer: {guest}")).to_be_visible()
    expect(page.get_by_role("button", name="Assign this crew")).to_have_count(0)
    expect(page.get_by_text("Your roles cannot read the job's history")).to_be_visible()
    expect(page.get_by_role("region", name="Notices to the guest")).to_be_visible()


def test_a_status_change_shows_without_a_reload(page: Page, platform: RunningPlatform) -> None:
    guest = f"Dispatch Live {uuid.uuid4().hex[:6]}"
    booking = platform.book(guest, pickup_in=timedelta(hours=2))
    job = pickup_of(platform, booking)
    vehicle, driver = spare_crew(platform)
    assigned = platform.api.post(
        f"/api/v1/transfers/{job['id']}/assign",
        json={"vehicle_id": vehicle["id"], "driver_id": driver["id"]},
    )
    assert assigned.status_code == 200, assigned.text
    sign_in(page, platform, "dispatcher")
    page.goto("/dashboard/dispatch")
    expect(_row(page, guest)).to_contain_text("Assigned")
    page.evaluate("window.stillThisPage = true")

    answer = platform.api.post(f"/api/v1/transfers/{job['id']}/en-route")
    assert answer.status_code == 200, answer.text
    expect(_row(page, guest)).to_contain_text("En route", timeout=15_000)  # the 10 s poll
    assert page.evaluate("window.stillThisPage") is True
    expect(page.get_by_role("group", name=re.compile("Timeline"))).to_be_visible()


def test_a_pickup_is_reassigned_then_moved_off_a_broken_vehicle(
    page: Page, platform: RunningPlatform
) -> None:
    guest = f"Dispatch Reassign {uuid.uuid4().hex[:6]}"
    booking = platform.book(guest, pickup_in=timedelta(hours=3))
    job = pickup_of(platform, booking)
    vehicle, driver = spare_crew(platform)
    sign_in(page, platform, "dispatcher", "front_desk")  # front desk: to list the notices
    page.goto("/dashboard/dispatch")
    expect(_row(page, guest)).to_be_visible()

    # Reassign on the job's page: the board and the job show the new crew.
    _row(page, guest).get_by_role("link", name=guest).click()
    expect(page.get_by_role("heading", name=f"Transfer: {guest}")).to_be_visible()
    page.get_by_label("Vehicle", exact=True).select_option(str(vehicle["id"]))
    page.get_by_label("Driver").select_option(str(driver["id"]))
    page.get_by_role("button", name="Assign this crew").click()
    expect(page.locator("#flash")).to_have_text("Crew assigned")
    summary = page.get_by_role("region", name="Job", exact=True)
    expect(summary).to_contain_text(f"{vehicle['plate']} · {vehicle['description']}")
    expect(summary).to_contain_text(driver["name"])
    page.get_by_role("link", name="Back to the dispatch board").click()
    expect(_row(page, guest)).to_contain_text(vehicle["plate"])
    expect(_row(page, guest)).to_contain_text(driver["name"])

    # The vehicle breaks down: the platform moves the job at once, or flags it unassigned.
    page.get_by_label("Vehicle", exact=True).select_option(str(vehicle["id"]))
    page.get_by_label("What happened").fill("Flat tyre on the ring road")
    page.get_by_role("button", name="Report breakdown").click()
    expect(page.locator("#flash")).to_contain_text("Breakdown reported")
    outcome = page.get_by_role("region", name="Report a breakdown")
    expect(outcome.get_by_role("link", name=guest)).to_be_visible()
    after = platform.api.get(f"/api/v1/transfers/{job['id']}").json()
    if after["vehicle"] is not None:  # reassigned: another vehicle, the guest told
        assert after["vehicle"]["id"] != vehicle["id"]
        expect(_row(page, guest)).to_contain_text(after["vehicle"]["plate"])
        expect(_row(page, guest)).not_to_contain_text(vehicle["plate"])
    else:  # nobody free: back to requested, flagged for dispatch
        expect(_row(page, guest)).to_contain_text("Unassigned")
        expect(_row(page, guest)).to_contain_text("Escalated")

    # The job's page lists the notices the guest got about the changes of crew.
    def told() -> int:
        answer = platform.api.get(
            "/api/v1/notifications",
            params={"reservation_id": booking["id"], "kind": "transfer_reassigned"},
        )
        return len(answer.json()["items"])

    wanted = (1 if job["vehicle"] is not None else 0) + (1 if after["vehicle"] else 0)
    if wanted:
        wait_for("the guest's notices", lambda: told() >= wanted)
    _row(page, guest).get_by_role("link", name=guest).click()
    notices = page.get_by_role("region", name="Notices to the guest")
    expect(notices.get_by_role("row").filter(has_text="Crew changed")).to_have_count(told())
    audit = page.get_by_role("region", name="History")
    expect(audit.get_by_role("row").filter(has_text="staff:")).not_to_have_count(0)

    # The car is back: the incident resolved, so the fleet is as the other tests expect it.
    incidents = platform.api.get(
        "/api/v1/incidents", params={"vehicle_id": vehicle["id"], "status": "open"}
    ).json()["items"]
    for incident in incidents:
        resolved = platform.api.post(f"/api/v1/incidents/{incident['id']}/resolve")
        assert resolved.status_code == 200, resolved.text
