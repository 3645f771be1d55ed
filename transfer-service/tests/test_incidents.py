"""Breakdowns and drivers unavailable (issue 18): reporting an incident reassigns every job of
that vehicle or driver not yet with the guest on board and meeting its period, tells each guest
the new car and driver before the pickup, and escalates what nobody can cover. On SQLite and
PostgreSQL."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hotel_common.principal import Role
from hotel_common.testing import assert_problem, eventually, running
from notification_service.config import Settings as NoticeSettings
from notification_service.main import create_app as notices_app

from .dispatch_world import BACKENDS, Desk, local, open_desk, staff


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        yield opened


async def report(desk: Desk, **body: object) -> dict[str, object]:
    response = await desk.post("/api/v1/incidents", {"description": "Test incident", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_breakdown_with_three_jobs_ahead_reassigns_and_tells_every_guest(
    desk: Desk,
) -> None:
    broken = await desk.vehicle(seats=3)
    spare = await desk.vehicle(seats=6, luggage=6)
    for _ in range(3):
        await desk.driver()
    jobs = [await desk.booking(local(hour)) for hour in (8, 12, 16)]
    assert {j["vehicle"]["id"] for j in jobs} == {broken["id"]}  # the smallest that fits

    outcome = await report(
        desk,
        kind="vehicle_breakdown",
        vehicle_id=broken["id"],
        description="Gearbox failure on the G2",
    )
    assert sorted(outcome["reassigned"]) == sorted(j["id"] for j in jobs)  # type: ignore[arg-type]
    assert outcome["escalated"] == []
    incident = outcome["incident"]
    assert (incident["status"], incident["kind"]) == ("open", "vehicle_breakdown")  # type: ignore[index]

    for before in jobs:
        after = await desk.job(before["id"])
        assert after["status"] == "assigned"
        assert after["vehicle"]["id"] == spare["id"]
        assert after["driver"]["id"] == before["driver"]["id"]  # the driver was fine: kept
        (told,) = await desk.wait_events("transfer.reassigned", 1, before["id"])
        assert told.payload["reason"] == "vehicle_breakdown"
        assert told.payload["vehicle_plate"] == spare["plate"]
        (line,) = await desk.audit(before["id"])
        assert (line["action"], line["detail"]["previous_vehicle_id"]) == (
            "reassigned",
            broken["id"],
        )

    listed = await desk.client.get("/api/v1/incidents", params={"status": "open"})
    assert [i["id"] for i in listed.json()["items"]] == [incident["id"]]  # type: ignore[index]
    # While open, the broken vehicle is not given to anyone by hand either.
    refused = await desk.act(jobs[0]["id"], "swap", {"vehicle_id": broken["id"]})
    assert_problem(refused, 409, "vehicle_incident")


async def test_a_driver_unavailable_for_the_morning_loses_only_the_mornings_jobs(
    desk: Desk,
) -> None:
    await desk.vehicle()
    await desk.vehicle()
    sick = await desk.driver("Sick Driver")
    await desk.driver("Stand-in")
    morning = await desk.booking(local(9))
    evening = await desk.booking(local(19))
    assert morning["driver"]["id"] == sick["id"]
    if evening["driver"]["id"] != sick["id"]:
        swapped = await desk.act(evening["id"], "swap", {"driver_id": sick["id"]})
        assert swapped.status_code == 200, swapped.text

    outcome = await report(
        desk,
        kind="driver_unavailable",
        driver_id=sick["id"],
        starts_at=local(6).isoformat(),
        ends_at=local(13).isoformat(),
    )
    assert outcome["reassigned"] == [morning["id"]]
    now = await desk.job(morning["id"])
    assert now["driver"]["name"] == "Stand-in"
    assert now["vehicle"]["id"] == morning["vehicle"]["id"]
    assert (await desk.job(evening["id"]))["driver"]["id"] == sick["id"]
    (told,) = await desk.wait_events("transfer.reassigned", 1, morning["id"])
    assert (told.payload["reason"], told.payload["driver_name"]) == (
        "driver_unavailable",
        "Stand-in",
    )


async def test_a_job_nobody_can_cover_is_escalated_and_stays_on_the_board(desk: Desk) -> None:
    only = await desk.vehicle()
    await desk.driver()
    job = await desk.booking(local(10))
    outcome = await report(desk, kind="vehicle_breakdown", vehicle_id=only["id"])
    assert (outcome["reassigned"], outcome["escalated"]) == ([], [job["id"]])

    now = await desk.job(job["id"])
    assert (now["status"], now["vehicle"]) == ("requested", None)
    assert {"uncovered", "escalated"} <= set(now["flags"])
    assert now["uncovered_reason"] == "no_vehicle_free"
    waiting = await desk.service.jobs(status="requested")
    assert [j["id"] for j in waiting] == [job["id"]]
    (changed,) = await desk.wait_events("transfer.status_changed", 1, job["id"])
    assert (changed.payload["status"], changed.payload["previous_status"]) == (
        "requested",
        "assigned",
    )
    assert desk.events("transfer.reassigned") == []
    assert [line["action"] for line in await desk.audit(job["id"])] == ["escalated"]

    incident_id = outcome["incident"]["id"]  # type: ignore[index]
    resolved = await desk.post(f"/api/v1/incidents/{incident_id}/resolve")
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
    again = await desk.post(f"/api/v1/incidents/{incident_id}/resolve")
    assert_problem(again, 409, "incident_resolved")
    fetched = await desk.client.get(f"/api/v1/incidents/{incident_id}")
    assert fetched.json()["status"] == "resolved"


async def test_incidents_are_reported_by_dispatch_and_well_formed(desk: Desk) -> None:
    vehicle = await desk.vehicle()
    driver = await desk.driver()
    body = {"kind": "vehicle_breakdown", "vehicle_id": vehicle["id"], "description": "Flat tyre"}
    own = staff(Role.DRIVER, driver_id=driver["id"])
    for who in (own, staff(Role.FRONT_DESK)):
        assert (await desk.post("/api/v1/incidents", body, who)).status_code == 403
    for bad in (
        body | {"vehicle_id": None},
        body | {"driver_id": driver["id"]},
        {"kind": "driver_unavailable", "vehicle_id": vehicle["id"], "description": "x"},
        body | {"starts_at": local(12).isoformat(), "ends_at": local(11).isoformat()},
        body | {"description": "   "},
    ):
        assert (await desk.post("/api/v1/incidents", bad)).status_code == 422, bad
    missing = await desk.post("/api/v1/incidents", body | {"vehicle_id": 999_999})
    assert_problem(missing, 404, "vehicle_not_found")
    assert_problem(await desk.client.get("/api/v1/incidents/999999"), 404, "incident_not_found")
    assert (await desk.client.get("/api/v1/incidents")).json()["items"] == []
    # Listing by vehicle gives that vehicle's incidents only (not every incident without a
    # driver, as "driver_id IS NULL" once matched).
    other = await desk.vehicle()
    for broken in (vehicle, other):
        await report(desk, kind="vehicle_breakdown", vehicle_id=broken["id"])
    listed = await desk.client.get("/api/v1/incidents", params={"vehicle_id": other["id"]})
    assert [i["vehicle_id"] for i in listed.json()["items"]] == [other["id"]]


async def test_the_guests_of_a_broken_down_car_get_the_new_one_in_their_language(
    tmp_path: Path,
) -> None:
    """The whole chain on one bus: the breakdown reported to transfer-service, the three guests'
    notices written by notification-service, each in the guest's language."""
    async with open_desk("sqlite", tmp_path) as desk:
        notice_settings = NoticeSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/notices.db", log_json=False
        )
        async with running(notices_app(notice_settings, broker=desk.service.broker)) as notices:
            broken = await desk.vehicle(seats=3)
            spare = await desk.vehicle(seats=6, luggage=6)
            for _ in range(3):
                await desk.driver()
            languages = ["en", "zh-Hans", "zh-Hant"]
            jobs = [
                await desk.booking(local(hour), language=language)
                for hour, language in zip((8, 12, 16), languages, strict=True)
            ]
            outcome = await report(desk, kind="vehicle_breakdown", vehicle_id=broken["id"])
            assert len(outcome["reassigned"]) == 3  # type: ignore[arg-type]

            async def told() -> list[dict[str, object]]:
                response = await notices.get(
                    "/api/v1/notifications", params={"kind": "transfer_reassigned"}
                )
                return list(response.json()["items"])

            found = await eventually(told, lambda items: len(items) == 3)
    by_booking = {n["reservation_id"]: n for n in found}
    for job, language in zip(jobs, languages, strict=True):
        notice = by_booking[job["reservation_id"]]
        assert notice["language"] == language
        assert spare["plate"] in str(notice["subject"])
