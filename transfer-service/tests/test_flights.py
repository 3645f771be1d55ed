"""Flights that move (issue 18): a flight-status feed or dispatch reports a flight's new time or
its cancellation; every job of that flight not yet under way is re-timed, keeps its crew if
still valid, else gets another, and its guest is told (`transfer.rescheduled`). A booking's own
change moving the arrival does the same. On SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hotel_common.principal import Role
from hotel_common.testing import reservation_confirmed, reservation_modified, transfer_request

from .dispatch_world import BACKENDS, DAY, Desk, local, open_desk, staff


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        yield opened


async def flight_update(desk: Desk, flight: str, **body: object) -> dict[str, object]:
    response = await desk.post(
        "/api/v1/flight-updates", {"flight_number": flight, "date": DAY.isoformat(), **body}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_flight_three_hours_late_moves_the_pickup_and_changes_the_driver_whose_shift_ends(
    desk: Desk,
) -> None:
    vehicle = await desk.vehicle()
    early = await desk.driver("Early Shift", start="06:00", end="13:30")
    late = await desk.driver("Late Shift", start="10:00", end="23:00")
    job = await desk.booking(local(10), flight="MU5101")
    assert job["driver"]["id"] == early["id"]

    outcome = await flight_update(desk, "mu 5101", new_time=local(13).isoformat())
    assert (outcome["status"], outcome["jobs_affected"], outcome["rescheduled"]) == (
        "delayed",
        1,
        [job["id"]],
    )
    moved = await desk.job(job["id"])
    assert at(moved["pickup_time"]) == local(13)
    assert at(moved["driver_on_site_at"]) == local(12, 30)
    assert moved["status"] == "assigned"
    assert moved["driver"]["id"] == late["id"]  # the early shift ends at 13:30
    assert moved["vehicle"]["id"] == vehicle["id"]  # still valid: kept

    (told,) = await desk.wait_events("transfer.rescheduled", 1, job["id"])
    payload = told.payload
    assert payload["reason"] == "flight_delayed"
    assert at(payload["previous_pickup_time"]) == local(10)
    assert at(payload["pickup_time"]) == local(13)
    assert payload["driver_name"] == "Late Shift"
    assert payload["guest"]["language"] == "zh-Hans"
    (line,) = await desk.audit(job["id"])
    assert line["action"] == "rescheduled"
    assert (line["detail"]["previous_driver_id"], line["detail"]["driver_id"]) == (
        early["id"],
        late["id"],
    )


async def test_a_short_delay_keeps_the_crew_and_other_flights_are_left_alone(desk: Desk) -> None:
    await desk.vehicle()
    await desk.vehicle()
    await desk.driver()
    await desk.driver()
    mine = await desk.booking(local(10), flight="MU5101")
    other = await desk.booking(local(10), flight="CA1234")

    outcome = await flight_update(desk, "MU5101", new_time=local(11).isoformat())
    assert outcome["rescheduled"] == [mine["id"]]
    moved = await desk.job(mine["id"])
    assert at(moved["pickup_time"]) == local(11)
    assert (moved["vehicle"], moved["driver"]) == (mine["vehicle"], mine["driver"])
    assert await desk.job(other["id"]) == other

    # The next day's MU5101 has no job; an update for it touches nothing.
    response = await desk.post(
        "/api/v1/flight-updates",
        {
            "flight_number": "MU5101",
            "date": (DAY + timedelta(days=1)).isoformat(),
            "new_time": local(9, days=1).isoformat(),
        },
    )
    assert response.status_code == 200
    assert response.json()["jobs_affected"] == 0


async def test_a_delay_past_every_shift_leaves_the_job_uncovered_and_says_so(desk: Desk) -> None:
    await desk.vehicle()
    await desk.driver(start="06:00", end="13:00")
    job = await desk.booking(local(10))

    outcome = await flight_update(desk, "MU5101", new_time=local(16).isoformat())
    assert outcome["uncovered"] == [job["id"]]
    moved = await desk.job(job["id"])
    assert (moved["status"], moved["driver"]) == ("requested", None)
    assert "uncovered" in moved["flags"] and moved["uncovered_reason"]
    (told,) = await desk.wait_events("transfer.rescheduled", 1, job["id"])
    assert told.payload["driver_name"] is None


async def test_a_cancelled_flight_calls_its_pickups_off(desk: Desk) -> None:
    await desk.vehicle()
    await desk.driver()
    job = await desk.booking(local(10))
    outcome = await flight_update(desk, "MU5101", cancelled=True)
    assert (outcome["status"], outcome["cancelled"]) == ("cancelled", [job["id"]])
    now = await desk.job(job["id"])
    assert (now["status"], now["cancel_reason"]) == ("cancelled", "flight cancelled")
    (changed,) = await desk.wait_events("transfer.status_changed", 1, job["id"])
    assert changed.payload["status"] == "cancelled"


async def test_flight_updates_are_for_dispatch_and_well_formed(desk: Desk) -> None:
    body = {"flight_number": "MU5101", "date": DAY.isoformat(), "new_time": local(9).isoformat()}
    for who in (staff(Role.FRONT_DESK), staff(Role.DRIVER, driver_id=1)):
        assert (await desk.post("/api/v1/flight-updates", body, who)).status_code == 403
    for bad in (
        body | {"cancelled": True},
        {"flight_number": "MU5101", "date": DAY.isoformat()},
        body | {"new_time": "2030-06-01T10:00:00"},  # no offset
        body | {"airline": "MU"},
    ):
        assert (await desk.post("/api/v1/flight-updates", bad)).status_code == 422, bad


async def test_a_booking_change_moving_the_arrival_reschedules_the_pickup(desk: Desk) -> None:
    await desk.vehicle()
    await desk.driver()
    booking = reservation_confirmed(
        property_name="Bund Garden Hotel",
        property_timezone="Asia/Shanghai",
        check_in=DAY,
        check_out=DAY + timedelta(days=2),
        transfer=transfer_request(arrival_time=local(10)),
        aggregate_version=2,
    )
    desk.service.deliver(booking)
    job = await desk.service.job_for(booking)
    await desk.mark(job["id"])
    change = reservation_modified(
        booking, transfer=transfer_request(arrival_time=local(12)), aggregate_version=3
    )
    desk.service.deliver(change)
    (told,) = await desk.wait_events("transfer.rescheduled", 1, job["id"])
    assert told.payload["reason"] == "booking_changed"
    assert at(told.payload["pickup_time"]) == local(12)
    assert told.payload["driver_name"] == job["driver"]["name"]
    # The move, then scheduling's record of the crew it re-checked (kept: still valid).
    moved, kept = await desk.audit(job["id"])
    assert (moved["action"], moved["actor"]) == ("rescheduled", "system")
    assert (kept["action"], kept["detail"]["driver_id"]) == ("assigned", job["driver"]["id"])
