"""A pickup whose driver could no longer be on site in time gets no driver (issue 13, point 14):
events can arrive late (a booking confirmed on its check-in day, a retry, a dead letter
replayed). It stays `requested`, listed for dispatch, and no guest is told a driver is coming.
Request text with control characters is refused before it reaches the database."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hotel_common.db import drop_database
from hotel_common.testing import eventually


async def _late_pickups_are_left_for_dispatch(service) -> None:
    for _ in range(2):  # enough for both, were they assignable
        await service.add_vehicle()
        await service.add_driver()
    now = datetime.now(UTC)
    landed = service.booking(arrival=now - timedelta(hours=1))
    # Lands in 20 minutes: the driver should have been on site 10 minutes ago (30-minute lead).
    imminent = service.booking(arrival=now + timedelta(minutes=20))
    marker = service.booking(arrival=service.at(18))  # far ahead: assigned as usual
    for booking in (landed, imminent, marker):
        service.deliver(booking)

    for booking in (landed, imminent):
        job = await service.job_for(booking)
        assert (job["status"], job["vehicle"], job["driver"]) == ("requested", None, None)
    assert (await service.job_for(marker))["status"] == "assigned"
    waiting = await service.jobs(status="requested")
    assert [j["reservation_id"] for j in waiting] == [
        landed.reservation_id,
        imminent.reservation_id,
    ]
    # Every job is committed with its outbox rows: once the outbox is empty, all are published.
    await eventually(
        lambda: service.client.get("/admin/outbox"), lambda r: r.json()["pending"] == 0
    )
    assigned = service.published("transfer.assigned")
    assert [e.payload["reservation_id"] for e in assigned] == [marker.reservation_id]


async def test_a_pickup_already_past_is_not_given_a_driver(service) -> None:
    await _late_pickups_are_left_for_dispatch(service)


@pytest.mark.infra
async def test_a_pickup_already_past_is_not_given_a_driver_on_postgres(serve_transfers) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_transfer_{uuid.uuid4().hex}"
    try:
        async with serve_transfers(url) as service:
            await _late_pickups_are_left_for_dispatch(service)
            await _control_characters_are_refused(service)
    finally:
        await drop_database(url)


async def _control_characters_are_refused(service) -> None:
    for name in ("A\u0000B", "A\u0007B", "A\u009bB"):
        response = await service.client.post(
            "/api/v1/drivers",
            json={
                "name": name,
                "phone": "+8613800138999",
                "licence_number": "SH-DL-X",
                "licence_expires_on": "2099-12-31",
            },
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert (error["field"], error["type"]) == ("body.name", "control_characters")
    response = await service.client.post(
        "/api/v1/vehicles",
        json={
            "plate": "沪A\u0000",
            "description": "x",
            "vehicle_class": "sedan",
            "seats": 3,
            "luggage_capacity": 2,
        },
    )
    assert response.status_code == 422, response.text
    for url in ("/api/v1/transfers?reservation_id=r%00", "/api/v1/transfers/t%00"):
        response = await service.client.get(url)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["type"] == "control_characters"
    drivers = (await service.client.get("/api/v1/drivers", params={"limit": 200})).json()
    assert "SH-DL-X" not in [d["licence_number"] for d in drivers["items"]]


async def test_control_characters_are_refused(service) -> None:
    await _control_characters_are_refused(service)
