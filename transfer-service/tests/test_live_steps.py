"""A job's live steps through the API (issue 18): en route, on site, on board, completed, or
no-show; forward only, timestamped, audited, published as `transfer.status_changed`. A no-show
needs the driver's arrival recorded and the free waiting time over. On SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hotel_common.principal import Role
from hotel_common.testing import assert_problem
from transfer_service import fares, live
from transfer_service.config import Settings
from transfer_service.models import Receipt, TransferJob

from .dispatch_world import BACKENDS, Desk, local, open_desk, staff


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        await opened.vehicle()
        await opened.driver()
        yield opened


def clock_at(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """The desk's clock for the live steps (the job is ten days ahead)."""
    monkeypatch.setattr(live, "utcnow", lambda: instant)


async def test_a_ride_from_the_driver_setting_off_to_the_receipt(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await desk.booking(local(10), transport="domestic_flight")
    driver = staff(Role.DRIVER, driver_id=job["driver"]["id"], name="driver-7")

    async def fake_receipt(session, job, vehicle, settings):  # type: ignore[no-untyped-def]
        return Receipt(number="TR-TEST-000001", transfer_id=job.id, amount=28000, currency="CNY")

    monkeypatch.setattr(fares, "issue_receipt", fake_receipt)
    for path, status, stamp in [
        ("en-route", "en_route", "en_route_at"),
        ("on-site", "driver_on_site", "on_site_at"),
        ("on-board", "in_progress", "on_board_at"),
        ("complete", "completed", "completed_at"),
    ]:
        response = await desk.act(job["id"], path, who=driver)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
        assert response.json()[stamp] is not None

    changes = await desk.wait_events("transfer.status_changed", 4, job["id"])
    assert [e.payload["status"] for e in changes] == [
        "en_route",
        "driver_on_site",
        "in_progress",
        "completed",
    ]
    assert changes[0].payload["previous_status"] == "assigned"
    # Issue 20: the driver on site names the place, the car and the driver for the guest's
    # notice; the other steps carry none of it.
    on_site = changes[1].payload
    assert (on_site["pickup_place"], on_site["driver_name"], on_site["driver_phone"]) == (
        job["pickup_place"],
        job["driver"]["name"],
        job["driver"]["phone"],
    )
    assert (on_site["vehicle_plate"], on_site["vehicle_description"]) == (
        job["vehicle"]["plate"],
        job["vehicle"]["description"],
    )
    assert on_site["confirmation_number"] == job["confirmation_number"]
    assert "driver_name" not in changes[0].payload and "pickup_place" not in changes[-1].payload
    versions = [e.aggregate_version for e in changes]
    assert versions == sorted(versions) and len(set(versions)) == 4
    done = changes[-1].payload
    assert (done["receipt_number"], done["fare_amount"], done["fare_currency"]) == (
        "TR-TEST-000001",
        28000,
        "CNY",
    )
    final = await desk.job(job["id"])
    assert (final["fare_amount"], final["fare_currency"]) == (28000, "CNY")
    trail = await desk.audit(job["id"])
    assert [line["action"] for line in trail] == ["en_route", "on_site", "on_board", "complete"]
    assert {line["actor"] for line in trail} == {"staff:driver-7"}
    assert trail[-1]["detail"]["receipt_number"] == "TR-TEST-000001"


async def test_a_no_show_is_refused_before_the_drivers_arrival_is_recorded(desk: Desk) -> None:
    job = await desk.booking(local(10))
    refused = await desk.act(job["id"], "no-show")
    assert assert_problem(refused, 409, "arrival_not_recorded")["current_status"] == "assigned"
    assert (await desk.act(job["id"], "en-route")).status_code == 200
    refused = await desk.act(job["id"], "no-show")
    assert assert_problem(refused, 409, "arrival_not_recorded")["current_status"] == "en_route"
    now = await desk.job(job["id"])
    assert (now["status"], now["no_show_at"]) == ("en_route", None)
    assert [line["action"] for line in await desk.audit(job["id"])] == ["en_route"]


FREE = {None: 60, "international_flight": 60, "domestic_flight": 45, "train": 15}


def test_the_free_waiting_time_by_transport() -> None:
    settings = Settings()
    for transport, minutes in FREE.items():
        job = TransferJob.model_construct(transport=transport)
        assert live.free_wait(job, settings) == timedelta(minutes=minutes)


@pytest.mark.parametrize("transport", list(FREE))
async def test_a_no_show_waits_the_free_time_after_the_guests_arrival(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, transport: str | None
) -> None:
    arrival = local(10)
    job = await desk.booking(arrival, **({"transport": transport} if transport else {}))
    # Planning copies the booking's transport onto the job (none named: an international
    # flight, the longest wait); the wait follows it.
    assert job["transport"] == (transport or "international_flight")
    free_minutes = FREE[transport]
    clock_at(monkeypatch, arrival - timedelta(minutes=20))
    assert (await desk.act(job["id"], "on-site")).status_code == 200

    ends = arrival + timedelta(minutes=free_minutes)
    clock_at(monkeypatch, ends - timedelta(minutes=1))
    early = assert_problem(await desk.act(job["id"], "no-show"), 409, "waiting_time_not_over")
    assert datetime.fromisoformat(early["no_show_from"]) == ends

    clock_at(monkeypatch, ends + timedelta(minutes=1))
    gone = await desk.act(job["id"], "no-show")
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "no_show"
    (event,) = [
        e
        for e in await desk.wait_events("transfer.status_changed", 2, job["id"])
        if e.payload["status"] == "no_show"
    ]
    assert event.payload["previous_status"] == "driver_on_site"


async def test_a_domestic_flights_no_show_waits_45_minutes(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The booking says domestic flight: the job says so and the driver waits 45 minutes after
    the landing, not the international hour."""
    arrival = local(10)
    job = await desk.booking(arrival, flight="MU5137", transport="domestic_flight")
    assert job["transport"] == "domestic_flight"
    clock_at(monkeypatch, arrival - timedelta(minutes=15))
    assert (await desk.act(job["id"], "on-site")).status_code == 200

    clock_at(monkeypatch, arrival + timedelta(minutes=44))
    early = assert_problem(await desk.act(job["id"], "no-show"), 409, "waiting_time_not_over")
    assert datetime.fromisoformat(early["no_show_from"]) == arrival + timedelta(minutes=45)
    clock_at(monkeypatch, arrival + timedelta(minutes=46))  # an international guest still waits
    gone = await desk.act(job["id"], "no-show")
    assert gone.status_code == 200, gone.text
    assert (gone.json()["status"], gone.json()["transport"]) == ("no_show", "domestic_flight")
    assert [line["action"] for line in await desk.audit(job["id"])] == ["on_site", "no_show"]


async def test_a_late_driver_waits_the_free_time_from_his_own_arrival(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrival = local(10)
    job = await desk.booking(arrival, transport="train")
    assert job["transport"] == "train"
    free = timedelta(minutes=15)
    clock_at(monkeypatch, arrival + timedelta(minutes=30))  # 30 minutes late
    assert (await desk.act(job["id"], "on-site")).status_code == 200
    clock_at(monkeypatch, arrival + free + timedelta(minutes=10))  # over, counted from landing
    early = assert_problem(await desk.act(job["id"], "no-show"), 409, "waiting_time_not_over")
    expected = arrival + timedelta(minutes=30) + free
    assert datetime.fromisoformat(early["no_show_from"]) == expected


async def test_boarding_records_the_wait_past_the_free_time(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrival = local(10)
    job = await desk.booking(arrival)  # international: 60 minutes free
    clock_at(monkeypatch, arrival - timedelta(minutes=30))
    assert (await desk.act(job["id"], "on-site")).status_code == 200
    clock_at(monkeypatch, arrival + timedelta(minutes=74))
    boarded = await desk.act(job["id"], "on-board")
    assert boarded.status_code == 200, boarded.text
    (line,) = [x for x in await desk.audit(job["id"]) if x["action"] == "on_board"]
    assert line["detail"]["waiting_minutes"] == 14


async def test_steps_go_forward_only_and_only_for_the_jobs_driver_or_dispatch(
    desk: Desk,
) -> None:
    job = await desk.booking(local(10))
    other_driver = await desk.driver()
    stranger = staff(Role.DRIVER, driver_id=other_driver["id"], name="other")
    assert_problem(await desk.act(job["id"], "en-route", who=stranger), 404, "transfer_not_found")
    assert (await desk.act(job["id"], "en-route", who=staff(Role.FRONT_DESK))).status_code == 403

    skipped = assert_problem(await desk.act(job["id"], "on-board"), 409, "invalid_transition")
    assert skipped["current_status"] == "assigned"
    assert_problem(await desk.act(job["id"], "complete"), 409, "invalid_transition")
    assert (await desk.act(job["id"], "on-site")).status_code == 200
    back = assert_problem(await desk.act(job["id"], "en-route"), 409, "invalid_transition")
    assert back["current_status"] == "driver_on_site"
    assert [line["action"] for line in await desk.audit(job["id"])] == ["on_site"]


async def test_the_old_progress_report_runs_the_same_steps(desk: Desk) -> None:
    job = await desk.booking(local(10))
    for status in ("driver_on_site", "in_progress", "completed"):
        response = await desk.post(f"/api/v1/transfers/{job['id']}/progress", {"status": status})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    final = await desk.job(job["id"])
    assert final["on_site_at"] and final["on_board_at"] and final["completed_at"]
    assert [line["action"] for line in await desk.audit(job["id"])] == [
        "on_site",
        "on_board",
        "complete",
    ]
    await desk.wait_events("transfer.status_changed", 3, job["id"])
