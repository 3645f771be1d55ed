"""The guests section: search, a profile with stays, points and tier, merge suggestions."""

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, sign_in
from playwright.sync_api import Page, expect


def _eventually(probe: Callable[[], Any], seconds: float = 20) -> Any:
    """What `probe` returns once truthy: profiles and suggestions follow booking events."""
    deadline = time.monotonic() + seconds
    while True:
        if found := probe():
            return found
        assert time.monotonic() < deadline, "not there in time"
        time.sleep(0.3)


def _guest_by_email(platform: RunningPlatform, email: str) -> dict[str, Any] | None:
    items = platform.api.get("/api/v1/guests", params={"email": email}).json()["items"]
    return items[0] if items else None


def _create_guest(platform: RunningPlatform, **body: Any) -> dict[str, Any]:
    answer = platform.api.post(
        "/api/v1/guests", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 201, answer.text
    guest: dict[str, Any] = answer.json()
    return guest


def test_a_booked_guest_is_found_with_their_stays(page: Page, platform: RunningPlatform) -> None:
    name = f"Chen Jing {uuid.uuid4().hex[:6]}"
    booking = platform.book(name, nights=2)
    email = booking["guest"]["email"]
    _eventually(lambda: _guest_by_email(platform, email))
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/guests")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    stays = page.get_by_role("region", name="Stays")
    expect(stays.get_by_role("row").filter(has_text=booking["confirmation_number"])).to_be_visible()
    expect(page.get_by_role("region", name="Details")).to_contain_text(email)


def test_a_members_points_and_tier_show_on_the_profile(
    page: Page, platform: RunningPlatform
) -> None:
    guest = _create_guest(
        platform,
        name=f"Liu Yang {uuid.uuid4().hex[:6]}",
        email=f"liu.{uuid.uuid4().hex[:6]}@example.com",
    )
    enrolled = platform.api.post(
        "/api/v1/loyalty/members",
        json={"guest_id": guest["id"], "waive_minimum": True},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert enrolled.status_code == 201, enrolled.text
    member = enrolled.json()
    sign_in(page, platform, "front_desk")
    page.goto(f"/dashboard/guests/{guest['id']}")
    tier = (member["tier"] or "regular").title()
    expect(page.get_by_text(tier, exact=True)).to_be_visible()
    expect(page.get_by_text(str(member["points_balance"]), exact=True).first).to_be_visible()
    expect(page.get_by_role("region", name="Details")).to_contain_text(member["member_number"])
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


def _near_duplicates(platform: RunningPlatform) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Two profiles of one name and phone with different emails: a merge suggestion."""
    name = f"Zhao Lei {uuid.uuid4().hex[:6]}"
    phone = "+86139" + str(uuid.uuid4().int)[:8]
    first = _create_guest(
        platform, name=name, phone=phone, email=f"z1.{uuid.uuid4().hex[:6]}@example.com"
    )
    second = _create_guest(
        platform, name=name, phone=phone, email=f"z2.{uuid.uuid4().hex[:6]}@example.com"
    )

    def suggested() -> bool:
        page = platform.api.get("/api/v1/guests/merge-suggestions", params={"limit": 200})
        ids = {second["id"], first["id"]}
        return any({g["id"] for g in s["guests"]} == ids for s in page.json()["items"])

    _eventually(suggested)
    return name, first, second


def test_near_duplicates_are_suggested_and_merged(page: Page, platform: RunningPlatform) -> None:
    name, first, second = _near_duplicates(platform)
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/guests")
    pair = page.get_by_role("article", name=f"{name} and {name}")
    expect(pair).to_contain_text("same phone")
    expect(pair.get_by_role("cell", name=first["email"])).to_be_visible()
    expect(pair.get_by_role("cell", name=second["email"])).to_be_visible()
    pair.get_by_role("button", name=re.compile("Merge, keeping Profile A")).click()
    expect(page.get_by_role("status").filter(has_text="Profiles merged")).to_be_visible()
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text(first["email"])
    expect(details).to_contain_text(second["email"])  # the absorbed profile's contact moved
    page.goto("/dashboard/guests")
    expect(page.get_by_role("article", name=f"{name} and {name}")).to_have_count(0)


def test_a_suggestion_can_be_dismissed(page: Page, platform: RunningPlatform) -> None:
    name, _, _ = _near_duplicates(platform)
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/guests")
    pair = page.get_by_role("article", name=f"{name} and {name}")
    pair.get_by_role("button", name="Dismiss: two people").click()
    expect(page.get_by_role("status").filter(has_text="Suggestion dismissed.")).to_be_visible()
    expect(page.get_by_role("article", name=f"{name} and {name}")).to_have_count(0)
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


def test_marketing_sees_contacts_masked(page: Page, platform: RunningPlatform) -> None:
    email = f"masked.{uuid.uuid4().hex[:6]}@example.com"
    guest = _create_guest(platform, name=f"Sun Li {uuid.uuid4().hex[:6]}", email=email)
    sign_in(page, platform, "marketing")
    page.goto(f"/dashboard/guests/{guest['id']}")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("ma*")
    expect(details).not_to_contain_text(email)
    expect(page.get_by_role("region", name="Merge suggestions")).to_have_count(0)
    page.goto("/dashboard/guests")
    expect(page.get_by_role("region", name="Merge suggestions")).to_have_count(0)
    expect(page.get_by_label("ID document")).to_have_count(0)
    page.get_by_label("Name").fill("Sun Li")  # marketing may search by name
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name=re.compile("profiles found"))).to_be_visible()
    page.goto(f"/dashboard/guests/{guest['id']}")
    page.get_by_role("link", name="简体中文").click()
    expect(page.get_by_role("heading", name="客群")).to_be_visible()
    expect(page.get_by_role("heading", name="入住记录")).to_be_visible()
