"""Ad-hoc transfers, `POST /api/v1/transfers`: staff order a ride for any guest, a signed-in
guest for themselves; a past pickup, more passengers than any vehicle seats, an unknown field or
a caller who may not are refused with nothing written; an Idempotency-Key orders once.
On SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import principal_headers

from .scheduling import HOTEL, local
from .scheduling import world as world  # the fixture

DISPATCHER = Principal(id="staff:disp", kind=Kind.STAFF, roles=frozenset({Role.DISPATCHER}))
FRONT_DESK = Principal(id="staff:desk", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))
GUEST = Principal(id="guest:ada", kind=Kind.GUEST, email="ada.wong@example.com")


def ride(**overrides: Any) -> dict[str, Any]:
    return {
        "guest": {"name": "Ada Wong", "email": "ada.wong@example.com", "language": "en"},
        "pickup_place": HOTEL,
        "destination": "Hongqiao",
        "pickup_time": local(9).isoformat(),
        "passengers": 2,
        "luggage": 2,
        "transport": "train",
        "flight_number": "G7",
        **overrides,
    }


async def order(world, body: dict[str, Any], who: Principal = DISPATCHER, **headers: str) -> Any:
    return await world.client.post(
        "/api/v1/transfers", json=body, headers=principal_headers(who) | headers
    )


async def test_the_desk_orders_a_ride_that_is_assigned_and_announced(world) -> None:
    await world.shanghai()
    vehicle = await world.service.add_vehicle()
    driver = await world.service.add_driver()

    response = await order(world, ride(sign_name="Ms Wong", notes="two bags"), FRONT_DESK)

    assert response.status_code == 201, response.text
    job = response.json()
    assert response.headers["location"] == f"/api/v1/transfers/{job['id']}"
    assert job["kind"] == "ad_hoc"
    assert job["reservation_id"] is None
    assert job["source"] == "staff"
    assert job["status"] == "assigned"
    assert (job["vehicle"]["id"], job["driver"]["id"]) == (vehicle["id"], driver["id"])
    assert (job["sign_name"], job["notes"]) == ("Ms Wong", "two bags")
    assert job["ends_at"] == (local(9, 25)).isoformat().replace("+00:00", "Z")
    (notice,) = await world.service.wait_published("transfer.assigned", 1)
    assert notice.payload["transfer_id"] == job["id"]
    assert notice.payload["reservation_id"] is None


async def test_a_signed_in_guest_orders_for_themselves_and_sees_the_ride(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    body = ride(guest={"name": "Ada Wong", "email": "someone.else@example.com"})

    response = await order(world, body, GUEST)

    assert response.status_code == 201, response.text
    job = response.json()
    assert job["source"] == "guest_app"
    assert job["guest"]["email"] == "ada.wong@example.com"  # the address signed in with
    mine = await world.client.get("/api/v1/transfers", headers=principal_headers(GUEST))
    assert [j["id"] for j in mine.json()["items"]] == [job["id"]]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (Principal(id="anonymous", kind=Kind.ANONYMOUS), 401),
        (
            Principal(id="staff:d", kind=Kind.STAFF, roles=frozenset({Role.DRIVER}), driver_id=1),
            403,
        ),
        (Principal(id="staff:h", kind=Kind.STAFF, roles=frozenset({Role.HOUSEKEEPING})), 403),
    ],
)
async def test_others_may_not_order_a_ride(world, who: Principal, status: int) -> None:
    await world.service.add_vehicle()
    response = await order(world, ride(), who)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await world.service.jobs() == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"pickup_time": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}, "pickup_past"),
        ({"passengers": 7}, "too_many_passengers"),
        ({"guest": {"name": "No Address"}}, "guest_email_required"),
    ],
)
async def test_a_ride_nothing_could_serve_is_refused_and_nothing_written(
    world, change: dict[str, Any], code: str
) -> None:
    await world.service.add_vehicle("van", seats=6, luggage=6)
    await world.service.add_driver()

    response = await order(world, ride(**change))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert await world.service.jobs() == []
    assert world.service.published("transfer.assigned") == []


async def test_an_unknown_field_is_refused(world) -> None:
    await world.service.add_vehicle()
    response = await order(world, ride(vip=True))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert await world.service.jobs() == []


async def test_an_idempotency_key_orders_once(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()

    first = await order(world, ride(), **{"Idempotency-Key": "ride-1"})
    again = await order(world, ride(), **{"Idempotency-Key": "ride-1"})
    other = await order(world, ride(passengers=1), **{"Idempotency-Key": "ride-1"})

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 422
    assert len(await world.service.jobs()) == 1


async def test_a_ride_too_soon_for_any_driver_waits_for_dispatch(world) -> None:
    """Ordered 10 minutes ahead: the driver cannot be there 30 minutes early; the job is kept
    for dispatch with reason pickup_past."""
    await world.service.add_vehicle()
    await world.service.add_driver()
    soon = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()

    response = await order(world, ride(pickup_time=soon))

    assert response.status_code == 201
    assert response.json()["status"] == "requested"
    assert response.json()["uncovered_reason"] == "pickup_past"
