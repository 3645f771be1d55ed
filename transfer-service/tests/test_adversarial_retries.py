"""Adversarial review of issue 18: redelivered and out-of-order booking events never open a job
twice, nor one a later version of the booking no longer asks for. On SQLite and PostgreSQL."""

import pytest
from hotel_common.testing import (
    assert_problem,
    eventually,
    principal_headers,
    reservation_confirmed,
    reservation_modified,
)

from .dispatch_world import DISPATCHER, Desk, open_desk
from .dispatch_world import local as desk_local
from .scheduling import local
from .scheduling import world as world  # the fixture


async def test_a_redelivered_confirmation_opens_one_departure(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(departure=local(18))
    twin = reservation_confirmed(**booking.model_dump())  # the same booking, another event id
    marker = world.booking(arrival=local(8))

    envelope = world.service.deliver(booking)
    world.service.redeliver(envelope)
    world.service.deliver(twin)
    world.service.deliver(marker)
    await world.job_of(marker)

    found = await world.service.jobs(reservation_id=booking.reservation_id)
    assert [j["kind"] for j in found] == ["departure_dropoff"]


async def test_a_change_dropping_the_departure_before_the_confirmation_opens_none(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(arrival=local(10), departure=local(18))
    marker = world.booking(arrival=local(8))

    # version 3 (arrival only) overtakes the confirmation (version 2) that asked for both
    world.service.deliver(reservation_modified(booking, departure=None, aggregate_version=3))
    world.service.deliver(booking)
    world.service.deliver(marker)
    await world.job_of(marker)

    found = await world.service.jobs(reservation_id=booking.reservation_id)
    assert [j["kind"] for j in found] == ["arrival_pickup"]


async def test_the_same_breakdown_reported_twice_is_refused_the_second_time(tmp_path) -> None:
    async with open_desk("sqlite", tmp_path) as desk:
        await _twice(desk)


@pytest.mark.infra
async def test_the_same_breakdown_reported_twice_is_refused_on_postgresql(tmp_path) -> None:
    async with open_desk("postgresql", tmp_path) as desk:
        await _twice(desk)


async def _twice(desk: Desk) -> None:
    car = await desk.vehicle()
    spare = await desk.vehicle()
    await desk.driver()
    body = {"kind": "vehicle_breakdown", "vehicle_id": car["id"], "description": "Flat tyre"}
    first = await desk.post("/api/v1/incidents", body)
    assert first.status_code == 201, first.text
    incident_id = first.json()["incident"]["id"]

    again = await desk.post("/api/v1/incidents", body)
    assert_problem(again, 409, "incident_overlaps")
    assert again.json()["incident_id"] == incident_id
    listed = (await desk.client.get("/api/v1/incidents")).json()["items"]
    assert [i["id"] for i in listed] == [incident_id]

    # a later period of the same car, once the first is over, is another incident
    later = body | {
        "starts_at": desk_local(8, days=3).isoformat(),
        "ends_at": desk_local(9, days=3).isoformat(),
    }
    resolved = await desk.post(f"/api/v1/incidents/{incident_id}/resolve")
    assert resolved.status_code == 200, resolved.text
    assert (await desk.post("/api/v1/incidents", later)).status_code == 201
    # a retry with its Idempotency-Key answers the first answer again, writing nothing
    keyed = body | {"vehicle_id": spare["id"], "description": "Battery"}
    headers = principal_headers(DISPATCHER) | {"Idempotency-Key": "breakdown-7"}
    one = await desk.client.post("/api/v1/incidents", json=keyed, headers=headers)
    two = await desk.client.post("/api/v1/incidents", json=keyed, headers=headers)
    assert one.status_code == two.status_code == 201, one.text
    assert two.headers["idempotent-replayed"] == "true"
    assert one.json() == two.json()
    other = await desk.client.post(
        "/api/v1/incidents", json=keyed | {"description": "Other"}, headers=headers
    )
    assert_problem(other, 422, "idempotency_key_reused")


async def test_an_alias_dropped_later_leaves_the_job_planned_on_its_place(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(arrival=local(10))  # "Pudong T2": PVG by its alias, 50 min
    world.service.deliver(booking)
    job = await world.job_of(booking)
    assert job["flags"] == []

    dropped = await world.client.patch(
        f"/api/v1/places/{world.places['PVG']}", json={"aliases": []}
    )
    assert dropped.status_code == 200, dropped.text

    kept = await world.job_of(booking)
    assert (kept["pickup_time"], kept["ends_at"], kept["flags"]) == (
        job["pickup_time"],
        job["ends_at"],
        [],
    )
    # re-planned by a change of the booking, its text no longer names a place: flagged
    later = booking.transfer.model_copy(update={"arrival_time": local(11)})
    world.service.deliver(reservation_modified(booking, transfer=later, aggregate_version=3))
    replanned = await eventually(
        lambda: world.job_of(booking), lambda j: j["pickup_time"] != job["pickup_time"]
    )
    assert replanned["flags"] == ["unknown_place"]
