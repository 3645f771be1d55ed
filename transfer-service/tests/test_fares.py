"""Fares through the API (managers keep them, dispatch reads them) and the receipt of a
completed job: base fare by vehicle class and place pair in either direction, the night
surcharge by the pickup's local hour, the waiting charge per started block, nothing to pay when
the rate plan includes transfers, one receipt per job with a unique number. Job states are
written straight into the database; the live steps that set them have their own tests."""

import re
from datetime import timedelta
from typing import Any

from hotel_common.principal import Role
from sqlmodel import select
from transfer_service import fares
from transfer_service.models import Receipt, TransferJob

from .money_support import DAY, Desk, desk, guest, local, staff

__all__ = ["desk"]

MANAGER = staff(Role.MANAGER)
DISPATCHER = staff(Role.DISPATCHER)


async def post_fare(d: Desk, body: dict[str, Any], who: Any = MANAGER) -> Any:
    from hotel_common.testing import principal_headers

    return await d.service.client.post("/api/v1/fares", json=body, headers=principal_headers(who))


async def route(d: Desk) -> tuple[int, int]:
    airport = await d.place("PVG")
    hotel = await d.place("BUND", kind="property")
    assert airport.id and hotel.id
    return airport.id, hotel.id


async def complete(d: Desk, job: TransferJob, **columns: Any) -> Receipt | None:
    """Mark `job` completed as the live steps would, then issue its receipt."""
    async with d.session() as session:
        row = await session.get(TransferJob, job.id)
        assert row is not None
        for name, value in {"status": "completed", **columns}.items():
            setattr(row, name, value)
        from transfer_service.models import Vehicle

        vehicle = await session.get(Vehicle, row.vehicle_id) if row.vehicle_id else None
        receipt = await fares.issue_receipt(session, row, vehicle, d.settings)
        await session.commit()
        return receipt


async def test_managers_keep_the_fare_table_and_dispatch_reads_it(desk: Desk) -> None:
    airport, hotel = await route(desk)
    body = {"vehicle_class": "van", "from_place_id": airport, "to_place_id": hotel, "amount": 40000}
    created = await post_fare(desk, body)
    assert created.status_code == 201, created.text
    fare = created.json()
    assert fare["currency"] == "CNY" and fare["amount"] == 40000

    assert (await post_fare(desk, body)).json()["code"] == "fare_exists"
    other_way = await post_fare(desk, body | {"from_place_id": hotel, "to_place_id": airport})
    assert other_way.status_code == 201  # the other direction may have its own fare
    assert (await post_fare(desk, body, DISPATCHER)).status_code == 403
    unknown = await post_fare(desk, body | {"to_place_id": 9999})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_place")
    same = await post_fare(desk, body | {"to_place_id": airport})
    assert (same.status_code, same.json()["code"]) == (422, "same_place")
    assert (await post_fare(desk, body | {"currency": "USD"})).status_code == 422

    listed = await desk.get("/api/v1/fares", DISPATCHER, place_id=hotel)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2
    assert (await desk.get("/api/v1/fares", staff(Role.FRONT_DESK))).status_code == 403
    assert (await desk.get("/api/v1/fares", None)).status_code in (200, 401)  # test admin

    client = desk.service.client
    from hotel_common.testing import principal_headers

    manager = principal_headers(MANAGER)
    url = f"/api/v1/fares/{fare['id']}"
    patched = await client.patch(url, json={"amount": 45000}, headers=manager)
    assert patched.status_code == 200 and patched.json()["amount"] == 45000
    dispatch = principal_headers(DISPATCHER)
    assert (await client.patch(url, json={"amount": 1}, headers=dispatch)).status_code == 403
    assert (await client.get(url, headers=dispatch)).json()["amount"] == 45000
    assert (await client.delete(url, headers=manager)).status_code == 204
    gone = await client.get(url, headers=manager)
    assert (gone.status_code, gone.json()["code"]) == (404, "fare_not_found")


