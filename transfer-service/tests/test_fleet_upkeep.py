"""Vehicles with their equipment and upkeep, over HTTP on SQLite and PostgreSQL: registered with
child seats and wheelchair access, changed by PATCH (never stranding a job they carry), and
taken to the workshop for maintenance periods that never overlap."""

import asyncio
from typing import Any

import pytest
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import principal_headers
from transfer_service import coverage

from .conftest import DAY, Service, days


def staff(role: Role) -> dict[str, str]:
    return principal_headers(Principal(id=f"staff:{role.value}", kind=Kind.STAFF, roles=[role]))


async def assigned_job(service: Service, vehicle: dict[str, Any], **booking: Any) -> dict[str, Any]:
    """A booking's pickup assigned to `vehicle` (with a driver on shift all evening)."""
    await service.add_driver(shift_start="08:00", shift_end="23:30")
    confirmed = service.booking(**booking)
    service.deliver(confirmed)
    job = await service.job_for(confirmed)
    assert job["status"] == "assigned" and job["vehicle"]["id"] == vehicle["id"], job
    return job


async def test_a_vehicle_carries_its_equipment_and_upkeep(fleet: Service) -> None:
    van = await fleet.add_vehicle(
        "van",
        seats=7,
        luggage=6,
        child_seats=2,
        wheelchair_accessible=True,
        odometer_km=12_500,
        next_service_date=days(40),
    )

    got = (await fleet.client.get(f"/api/v1/vehicles/{van['id']}")).json()
    assert got == van
    assert (van["child_seats"], van["wheelchair_accessible"]) == (2, True)
    assert (van["odometer_km"], van["next_service_date"]) == (12_500, days(40))
    missing = await fleet.client.get("/api/v1/vehicles/999")
    assert missing.status_code == 404 and missing.json()["code"] == "vehicle_not_found"


async def test_patch_changes_only_the_fields_given_and_retries_uncovered_jobs(
    fleet: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    retried: list[object] = []

    async def retry(session: object, settings: object, **kw: object) -> list[object]:
        retried.append(settings)
        return []

    monkeypatch.setattr(coverage, "retry_uncovered", retry)
    car = await fleet.add_vehicle(next_service_date=days(10))

    patched = await fleet.client.patch(
        f"/api/v1/vehicles/{car['id']}",
        json={"child_seats": 1, "odometer_km": 900, "next_service_date": None},
    )

    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["child_seats"], body["odometer_km"], body["next_service_date"]) == (1, 900, None)
    assert {k: v for k, v in body.items() if k not in ("child_seats", "odometer_km")} == {
        k: v for k, v in car.items() if k not in ("child_seats", "odometer_km", "next_service_date")
    } | {"next_service_date": None}
    assert len(retried) == 2  # the registration and the change


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"odometer_km": 10}, 422, "odometer_backwards"),
        ({"seats": 0}, 422, "validation_error"),
        ({"plate": "沪A·X0001"}, 422, "validation_error"),  # the plate never changes
        ({"wheelchair": True}, 422, "validation_error"),  # unknown field
    ],
)
async def test_a_bad_patch_is_refused_and_nothing_written(
    fleet: Service, change: dict[str, Any], status: int, code: str
) -> None:
    car = await fleet.add_vehicle(odometer_km=500)

    refused = await fleet.client.patch(f"/api/v1/vehicles/{car['id']}", json=change)

    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code
    assert (await fleet.client.get(f"/api/v1/vehicles/{car['id']}")).json() == car


async def test_a_vehicle_is_not_taken_from_under_a_job_it_carries(fleet: Service) -> None:
    van = await fleet.add_vehicle("van", seats=6, luggage=4)
    job = await assigned_job(fleet, van, passengers=5, luggage=3)

    for change in ({"seats": 4}, {"luggage_capacity": 2}, {"status": "out_of_service"}):
        refused = await fleet.client.patch(f"/api/v1/vehicles/{van['id']}", json=change)
        assert refused.status_code == 409, (change, refused.text)
        assert refused.json()["code"] == "vehicle_has_jobs"
        assert refused.json()["jobs"] == [job["id"]]
    fine = await fleet.client.patch(f"/api/v1/vehicles/{van['id']}", json={"seats": 5})
    assert fine.status_code == 200 and fine.json()["seats"] == 5


async def test_a_maintenance_period_is_recorded_listed_and_ended(fleet: Service) -> None:
    car = await fleet.add_vehicle()
    path = f"/api/v1/vehicles/{car['id']}/maintenance"

    made = await fleet.client.post(
        path,
        json={"starts_on": days(3), "ends_on": days(5), "reason": " Brakes "},
        headers=staff(Role.DISPATCHER),
    )

    assert made.status_code == 201, made.text
    period = made.json()
    assert period["vehicle_id"] == car["id"]
    assert (period["starts_on"], period["ends_on"], period["reason"]) == (
        days(3),
        days(5),
        "Brakes",
    )
    assert period["created_by"] == "staff:dispatcher" and period["ended_at"] is None
    assert period["jobs_to_move"] == []
    listed = (await fleet.client.get(path)).json()
    assert listed == {"items": [period], "next_cursor": None}

    ended = await fleet.client.post(f"{path}/{period['id']}/end", json={"back_on": days(4)})
    assert ended.status_code == 200, ended.text
    assert ended.json()["ends_on"] == days(3) and ended.json()["ended_by"] == "staff:test-admin"
    again = await fleet.client.post(f"{path}/{period['id']}/end")
    assert again.status_code == 200 and again.json() == ended.json()  # ended once


