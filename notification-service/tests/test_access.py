"""The access policy through the API, acting as each identity: the front desk and managers
read every notice, a signed-in guest those sent to their email, a booking holder its booking's;
only managers retry; everyone else is refused. Notices a caller may not see are 404 by id and
absent from every list, whatever the filters. On SQLite, and on PostgreSQL for the queries."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.principal import ApiScope, Kind, Principal, Role
from hotel_common.testing import guest_contact, principal_headers, scratch_url

from .conftest import Samples, Service, StartService


def staff(*roles: Role) -> Principal:
    return Principal(id="staff:s", kind=Kind.STAFF, roles=frozenset(roles))


ANONYMOUS = Principal(id="anonymous", kind=Kind.ANONYMOUS)
PARTNER = Principal(
    id="partner:a", kind=Kind.PARTNER, scopes=frozenset({ApiScope.RESERVATIONS_READ})
)
GUEST_A = Principal(id="guest:a", kind=Kind.GUEST, email="ada.wong@example.com")


@dataclass
class World:
    svc: Service
    a: dict[str, Any]  # Ada's confirmation (her address spelled in mixed case by the event)
    b: dict[str, Any]  # Bo's

    def holder(self, notice: dict[str, Any]) -> Principal:
        rid = notice["reservation_id"]
        return Principal(id=f"booking:{rid}", kind=Kind.BOOKING, reservation_id=rid)

    async def call(self, method: str, path: str, who: Principal, **kwargs: Any) -> Any:
        return await self.svc.client.request(method, path, headers=principal_headers(who), **kwargs)

    async def listed(self, who: Principal, **params: Any) -> set[str]:
        response = await self.call("GET", "/api/v1/notifications", who, params=params)
        assert response.status_code == 200, response.text
        return {n["id"] for n in response.json()["items"]}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, start_service: StartService, samples: Samples
) -> AsyncIterator[World]:
    url = scratch_url(request.param, tmp_path, "notification_access")
    try:
        async with start_service(database_url=url) as svc:
            ada = guest_contact("en", name="Ada Wong", email="Ada.Wong@Example.com")
            a = samples.confirmed(guest=ada)
            b = samples.confirmed(guest=guest_contact("en", email="bo.li@example.com"))
            svc.deliver(a)
            svc.deliver(b)
            yield World(
                svc,
                await svc.wait_for(a.reservation_id, lambda n: n["status"] == "logged"),
                await svc.wait_for(b.reservation_id, lambda n: n["status"] == "logged"),
            )
    finally:
        if request.param == "postgresql":
            await drop_database(url)


async def test_front_desk_and_managers_read_every_notice(world: World) -> None:
    for role in (Role.FRONT_DESK, Role.MANAGER, Role.ADMIN):
        assert await world.listed(staff(role)) == {world.a["id"], world.b["id"]}
        one = await world.call("GET", f"/api/v1/notifications/{world.b['id']}", staff(role))
        assert one.status_code == 200 and one.json()["body"]


async def test_a_guest_reads_the_notices_sent_to_their_email(world: World) -> None:
    a, b = world.a, world.b
    assert await world.listed(GUEST_A) == {a["id"]}
    assert await world.listed(GUEST_A, email="bo.li@example.com") == set()
    assert await world.listed(GUEST_A, reservation_id=b["reservation_id"]) == set()
    assert (await world.call("GET", f"/api/v1/notifications/{a['id']}", GUEST_A)).status_code == 200
    probe = await world.call("GET", f"/api/v1/notifications/{b['id']}", GUEST_A)
    assert probe.status_code == 404 and probe.json()["code"] == "notification_not_found"
    # Signed in by phone: notices go to email addresses, so none is theirs.
    by_phone = Principal(id="guest:p", kind=Kind.GUEST, phone="+8613800000000")
    assert await world.listed(by_phone) == set()


async def test_a_booking_holder_reads_its_bookings_notices(world: World) -> None:
    a, b = world.a, world.b
    holder = world.holder(a)
    assert await world.listed(holder) == {a["id"]}
    assert await world.listed(holder, reservation_id=b["reservation_id"]) == set()
    assert (await world.call("GET", f"/api/v1/notifications/{b['id']}", holder)).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ANONYMOUS, 401),
        (PARTNER, 403),
        *[
            (staff(role), 403)
            for role in (
                Role.RESERVATIONS,
                Role.HOUSEKEEPING,
                Role.DISPATCHER,
                Role.MARKETING,
                Role.DRIVER,
            )
        ],
    ],
)
async def test_others_are_refused_notices(world: World, who: Principal, status: int) -> None:
    for path in ("/api/v1/notifications", f"/api/v1/notifications/{world.a['id']}"):
        response = await world.call("GET", path, who)
        assert response.status_code == status, (path, response.text)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ANONYMOUS, 401),
        (GUEST_A, 403),
        (PARTNER, 403),
        (staff(Role.FRONT_DESK), 403),
        (staff(Role.DISPATCHER), 403),
        (staff(Role.MANAGER), 409),  # allowed; the notice is logged, not failed
    ],
)
async def test_only_managers_retry(world: World, who: Principal, status: int) -> None:
    one = await world.call("POST", f"/api/v1/notifications/{world.a['id']}/retry", who)
    assert one.status_code == status, one.text
    every = await world.call("POST", "/api/v1/notifications/retry", who, json={})
    assert every.status_code == (200 if status == 409 else status)
