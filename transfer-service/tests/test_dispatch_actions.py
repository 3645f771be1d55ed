"""Dispatcher actions through the API (issue 18): assign a named crew, swap crews, replace a
driver, unassign, cancel; each with the crew checks of automatic assignment, an audit line and
its event; a refusal is a 409 problem that writes nothing. On SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from hotel_common.principal import Role
from hotel_common.testing import assert_problem, principal_headers

from .dispatch_world import BACKENDS, DAY, Desk, local, open_desk, staff


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        yield opened


async def test_a_dispatcher_unassigns_a_job_and_gives_it_a_crew_of_their_choice(
    desk: Desk,
) -> None:
    await desk.vehicle()
    spare_vehicle = await desk.vehicle(seats=6, luggage=6)
    await desk.driver("Wang Lei")
    spare_driver = await desk.driver("Zhao Min")
    job = await desk.booking(local(10))
    assert job["status"] == "assigned"

    unassigned = await desk.act(job["id"], "unassign", {"reason": "guest wants a van"})
    assert unassigned.status_code == 200, unassigned.text
    assert (unassigned.json()["status"], unassigned.json()["driver"]) == ("requested", None)
    assert "uncovered" in unassigned.json()["flags"]

    body = {"vehicle_id": spare_vehicle["id"], "driver_id": spare_driver["id"]}
    assigned = await desk.act(job["id"], "assign", body)
    assert assigned.status_code == 200, assigned.text
    now = assigned.json()
    assert now["status"] == "assigned"
    assert (now["vehicle"]["id"], now["driver"]["id"]) == (spare_vehicle["id"], spare_driver["id"])
    assert "uncovered" not in now["flags"] and now["uncovered_reason"] is None

    notices = await desk.wait_events("transfer.assigned", 2, job["id"])
    assert notices[-1].payload["driver_name"] == "Zhao Min"
    (changed,) = await desk.wait_events("transfer.status_changed", 1, job["id"])
    assert (changed.payload["status"], changed.payload["previous_status"]) == (
        "requested",
        "assigned",
    )
    trail = await desk.audit(job["id"])
    assert [line["action"] for line in trail] == ["unassigned", "assigned"]
    assert {line["actor"] for line in trail} == {"staff:dispatcher-1"}
    assert trail[0]["detail"]["reason"] == "guest wants a van"
    assert trail[1]["detail"]["driver_id"] == spare_driver["id"]


async def test_changing_the_crew_of_an_assigned_job_tells_the_guest_who_comes_now(
    desk: Desk,
) -> None:
    await desk.vehicle()
    await desk.driver()
    other = await desk.driver("Chen Jie")
    job = await desk.booking(local(10))

    replaced = await desk.act(job["id"], "swap", {"driver_id": other["id"]})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["driver"]["id"] == other["id"]
    assert replaced.json()["vehicle"]["id"] == job["vehicle"]["id"]  # kept
    (told,) = await desk.wait_events("transfer.reassigned", 1, job["id"])
    assert (told.payload["driver_name"], told.payload["reason"]) == ("Chen Jie", "dispatcher")
    assert [line["action"] for line in await desk.audit(job["id"])] == ["swapped"]


async def test_two_overlapping_jobs_exchange_their_crews(desk: Desk) -> None:
    for _ in range(2):
        await desk.vehicle()
        await desk.driver()
    first = await desk.booking(local(10))
    second = await desk.booking(local(10, 20))
    crews = {(j["vehicle"]["id"], j["driver"]["id"]) for j in (first, second)}
    assert len(crews) == 2

    swapped = await desk.act(first["id"], "swap", {"with_transfer_id": second["id"]})
    assert swapped.status_code == 200, swapped.text
    first_now, second_now = await desk.job(first["id"]), await desk.job(second["id"])
    assert first_now["driver"]["id"] == second["driver"]["id"]
    assert first_now["vehicle"]["id"] == second["vehicle"]["id"]
    assert second_now["driver"]["id"] == first["driver"]["id"]
    assert second_now["vehicle"]["id"] == first["vehicle"]["id"]
    await desk.wait_events("transfer.reassigned", 2)
    for job in (first, second):
        (line,) = await desk.audit(job["id"])
        assert line["action"] == "swapped"


async def test_a_manual_assignment_breaking_a_crew_rule_is_refused_and_writes_nothing(
    desk: Desk,
) -> None:
    small = await desk.vehicle(seats=3)
    van = await desk.vehicle(seats=6, luggage=6)
    driver = await desk.driver()
    busy = await desk.driver()
    expired = await desk.driver(licence_expires_on=(DAY - timedelta(days=1)).isoformat())
    night = await desk.driver(start="20:00", end="04:00")
    family = await desk.booking(local(10), passengers=5, luggage=4)
    other = await desk.booking(local(10, 15))
    assert family["vehicle"]["id"] == van["id"]
    assert {family["driver"]["id"], other["driver"]["id"]} == {driver["id"], busy["id"]}
    other_driver = other["driver"]["id"]

    cases = [
        ({"driver_id": other_driver}, "driver_busy"),
        ({"driver_id": expired["id"]}, "licence_expired"),
        ({"driver_id": night["id"]}, "driver_off_shift"),
        ({"vehicle_id": small["id"]}, "vehicle_does_not_fit"),
        ({"vehicle_id": 999_999}, "vehicle_not_found"),
    ]
    for body, code in cases:
        refused = await desk.act(family["id"], "swap", body)
        assert_problem(refused, 404 if code.endswith("not_found") else 409, code)
    assert await desk.job(family["id"]) == family
    assert await desk.audit(family["id"]) == []
    assert desk.events("transfer.reassigned") == []


async def test_a_finished_job_counts_against_the_daily_driving_limit(desk: Desk) -> None:
    """Driving already done that day counts, for the automatic choice and a named crew alike
    (one set of rules): each job here drives 120 minutes (60 per leg, places unknown)."""
    await desk.vehicle()
    tired = await desk.driver("Tired", daily_driving_limit_minutes=200)
    fresh = await desk.driver("Fresh")
    morning = await desk.booking(local(8))
    assert morning["driver"]["id"] == tired["id"]
    for step in ("en-route", "on-site", "on-board", "complete"):
        assert (await desk.act(morning["id"], step)).status_code == 200

    afternoon = await desk.booking(local(14))
    assert afternoon["driver"]["id"] == fresh["id"]  # 120 + 120 > 200
    refused = await desk.act(afternoon["id"], "swap", {"driver_id": tired["id"]})
    assert_problem(refused, 409, "driver_limit")
    assert await desk.audit(afternoon["id"]) == []


async def test_cancelling_a_job_frees_its_crew_and_cannot_be_repeated(desk: Desk) -> None:
    await desk.vehicle()
    await desk.driver()
    job = await desk.booking(local(10))

    missing = await desk.act(job["id"], "cancel", {})
    assert missing.status_code == 422
    cancelled = await desk.act(job["id"], "cancel", {"reason": "guest took the train instead"})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == (
        "cancelled",
        "guest took the train instead",
    )
    (changed,) = await desk.wait_events("transfer.status_changed", 1, job["id"])
    assert changed.payload["status"] == "cancelled"
    (told,) = await desk.wait_events("transfer.cancelled", 1, job["id"])
    # Issue 20: the guest's notice of a ride dispatch called off names them and the pickup.
    assert told.payload["guest"]["email"] == job["guest"]["email"]
    assert (told.payload["pickup_place"], told.payload["property_timezone"]) == (
        job["pickup_place"],
        "Asia/Shanghai",
    )
    assert told.payload["pickup_time"] is not None and told.payload["confirmation_number"]
    assert told.payload["cause"] == "dispatch"  # only the ride: the guest is told of it
    again = await desk.act(job["id"], "cancel", {"reason": "twice"})
    body = assert_problem(again, 409, "invalid_state")
    assert body["current_status"] == "cancelled"
    assert [line["action"] for line in await desk.audit(job["id"])] == ["cancelled"]

    # Its crew is free: another job at the same time gets it.
    later = await desk.booking(local(10, 10))
    assert later["driver"]["id"] == job["driver"]["id"]


async def test_only_dispatch_acts_and_bad_bodies_are_refused(desk: Desk) -> None:
    vehicle = await desk.vehicle()
    driver = await desk.driver()
    job = await desk.booking(local(10))
    own_driver = staff(Role.DRIVER, driver_id=driver["id"], name="driver")
    crew = {"vehicle_id": vehicle["id"], "driver_id": driver["id"]}
    for who in (own_driver, staff(Role.FRONT_DESK), staff(Role.MANAGER)):
        assert (await desk.act(job["id"], "assign", crew, who=who)).status_code == 403
    desk_clerk = principal_headers(staff(Role.FRONT_DESK))
    reader = await desk.client.get(f"/api/v1/transfers/{job['id']}/audit", headers=desk_clerk)
    assert reader.status_code == 403
    both = await desk.act(job["id"], "swap", {"with_transfer_id": job["id"], "driver_id": 1})
    assert both.status_code == 422
    assert_problem(
        await desk.act(job["id"], "swap", {"with_transfer_id": job["id"]}), 422, "same_transfer"
    )
    assert_problem(
        await desk.act("no-such-job", "cancel", {"reason": "x"}), 404, "transfer_not_found"
    )
    assert (await desk.client.get("/api/v1/transfers/no-such-job/audit")).status_code == 404