async def test_a_period_ended_before_it_began_is_called_off(fleet: Service) -> None:
    car = await fleet.add_vehicle()
    path = f"/api/v1/vehicles/{car['id']}/maintenance"
    period = (
        await fleet.client.post(
            path, json={"starts_on": days(8), "ends_on": days(9), "reason": "Tyres"}
        )
    ).json()

    ended = (await fleet.client.post(f"{path}/{period['id']}/end")).json()  # back today

    assert ended["ends_on"] == days(7)  # the day before it began: no day at all
    assert (await fleet.client.get(path, params={"current": "true"})).json()["items"] == []
    # Its days are free again: a new period may take them.
    retaken = await fleet.client.post(
        path, json={"starts_on": days(8), "ends_on": days(8), "reason": "Tyres, again"}
    )
    assert retaken.status_code == 201, retaken.text


@pytest.mark.parametrize(
    ("starts", "ends", "status", "code"),
    [
        (5, 4, 422, "maintenance_dates_reversed"),
        (-5, -1, 422, "maintenance_in_past"),
        (1, 400, 422, "maintenance_too_long"),
        (6, 12, 409, "maintenance_overlaps"),  # ends inside the existing one
        (2, 7, 409, "maintenance_overlaps"),  # starts inside
        (7, 8, 409, "maintenance_overlaps"),  # within
        (1, 20, 409, "maintenance_overlaps"),  # around it
        (10, 10, 409, "maintenance_overlaps"),  # its last day (inclusive)
    ],
)
async def test_a_bad_or_overlapping_period_is_refused(
    fleet: Service, starts: int, ends: int, status: int, code: str
) -> None:
    car = await fleet.add_vehicle()
    path = f"/api/v1/vehicles/{car['id']}/maintenance"
    first = await fleet.client.post(
        path, json={"starts_on": days(6), "ends_on": days(10), "reason": "Service"}
    )
    assert first.status_code == 201

    refused = await fleet.client.post(
        path, json={"starts_on": days(starts), "ends_on": days(ends), "reason": "More"}
    )

    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code
    if status == 409:
        assert refused.json()["maintenance_id"] == first.json()["id"]
    assert [p["id"] for p in (await fleet.client.get(path)).json()["items"]] == [first.json()["id"]]


async def test_periods_of_other_vehicles_and_adjacent_days_do_not_clash(fleet: Service) -> None:
    car, other = await fleet.add_vehicle(), await fleet.add_vehicle()
    body = {"starts_on": days(3), "ends_on": days(4), "reason": "Service"}

    for vehicle, change in (
        (car, {}),
        (other, {}),
        (car, {"starts_on": days(5), "ends_on": days(5)}),
    ):
        made = await fleet.client.post(
            f"/api/v1/vehicles/{vehicle['id']}/maintenance", json=body | change
        )
        assert made.status_code == 201, made.text


async def test_a_period_on_days_with_jobs_names_the_jobs_to_move(fleet: Service) -> None:
    car = await fleet.add_vehicle()
    job = await assigned_job(fleet, car)
    day = job["pickup_date"]

    made = await fleet.client.post(
        f"/api/v1/vehicles/{car['id']}/maintenance",
        json={"starts_on": day, "ends_on": day, "reason": "Recall"},
    )

    assert made.status_code == 201, made.text
    assert made.json()["jobs_to_move"] == [job["id"]]
    assert DAY.date().isoformat() == day


async def test_maintenance_of_an_unknown_vehicle_or_period_is_404(fleet: Service) -> None:
    car = await fleet.add_vehicle()
    other = await fleet.add_vehicle()
    period = (
        await fleet.client.post(
            f"/api/v1/vehicles/{car['id']}/maintenance",
            json={"starts_on": days(1), "ends_on": days(1), "reason": "Wash"},
        )
    ).json()

    unknown = await fleet.client.post(
        "/api/v1/vehicles/999/maintenance",
        json={"starts_on": days(1), "ends_on": days(1), "reason": "Wash"},
    )
    elsewhere = await fleet.client.post(
        f"/api/v1/vehicles/{other['id']}/maintenance/{period['id']}/end"
    )

    assert unknown.status_code == 404 and unknown.json()["code"] == "vehicle_not_found"
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "maintenance_not_found"


@pytest.mark.parametrize(
    ("role", "read", "record", "patch"),
    [
        (Role.MANAGER, 200, 201, 200),
        (Role.DISPATCHER, 200, 201, 403),
        (Role.FRONT_DESK, 403, 403, 403),
        (Role.DRIVER, 403, 403, 403),
    ],
)
async def test_managers_keep_the_fleet_and_dispatch_records_the_workshop(
    fleet: Service, role: Role, read: int, record: int, patch: int
) -> None:
    car = await fleet.add_vehicle()
    headers = staff(role)
    path = f"/api/v1/vehicles/{car['id']}"

    got = await fleet.client.get(path, headers=headers)
    recorded = await fleet.client.post(
        f"{path}/maintenance",
        json={"starts_on": days(2), "ends_on": days(2), "reason": "Wash"},
        headers=headers,
    )
    patched = await fleet.client.patch(path, json={"odometer_km": 5}, headers=headers)

    assert (got.status_code, recorded.status_code, patched.status_code) == (read, record, patch)


async def test_overlapping_periods_sent_at_once_record_one(fleet: Service) -> None:
    car = await fleet.add_vehicle()
    path = f"/api/v1/vehicles/{car['id']}/maintenance"

    answers = await asyncio.gather(
        *(
            fleet.client.post(
                path, json={"starts_on": days(3 + n), "ends_on": days(6), "reason": f"#{n}"}
            )
            for n in range(4)
        )
    )

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert len((await fleet.client.get(path)).json()["items"]) == 1