async def test_a_night_pickup_with_a_long_wait_pays_base_surcharge_and_waiting(
    desk: Desk,
) -> None:
    airport, hotel = await route(desk)
    # Recorded hotel -> airport only: the arrival (airport -> hotel) uses it the other way.
    body = {"vehicle_class": "van", "from_place_id": hotel, "to_place_id": airport, "amount": 40000}
    assert (await post_fare(desk, body)).status_code == 201
    van, driver = await desk.vehicle("van"), await desk.driver()
    pickup = local(DAY, 23, 30)  # 23:30 at the property: night
    job = await desk.job(
        pickup,
        pickup_place_id=airport,
        destination_place_id=hotel,
        vehicle_id=van.id,
        driver_id=driver.id,
        guest_email="ada.wong@example.com",
    )
    unfinished = await desk.get(f"/api/v1/transfers/{job.id}/receipt", MANAGER)
    assert (unfinished.status_code, unfinished.json()["code"]) == (404, "receipt_not_found")

    receipt = await complete(
        desk,
        job,
        waiting_minutes=20,  # 20 min past the free wait: two started 15-minute blocks
        on_board_at=pickup + timedelta(minutes=80),
        completed_at=pickup + timedelta(minutes=140),
    )
    assert receipt is not None
    assert [(line["code"], line["amount"]) for line in receipt.lines] == [
        ("base", 40000),
        ("night_surcharge", 8000),
        ("waiting", 6000),
    ]
    assert receipt.amount == 54000
    assert re.fullmatch(rf"TR-{(DAY + timedelta(days=1)):%Y%m%d}-\d{{6}}", receipt.number)

    # The guest (by their address), the driver, staff: the job's readers read the receipt.
    for who in (MANAGER, DISPATCHER, staff(Role.FRONT_DESK), guest("Ada.Wong@example.com")):
        response = await desk.get(f"/api/v1/transfers/{job.id}/receipt", who)
        assert response.status_code == 200, (who, response.text)
        assert response.json()["number"] == receipt.number
        assert response.json()["amount"] == 54000
    assert (await desk.get(f"/api/v1/transfers/{job.id}", MANAGER)).json()["fare_amount"] == 54000
    mine = await desk.get(
        f"/api/v1/transfers/{job.id}/receipt", staff(Role.DRIVER, driver_id=driver.id)
    )
    assert mine.status_code == 200
    stranger = await desk.get(f"/api/v1/transfers/{job.id}/receipt", guest("x@example.com"))
    assert (stranger.status_code, stranger.json()["code"]) == (404, "transfer_not_found")
    assert (
        await desk.get(f"/api/v1/transfers/{job.id}/receipt", staff(Role.HOUSEKEEPING))
    ).status_code == 403

    # Issued once: a second completion report returns the same receipt.
    again = await complete(desk, job, waiting_minutes=200)
    assert again is not None and (again.number, again.amount) == (receipt.number, 54000)
    async with desk.session() as session:
        assert len((await session.exec(select(Receipt))).all()) == 1


async def test_a_daytime_ride_pays_its_own_direction_and_receipt_numbers_differ(
    desk: Desk,
) -> None:
    airport, hotel = await route(desk)
    for a, b, amount in ((airport, hotel, 30000), (hotel, airport, 99999)):
        body = {"vehicle_class": "sedan", "from_place_id": a, "to_place_id": b, "amount": amount}
        assert (await post_fare(desk, body)).status_code == 201
    sedan = await desk.vehicle("sedan")
    numbers = set()
    for hour in (10, 14):
        job = await desk.job(
            local(DAY, hour),
            pickup_place_id=airport,
            destination_place_id=hotel,
            vehicle_id=sedan.id,
        )
        receipt = await complete(desk, job, waiting_minutes=0)
        assert receipt is not None and receipt.amount == 30000
        assert [line["code"] for line in receipt.lines] == ["base"]
        numbers.add(receipt.number)
    assert len(numbers) == 2


async def test_a_transfer_included_in_the_rate_plan_is_free(desk: Desk) -> None:
    airport, hotel = await route(desk)
    body = {"vehicle_class": "van", "from_place_id": airport, "to_place_id": hotel, "amount": 40000}
    assert (await post_fare(desk, body)).status_code == 201
    van = await desk.vehicle("van")
    job = await desk.job(
        local(DAY, 2),
        pickup_place_id=airport,
        destination_place_id=hotel,
        vehicle_id=van.id,
        fare_included=True,
    )
    receipt = await complete(desk, job, waiting_minutes=5)
    assert receipt is not None and receipt.amount == 0
    codes = [(line["code"], line["amount"]) for line in receipt.lines]
    assert codes == [
        ("base", 40000),
        ("night_surcharge", 8000),
        ("waiting", 3000),
        ("included", -51000),
    ]
    shown = (await desk.get(f"/api/v1/transfers/{job.id}/receipt", MANAGER)).json()
    assert shown["amount"] == 0 and shown["lines"][-1]["code"] == "included"

    # Included with no fare recorded for the pair: still a receipt of 0, one included line.
    unknown = await desk.job(local(DAY, 12), vehicle_id=van.id, fare_included=True)
    free = await complete(desk, unknown)
    assert free is not None and free.amount == 0
    assert [line["code"] for line in free.lines] == ["included"]


async def test_no_fare_recorded_means_no_receipt_and_the_wait_is_derived_if_unrecorded(
    desk: Desk,
) -> None:
    airport, hotel = await route(desk)
    van = await desk.vehicle("van")
    job = await desk.job(
        local(DAY, 9), pickup_place_id=airport, destination_place_id=hotel, vehicle_id=van.id
    )
    assert await complete(desk, job) is None
    missing = await desk.get(f"/api/v1/transfers/{job.id}/receipt", MANAGER)
    assert missing.json()["code"] == "receipt_not_found"

    body = {"vehicle_class": "van", "from_place_id": airport, "to_place_id": hotel, "amount": 20000}
    assert (await post_fare(desk, body)).status_code == 201
    pickup = local(DAY, 11)
    late = await desk.job(
        pickup,
        pickup_place_id=airport,
        destination_place_id=hotel,
        vehicle_id=van.id,
        transport="international_flight",
    )
    # Boarded 61 minutes after the pickup time, free wait 60: one started block.
    receipt = await complete(desk, late, on_board_at=pickup + timedelta(minutes=61))
    assert receipt is not None and receipt.amount == 23000
    async with desk.session() as session:
        priced = await session.get(TransferJob, late.id)
        assert priced is not None
        van_lines = await fares.lines_of(session, priced, "van", desk.settings)
        assert van_lines is not None and sum(line["amount"] for line in van_lines) == 23000
        assert await fares.lines_of(session, priced, "minibus", desk.settings) is None
