"""The complaints section: the queue with SLA clocks, a case's steps, survey results."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from browser_kit import RunningPlatform, sign_in
from gateway.dashboard.i18n import translator
from gateway.dashboard.pages.complaints_sla import clock, transition_body
from playwright.sync_api import Page, expect

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def _case(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "status": status,
        "waiting_on_guest": False,
        "response_due_at": (NOW + timedelta(hours=2, minutes=10)).isoformat(),
        "resolution_due_at": (NOW - timedelta(minutes=15)).isoformat(),
        **extra,
    }


def test_the_sla_clock_reads_as_text() -> None:
    t = translator("en")
    assert clock(_case("received"), NOW, t).text == "2 h 10 min left"
    assert clock(_case("investigating"), NOW, t).text == "overdue by 15 min"
    assert clock(_case("investigating"), NOW, t).state == "bad"
    assert clock(_case("assigned", waiting_on_guest=True), NOW, t).state == "paused"
    assert clock(_case("closed"), NOW, t).text == "clock stopped"
    assert translator("zh-Hans")("complaints.sla_left", span="1 小时") == "剩余 1 小时"


def test_a_step_sends_only_its_own_fields() -> None:
    form = {"to": "remedy_proposed", "cause": "Leak", "remedy": "Move room", "owner": "x",
            "compensation_kind": "refund", "amount": "120.50", "note": " "}  # fmt: skip
    body = transition_body("remedy_proposed", form)
    assert body == {
        "to": "remedy_proposed",
        "cause": "Leak",
        "remedy": "Move room",
        "compensation": {"kind": "refund", "amount": 12050, "currency": "CNY"},
    }
    assert transition_body("assigned", {"department": "HK", "cause": "no"}) == {
        "to": "assigned",
        "department": "HK",
    }


def _file(platform: RunningPlatform, subject: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Queue Guest",
        "email": f"queue.{uuid.uuid4().hex[:6]}@example.com",
        "category": "noise",
        "severity": "high",
        "channel": "front_desk",
        "subject": subject,
        **extra,
    }
    answer = platform.api.post(
        "/api/v1/complaints", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 201, answer.text
    case: dict[str, Any] = answer.json()
    return case


def _move(platform: RunningPlatform, case_id: str, **body: Any) -> None:
    answer = platform.api.post(
        f"/api/v1/complaints/{case_id}/transitions",
        json=body,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 200, answer.text


def test_a_filed_complaint_is_queued_with_its_clock_and_moves_on(
    page: Page, platform: RunningPlatform
) -> None:
    subject = f"Loud party next door {uuid.uuid4().hex[:6]}"
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/complaints")
    form = page.get_by_role("region", name="File a complaint")
    form.get_by_label("Guest name").fill("Wang Fang")
    form.get_by_label("Email").fill(f"wang.{uuid.uuid4().hex[:6]}@example.com")
    form.get_by_label("Category").select_option("noise")
    form.get_by_label("Severity").select_option("high")
    form.get_by_label("Subject").fill(subject)
    form.get_by_role("button", name="File the complaint").click()
    expect(page.get_by_role("status").filter(has_text="Complaint filed.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)

    page.get_by_role("link", name="Back to the complaints queue").click()
    row = page.get_by_role("row").filter(has_text=subject)
    expect(row).to_contain_text("Received")
    expect(row).to_contain_text(re.compile(r"\d+ h \d+ min left|\d+ min left"))  # high: 4 h

    row.get_by_role("link").click()
    page.get_by_role("form", name="Validate").get_by_role("button", name="Validate").click()
    expect(page.get_by_role("status").filter(has_text="Case updated.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Validated"))).to_be_visible()
    # validated: the resolution clock runs now (high: 72 h)
    expect(page.get_by_text(re.compile(r"\d+ d \d+ h left"))).to_be_visible()


def test_a_non_manager_approval_is_refused_and_a_manager_approves(
    page: Page, platform: RunningPlatform
) -> None:
    case = _file(platform, f"Broken air conditioning {uuid.uuid4().hex[:6]}")
    _move(platform, case["id"], to="validated")
    _move(platform, case["id"], to="assigned", department="Engineering", owner="Zhou Min")
    _move(platform, case["id"], to="investigating")
    _move(
        platform,
        case["id"],
        to="remedy_proposed",
        cause="Compressor failed",
        remedy="A voucher for a future stay",
        compensation={"kind": "voucher", "amount": 80000, "currency": "CNY"},
    )
    sign_in(page, platform, "front_desk")
    page.goto(f"/dashboard/complaints/{case['id']}")
    expect(page.get_by_text("Needs a manager's approval")).to_be_visible()
    approve = page.get_by_role("form", name="Approve the remedy")
    approve.get_by_role("button", name="Approve the remedy").click()
    expect(page.get_by_role("alert")).to_contain_text("approval_by_manager")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case["case_number"])
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, platform, "manager")
    page.goto(f"/dashboard/complaints/{case['id']}")
    approve = page.get_by_role("form", name="Approve the remedy")
    approve.get_by_role("button", name="Approve the remedy").click()
    expect(page.get_by_role("status").filter(has_text="Case updated.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Approved"))).to_be_visible()
    expect(page.get_by_role("form", name="Mark remedied")).to_be_visible()


def test_the_queue_sorts_by_deadline_and_passes_axe(page: Page, platform: RunningPlatform) -> None:
    tag = uuid.uuid4().hex[:6]
    _file(platform, f"Slow room service {tag}", severity="low")
    _file(platform, f"Fire alarm at night {tag}", severity="critical")
    sign_in(page, platform, "front_desk")
    page.goto("/dashboard/complaints")
    rows = page.get_by_role("row").filter(has_text=tag)
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Fire alarm at night")  # 1 h before 48 h
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


def test_marketing_reads_survey_results_not_cases(page: Page, platform: RunningPlatform) -> None:
    sign_in(page, platform, "marketing")
    page.goto("/dashboard/complaints")
    expect(page.get_by_role("alert")).to_contain_text("403")
    page.get_by_role("link", name="Survey results").click()
    expect(page.get_by_role("heading", name="Survey results", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_role("link", name="繁體中文").click()
    expect(page.get_by_role("heading", name="滿意度調查結果", level=1)).to_be_visible()
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
