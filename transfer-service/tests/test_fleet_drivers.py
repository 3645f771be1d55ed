"""Drivers with licences, working time and rest, over HTTP on SQLite and PostgreSQL: a licence
expiry is required and not past, the standing shift has a start and an end, PATCH never takes a
driver from a job they drive, and dated shifts keep the driver's minimum rest between them."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import principal_headers

from .conftest import Service, days

# Shift instants: midnight UTC of the day after tomorrow, plus hours.
BASE = datetime.combine(date.today() + timedelta(days=2), datetime.min.time(), UTC)


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat()


def shift(start: float, end: float) -> dict[str, str]:
    return {"starts_at": at(start), "ends_at": at(end)}


def manager() -> dict[str, str]:
    return principal_headers(Principal(id="staff:9", kind=Kind.STAFF, roles=[Role.MANAGER]))


def dispatcher() -> dict[str, str]:
    return principal_headers(Principal(id="staff:8", kind=Kind.STAFF, roles=[Role.DISPATCHER]))


GOOD = {
    "name": "Zhou Min",
    "phone": "+8613811112222",
    "licence_number": "SH-DL-77",
    "licence_expires_on": days(400),
}


async def test_a_driver_is_registered_with_licence_shift_and_limits(fleet: Service) -> None:
    made = await fleet.client.post(
        "/api/v1/drivers",
        json=GOOD
        | {
            "shift_start": "22:00",
            "shift_end": "06:00",
            "daily_driving_limit_minutes": 480,
            "min_rest_minutes": 720,
        },
    )

    assert made.status_code == 201, made.text
    driver = made.json()
    assert driver["licence_expires_on"] == days(400)
    assert (driver["shift_start"], driver["shift_end"]) == ("22:00:00", "06:00:00")
    assert (driver["daily_driving_limit_minutes"], driver["min_rest_minutes"]) == (480, 720)
    assert (await fleet.client.get(f"/api/v1/drivers/{driver['id']}")).json() == driver


async def test_limits_default_to_nine_hours_driving_and_eleven_of_rest(fleet: Service) -> None:
    driver = await fleet.add_driver()

    assert (driver["daily_driving_limit_minutes"], driver["min_rest_minutes"]) == (540, 660)
    assert driver["shift_start"] is None  # dated shifts only


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"licence_expires_on": None}, "validation_error", "body.licence_expires_on"),
        ({"licence_expires_on": "31/12/2030"}, "validation_error", "body.licence_expires_on"),
        ({"licence_expires_on": days(-1)}, "licence_expired", None),
        ({"shift_start": "08:00"}, "shift_incomplete", None),
        ({"shift_start": "08:00", "shift_end": "08:00"}, "shift_empty", None),
        ({"shift_start": "25:00", "shift_end": "08:00"}, "validation_error", "body.shift_start"),
        ({"daily_driving_limit_minutes": 10}, "validation_error", None),
        ({"min_rest_minutes": -1}, "validation_error", None),
    ],
)
async def test_a_bad_driver_is_refused_and_nothing_written(
    fleet: Service, change: dict[str, Any], code: str, field: str | None
) -> None:
    body = {k: v for k, v in (GOOD | change).items() if v is not None}

    refused = await fleet.client.post("/api/v1/drivers", json=body)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code
    if field:
        assert field in [e["field"] for e in refused.json()["errors"]]
    assert (await fleet.client.get("/api/v1/drivers")).json()["items"] == []


async def test_a_licence_expiring_today_is_still_valid(fleet: Service) -> None:
    made = await fleet.client.post("/api/v1/drivers", json=GOOD | {"licence_expires_on": days(0)})

    assert made.status_code == 201, made.text


async def test_patch_changes_the_fields_given_and_removes_the_standing_shift(
    fleet: Service,
) -> None:
    driver = await fleet.add_driver(shift_start="06:00", shift_end="18:00")
    path = f"/api/v1/drivers/{driver['id']}"

    renewed = await fleet.client.patch(
        path, json={"licence_expires_on": days(2000), "languages": ["en", "ja", "en"]}
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["languages"] == ["en", "ja"]
    assert renewed.json()["shift_start"] == "06:00:00"  # untouched
    off = await fleet.client.patch(path, json={"shift_start": None, "shift_end": None})
    assert off.status_code == 200, off.text
    assert (off.json()["shift_start"], off.json()["shift_end"]) == (None, None)
    assert off.json()["licence_expires_on"] == days(2000)

    half = await fleet.client.patch(path, json={"shift_start": "07:00"})
    assert half.status_code == 422 and half.json()["code"] == "shift_incomplete"
    unknown = await fleet.client.patch(path, json={"licence_number": "X"})
    assert unknown.status_code == 422
    assert (await fleet.client.get(path)).json() == off.json()


async def test_a_driver_is_not_taken_from_a_job_they_drive(fleet: Service) -> None:
    await fleet.add_vehicle()
    driver = await fleet.add_driver(shift_start="08:00", shift_end="23:30")
    booking = fleet.booking()
    fleet.deliver(booking)
    job = await fleet.job_for(booking)
    assert job["driver"]["id"] == driver["id"], job
    path = f"/api/v1/drivers/{driver['id']}"
    day = date.fromisoformat(job["pickup_date"])

    for change in (
        {"status": "inactive"},
        {"licence_expires_on": (day - timedelta(days=1)).isoformat()},
    ):
        refused = await fleet.client.patch(path, json=change)
        assert refused.status_code == 409, (change, refused.text)
        assert refused.json()["code"] == "driver_has_jobs"
        assert refused.json()["jobs"] == [job["id"]]
    on_the_day = await fleet.client.patch(path, json={"licence_expires_on": day.isoformat()})
    assert on_the_day.status_code == 200, on_the_day.text


async def test_dated_shifts_are_planned_and_listed_by_start(fleet: Service) -> None:
    driver = await fleet.add_driver(min_rest_minutes=600)
    path = f"/api/v1/drivers/{driver['id']}/shifts"

    later = await fleet.client.post(path, json=shift(30, 38))  # 10 h after the first ends
    first = await fleet.client.post(path, json=shift(12, 20))

    assert later.status_code == first.status_code == 201, (later.text, first.text)
    assert first.json()["driver_id"] == driver["id"]
    assert first.json()["starts_at"] == at(12).replace("+00:00", "Z")
    listed = (await fleet.client.get(path)).json()["items"]
    assert [s["id"] for s in listed] == [first.json()["id"], later.json()["id"]]


async def test_a_shift_in_another_offset_is_stored_in_utc(fleet: Service) -> None:
    driver = await fleet.add_driver()
    local = BASE.astimezone(ZoneInfo("Asia/Shanghai"))

    made = await fleet.client.post(
        f"/api/v1/drivers/{driver['id']}/shifts",
        json={
            "starts_at": local.isoformat(),
            "ends_at": (local + timedelta(hours=8)).isoformat(),
        },
    )

    assert made.status_code == 201, made.text
    assert made.json()["starts_at"] == at(0).replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("start", "end", "status", "code"),
    [
        (14, 12, 422, "shift_reversed"),
        (12, 12, 422, "shift_reversed"),
        (0, 25, 422, "shift_too_long"),
        (-60, -50, 422, "shift_in_past"),
        (18, 26, 409, "shift_overlaps"),  # starts inside the existing 12-20
        (10, 13, 409, "shift_overlaps"),  # ends inside
        (13, 14, 409, "shift_overlaps"),  # within
        (20, 24, 409, "shift_rest_too_short"),  # right after it
        (30.5, 36, 409, "shift_rest_too_short"),  # 10.5 h of rest < 11 h
        (-4, 2, 409, "shift_rest_too_short"),  # ends 10 h before it starts
    ],
)
async def test_a_shift_reversed_overlapping_or_without_rest_is_refused(
    fleet: Service, start: float, end: float, status: int, code: str
) -> None:
    driver = await fleet.add_driver()  # 660 minutes of rest
    path = f"/api/v1/drivers/{driver['id']}/shifts"
    existing = await fleet.client.post(path, json=shift(12, 20))
    assert existing.status_code == 201

    refused = await fleet.client.post(path, json=shift(start, end))

    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code
    if status == 409:
        assert refused.json()["shift_id"] == existing.json()["id"]
    listed = (await fleet.client.get(path, params={"include_past": "true"})).json()["items"]
    assert [s["id"] for s in listed] == [existing.json()["id"]]


async def test_exactly_the_minimum_rest_is_enough_and_other_drivers_do_not_count(
    fleet: Service,
) -> None:
    driver, other = await fleet.add_driver(), await fleet.add_driver()
    mine = f"/api/v1/drivers/{driver['id']}/shifts"

    assert (await fleet.client.post(mine, json=shift(12, 20))).status_code == 201
    after_rest = await fleet.client.post(mine, json=shift(31, 39))  # 11 h later
    before_rest = await fleet.client.post(mine, json=shift(-7, 1))  # ends 11 h before
    theirs = await fleet.client.post(f"/api/v1/drivers/{other['id']}/shifts", json=shift(13, 19))

    assert after_rest.status_code == before_rest.status_code == 201
    assert theirs.status_code == 201


async def test_shifts_of_an_unknown_driver_are_404(fleet: Service) -> None:
    made = await fleet.client.post("/api/v1/drivers/999/shifts", json=shift(1, 2))
    listed = await fleet.client.get("/api/v1/drivers/999/shifts")

    assert made.status_code == listed.status_code == 404
    assert made.json()["code"] == "driver_not_found"


async def test_managers_plan_shifts_and_dispatch_reads_them(fleet: Service) -> None:
    driver = await fleet.add_driver()
    path = f"/api/v1/drivers/{driver['id']}/shifts"

    by_dispatch = await fleet.client.post(path, json=shift(1, 9), headers=dispatcher())
    by_manager = await fleet.client.post(path, json=shift(1, 9), headers=manager())
    read = await fleet.client.get(path, headers=dispatcher())
    patched = await fleet.client.patch(
        f"/api/v1/drivers/{driver['id']}", json={"min_rest_minutes": 600}, headers=dispatcher()
    )

    assert (by_dispatch.status_code, by_manager.status_code) == (403, 201)
    assert read.status_code == 200 and len(read.json()["items"]) == 1
    assert patched.status_code == 403


async def test_clashing_shifts_sent_at_once_plan_one(fleet: Service) -> None:
    driver = await fleet.add_driver()
    path = f"/api/v1/drivers/{driver['id']}/shifts"

    answers = await asyncio.gather(
        *(fleet.client.post(path, json=shift(10 + n, 18 + n)) for n in range(4))
    )

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert len((await fleet.client.get(path)).json()["items"]) == 1


async def test_a_shift_is_called_off_unless_a_job_of_the_driver_meets_it(fleet: Service) -> None:
    await fleet.add_vehicle()
    driver = await fleet.add_driver(shift_start="08:00", shift_end="23:30")
    path = f"/api/v1/drivers/{driver['id']}/shifts"
    booking = fleet.booking(arrival=fleet.at(10))  # the conftest's test day
    fleet.deliver(booking)
    job = await fleet.job_for(booking)
    assert job["driver"]["id"] == driver["id"], job
    on_the_day = await fleet.client.post(
        path, json={"starts_at": fleet.at(6).isoformat(), "ends_at": fleet.at(14).isoformat()}
    )
    spare = await fleet.client.post(path, json=shift(12, 20))
    assert on_the_day.status_code == spare.status_code == 201, on_the_day.text

    refused = await fleet.client.delete(f"{path}/{on_the_day.json()['id']}")
    removed = await fleet.client.delete(f"{path}/{spare.json()['id']}")
    gone = await fleet.client.delete(f"{path}/{spare.json()['id']}")

    assert refused.status_code == 409 and refused.json()["code"] == "shift_has_jobs"
    assert refused.json()["jobs"] == [job["id"]]
    assert removed.status_code == 200 and removed.json() == spare.json()
    assert gone.status_code == 404 and gone.json()["code"] == "shift_not_found"
    listed = (await fleet.client.get(path)).json()["items"]
    assert [s["id"] for s in listed] == [on_the_day.json()["id"]]
