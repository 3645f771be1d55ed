"""The access policy through the API, acting as each identity: who lists and reads which
transfer jobs, who reports their progress (forward only), who reaches the fleet. Jobs a caller
may not see are 404 by id and absent from every list, whatever the filters. On SQLite, and on
PostgreSQL for the queries."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.principal import ApiScope, Kind, Principal, Role
from hotel_common.testing import eventually, guest_contact, principal_headers, scratch_url

from .conftest import Service, serve


def staff(*roles: Role, driver_id: int | None = None, name: str = "s") -> Principal:
    return Principal(
        id=f"staff:{name}", kind=Kind.STAFF, roles=frozenset(roles), driver_id=driver_id
    )


ANONYMOUS = Principal(id="anonymous", kind=Kind.ANONYMOUS)
PARTNER = Principal(
    id="partner:a",
    kind=Kind.PARTNER,
    channel="ota_a",
    scopes=frozenset({ApiScope.RESERVATIONS_READ, ApiScope.RESERVATIONS_WRITE}),
)
EMAIL_A = "ada.wong@example.com"
PHONE_B = "+8613700137000"


@dataclass
class World:
    """Two assigned jobs (guest A by email, guest B by phone) with drivers A and B, and one
    job still waiting for a driver."""

    service: Service
    job_a: dict[str, Any]
    job_b: dict[str, Any]
    waiting: dict[str, Any]

    @property
    def driver_a(self) -> Principal:
        return staff(Role.DRIVER, driver_id=self.job_a["driver"]["id"], name="driver-a")

    @property
    def driver_b(self) -> Principal:
        return staff(Role.DRIVER, driver_id=self.job_b["driver"]["id"], name="driver-b")

    def holder(self, job: dict[str, Any]) -> Principal:
        rid = job["reservation_id"]
        return Principal(id=f"booking:{rid}", kind=Kind.BOOKING, reservation_id=rid)

    async def get(self, path: str, who: Principal, **params: Any) -> Any:
        client = self.service.client
        return await client.get(path, params=params, headers=principal_headers(who))

    async def post(self, path: str, who: Principal, body: Any) -> Any:
        client = self.service.client
        return await client.post(path, json=body, headers=principal_headers(who))

    async def listed(self, who: Principal, **params: Any) -> set[str]:
        response = await self.get("/api/v1/transfers", who, **params)
        assert response.status_code == 200, response.text
        return {job["id"] for job in response.json()["items"]}

    async def progress(self, job: dict[str, Any], who: Principal, status: str) -> Any:
        return await self.post(f"/api/v1/transfers/{job['id']}/progress", who, {"status": status})


async def build_world(service: Service) -> World:
    for _ in range(2):
        await service.add_vehicle("van", seats=6, luggage=4)
        await service.add_driver()
    guest_a = guest_contact("en", name="Ada Wong", email="Ada.Wong@Example.com", phone=None)
    guest_b = guest_contact("en", name="Bo Li", email="bo.li@example.com", phone=PHONE_B)
    a = service.booking(arrival=service.at(10), guest=guest_a)
    b = service.booking(arrival=service.at(10, 5), guest=guest_b)
    service.deliver(a)
    service.deliver(b)
    job_a, job_b = await service.job_for(a), await service.job_for(b)
    assert job_a["status"] == job_b["status"] == "assigned"
    # No crew left at that hour: the third job waits for dispatch.
    c = service.booking(arrival=service.at(10, 10))
    service.deliver(c)
    waiting = await service.job_for(c)
    assert waiting["status"] == "requested"
    return World(service, job_a, job_b, waiting)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    url = scratch_url(request.param, tmp_path, "transfer_access")
    try:
        async with serve(url) as service:
            yield await build_world(service)
    finally:
        if request.param == "postgresql":
            await drop_database(url)


async def test_dispatch_front_desk_and_managers_see_every_job(world: World) -> None:
    every = {world.job_a["id"], world.job_b["id"], world.waiting["id"]}
    for role in (Role.DISPATCHER, Role.FRONT_DESK, Role.MANAGER, Role.ADMIN):
        assert await world.listed(staff(role)) == every, role
        response = await world.get(f"/api/v1/transfers/{world.job_b['id']}", staff(role))
        assert response.status_code == 200


async def test_a_driver_sees_only_their_own_jobs(world: World) -> None:
    a, b = world.job_a, world.job_b
    assert await world.listed(world.driver_a) == {a["id"]}
    assert await world.listed(world.driver_b) == {b["id"]}
    # Filters narrow, never widen: driver A asking for driver B's jobs gets none.
    assert await world.listed(world.driver_a, driver_id=b["driver"]["id"]) == set()
    assert await world.listed(world.driver_a, reservation_id=b["reservation_id"]) == set()
    assert await world.listed(world.driver_a, status="requested") == set()

    own = await world.get(f"/api/v1/transfers/{a['id']}", world.driver_a)
    assert own.status_code == 200 and own.json()["guest"]["name"] == "Ada Wong"
    for job in (b, world.waiting):
        other = await world.get(f"/api/v1/transfers/{job['id']}", world.driver_a)
        assert other.status_code == 404
        assert other.json()["code"] == "transfer_not_found"
    # A driver account not linked to a driver row sees nothing.
    unlinked = staff(Role.DRIVER, name="new-driver")
    assert await world.listed(unlinked) == set()
    assert (await world.get(f"/api/v1/transfers/{a['id']}", unlinked)).status_code == 404


async def test_a_guest_sees_the_jobs_booked_under_their_address(world: World) -> None:
    a, b = world.job_a, world.job_b
    # The event spelled the address in mixed case; the guest signed in lower-cased.
    by_email = Principal(id="guest:a", kind=Kind.GUEST, email=EMAIL_A)
    by_phone = Principal(id="guest:b", kind=Kind.GUEST, phone=PHONE_B)
    stranger = Principal(id="guest:c", kind=Kind.GUEST, email="nobody@example.com")
    assert await world.listed(by_email) == {a["id"]}
    assert await world.listed(by_phone) == {b["id"]}
    assert await world.listed(stranger) == set()
    assert await world.listed(by_email, reservation_id=b["reservation_id"]) == set()
    assert (await world.get(f"/api/v1/transfers/{a['id']}", by_email)).status_code == 200
    assert (await world.get(f"/api/v1/transfers/{b['id']}", by_email)).status_code == 404
    assert (await world.get(f"/api/v1/transfers/{a['id']}", stranger)).status_code == 404


async def test_a_booking_holder_sees_the_job_of_its_booking(world: World) -> None:
    a, b = world.job_a, world.job_b
    holder = world.holder(a)
    assert await world.listed(holder) == {a["id"]}
    assert await world.listed(holder, reservation_id=b["reservation_id"]) == set()
    assert (await world.get(f"/api/v1/transfers/{a['id']}", holder)).status_code == 200
    probe = await world.get(f"/api/v1/transfers/{b['id']}", holder)
    assert probe.status_code == 404 and probe.json()["code"] == "transfer_not_found"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ANONYMOUS, 401),
        (PARTNER, 403),
        (staff(Role.HOUSEKEEPING), 403),
        (staff(Role.MARKETING), 403),
        (staff(Role.RESERVATIONS), 403),
    ],
)
async def test_others_are_refused_transfers(world: World, who: Principal, status: int) -> None:
    for path in ("/api/v1/transfers", f"/api/v1/transfers/{world.job_a['id']}"):
        response = await world.get(path, who)
        assert response.status_code == status, (path, response.text)
        assert response.json()["code"] == ("unauthenticated" if status == 401 else "forbidden")


async def test_the_assigned_driver_moves_a_job_forward_one_step_at_a_time(world: World) -> None:
    a = world.job_a
    driver = world.driver_a
    skipped = await world.progress(a, driver, "in_progress")
    assert skipped.status_code == 409
    assert skipped.json()["code"] == "invalid_transition"
    assert skipped.json()["current_status"] == "assigned"

    for step in ("driver_on_site", "in_progress", "completed"):
        response = await world.progress(a, driver, step)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == step
        again = await world.progress(a, driver, step)
        assert again.status_code == 409, step  # not forward: no repeat

    back = await world.progress(a, driver, "driver_on_site")
    assert back.status_code == 409 and back.json()["current_status"] == "completed"
    listed = await world.get(f"/api/v1/transfers/{a['id']}", staff(Role.DISPATCHER))
    assert listed.json()["status"] == "completed"


async def test_a_driver_cannot_touch_another_drivers_job(world: World) -> None:
    b = world.job_b
    response = await world.progress(b, world.driver_a, "driver_on_site")
    assert response.status_code == 404
    assert response.json()["code"] == "transfer_not_found"
    job = await world.get(f"/api/v1/transfers/{b['id']}", staff(Role.DISPATCHER))
    assert job.json()["status"] == "assigned"
    # Nor a job waiting for dispatch, nor one that does not exist: the same 404.
    assert (
        await world.progress(world.waiting, world.driver_a, "driver_on_site")
    ).status_code == 404


async def test_dispatch_reports_progress_of_any_job(world: World) -> None:
    response = await world.progress(world.job_b, staff(Role.DISPATCHER), "driver_on_site")
    assert response.status_code == 200 and response.json()["status"] == "driver_on_site"
    # A job without a driver has not been assigned: it cannot progress.
    waiting = await world.progress(world.waiting, staff(Role.DISPATCHER), "driver_on_site")
    assert waiting.status_code == 409 and waiting.json()["current_status"] == "requested"


async def test_a_cancelled_job_does_not_progress(world: World) -> None:
    service = world.service
    booking = service.booking(arrival=service.at(15))
    service.deliver(booking)
    await service.job_for(booking)
    service.deliver(service.cancellation(booking))
    (job,) = await eventually(
        lambda: service.jobs(reservation_id=booking.reservation_id),
        lambda jobs: jobs[0]["status"] == "cancelled",
    )
    response = await world.progress(job, staff(Role.DISPATCHER), "driver_on_site")
    assert response.status_code == 409 and response.json()["current_status"] == "cancelled"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ANONYMOUS, 401),
        (staff(Role.FRONT_DESK), 403),
        (staff(Role.MANAGER), 403),
        (Principal(id="guest:a", kind=Kind.GUEST, email=EMAIL_A), 403),
        (PARTNER, 403),
    ],
)
async def test_only_drivers_and_dispatch_report_progress(
    world: World, who: Principal, status: int
) -> None:
    response = await world.progress(world.job_a, who, "driver_on_site")
    assert response.status_code == status
    job = await world.get(f"/api/v1/transfers/{world.job_a['id']}", staff(Role.DISPATCHER))
    assert job.json()["status"] == "assigned"


async def test_a_progress_body_takes_only_a_forward_state(world: World) -> None:
    path = f"/api/v1/transfers/{world.job_a['id']}/progress"
    for body in (
        {"status": "cancelled"},
        {"status": "assigned"},
        {},
        {"status": "in_progress", "driver_id": 9},
    ):
        response = await world.post(path, staff(Role.DISPATCHER), body)
        assert response.status_code == 422, body


FLEET = ("/api/v1/drivers", "/api/v1/vehicles")


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        (ANONYMOUS, 401, 401),
        (staff(Role.DISPATCHER), 200, 403),
        (staff(Role.MANAGER), 200, 201),
        (staff(Role.ADMIN), 200, 201),
        (staff(Role.FRONT_DESK), 403, 403),
        (staff(Role.DRIVER, driver_id=1), 403, 403),
        (Principal(id="guest:a", kind=Kind.GUEST, email=EMAIL_A), 403, 403),
        (PARTNER, 403, 403),
    ],
)
async def test_the_fleet_is_for_dispatch_and_managers(
    service: Service, who: Principal, read: int, write: int
) -> None:
    bodies = {
        "/api/v1/drivers": {
            "name": "Zhou",
            "phone": "+8613811112222",
            "licence_number": "X-1",
            "licence_expires_on": (date.today() + timedelta(days=900)).isoformat(),
        },
        "/api/v1/vehicles": {
            "plate": "沪B·00001",
            "description": "Buick GL8",
            "vehicle_class": "van",
            "seats": 6,
            "luggage_capacity": 4,
        },
    }
    headers = principal_headers(who)
    for path in FLEET:
        assert (await service.client.get(path, headers=headers)).status_code == read, path
        created = await service.client.post(path, json=bodies[path], headers=headers)
        assert created.status_code == write, (path, created.text)
    listed = await service.client.get("/api/v1/drivers")  # the admin's view
    assert len(listed.json()["items"]) == (1 if write == 201 else 0)


async def test_two_reports_of_one_step_at_once_move_the_job_once(world: World) -> None:
    dispatch = staff(Role.DISPATCHER)
    answers = await asyncio.gather(
        *(world.progress(world.job_b, dispatch, "driver_on_site") for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
