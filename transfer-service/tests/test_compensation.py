"""`complaint.transfer_compensation`: a free ride granted for a complaint case, once per case:
the named ride's receipt shows a `waived` line and 0 (issued already, or when the ride is
completed later); with no ride named, a voucher makes the booking's next charged ride free.
A case naming nothing known gives nothing and fails nothing. On SQLite and PostgreSQL."""

import uuid
from typing import Any

from hotel_common.contracts.complaints import TransferCompensationGranted
from hotel_common.principal import Role
from hotel_common.testing import deliver, eventually
from transfer_service.models import TransferJob

from .money_support import DAY, Desk, desk, local, staff
from .test_fares import complete, post_fare, route

__all__ = ["desk"]

MANAGER = staff(Role.MANAGER)


def free_ride(
    transfer_id: str | None, reservation_id: str | None, case_id: str | None = None
) -> TransferCompensationGranted:
    return TransferCompensationGranted(
        case_id=case_id or str(uuid.uuid4()),
        case_number="C301201-RIDE42",
        transfer_id=transfer_id,
        reservation_id=reservation_id,
        reason="Complaint C301201-RIDE42: driver was late",
        aggregate_version=6,
    )


PLACES: dict[int, tuple[int, int]] = {}  # per desk: (airport, hotel)


async def priced_ride(d: Desk, **columns: Any) -> TransferJob:
    """A van ride from the airport to the hotel, whose fare is 400.00 by day."""
    airport, hotel = PLACES[id(d)]
    van = await d.vehicle("van")
    return await d.job(
        local(DAY, 10 + d._n),
        pickup_place_id=airport,
        destination_place_id=hotel,
        vehicle_id=van.id,
        **columns,
    )


async def fare_table(d: Desk) -> None:
    airport, hotel = PLACES[id(d)] = await route(d)
    body = {"vehicle_class": "van", "from_place_id": airport, "to_place_id": hotel, "amount": 40000}
    assert (await post_fare(d, body)).status_code == 201


async def receipt(d: Desk, job: TransferJob) -> dict[str, Any]:
    answer = await d.get(f"/api/v1/transfers/{job.id}/receipt", MANAGER)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def waived(d: Desk, job: TransferJob) -> dict[str, Any]:
    """The job's receipt once a free ride shows on it."""
    return await eventually(lambda: receipt(d, job), lambda r: r["amount"] == 0)


def codes(body: dict[str, Any]) -> list[tuple[str, int]]:
    return [(line["code"], line["amount"]) for line in body["lines"]]


async def test_the_named_ride_already_charged_is_waived_once_per_case(desk: Desk) -> None:
    await fare_table(desk)
    job = await priced_ride(desk)
    await complete(desk, job, waiting_minutes=0)
    assert (await receipt(desk, job))["amount"] == 40000
    grant = free_ride(job.id, job.reservation_id)

    envelope = deliver(desk.service.broker, grant, "guest-service")
    body = await waived(desk, job)

    assert codes(body) == [("base", 40000), ("waived", -40000)]
    assert "C301201-RIDE42" in body["lines"][-1]["note"]
    # The event again and the case's grant again (a new event): nothing more. A later case for
    # another ride is then given (the queue is in order), so both were read before it.
    desk.service.broker.route(envelope)
    deliver(desk.service.broker, free_ride(job.id, None, case_id=grant.case_id), "guest-service")
    other = await priced_ride(desk)
    await complete(desk, other, waiting_minutes=0)
    deliver(desk.service.broker, free_ride(other.id, None), "guest-service")
    await waived(desk, other)
    assert codes(await receipt(desk, job)) == [("base", 40000), ("waived", -40000)]
    shown = await desk.get(f"/api/v1/transfers/{job.id}", MANAGER)
    assert shown.json()["fare_amount"] == 0


async def test_a_ride_not_yet_done_is_free_when_it_is_completed(desk: Desk) -> None:
    await fare_table(desk)
    job = await priced_ride(desk)
    marker = await priced_ride(desk)
    await complete(desk, marker, waiting_minutes=0)

    deliver(desk.service.broker, free_ride(job.id, job.reservation_id), "guest-service")
    deliver(desk.service.broker, free_ride(marker.id, None), "guest-service")
    await waived(desk, marker)  # read after the first case
    issued = await complete(desk, job, waiting_minutes=0)

    assert issued is not None and issued.amount == 0
    assert codes(await receipt(desk, job)) == [("base", 40000), ("waived", -40000)]


async def test_a_voucher_makes_the_bookings_next_charged_ride_free_and_only_that_one(
    desk: Desk,
) -> None:
    await fare_table(desk)
    reservation_id = str(uuid.uuid4())
    included = await priced_ride(desk, reservation_id=reservation_id, fare_included=True)
    first = await priced_ride(desk, reservation_id=reservation_id, kind="departure_dropoff")
    second = await priced_ride(desk, reservation_id=reservation_id, kind="ad_hoc")
    marker = await priced_ride(desk)
    await complete(desk, marker, waiting_minutes=0)

    deliver(desk.service.broker, free_ride(None, reservation_id), "guest-service")
    deliver(desk.service.broker, free_ride(marker.id, None), "guest-service")
    await waived(desk, marker)
    await complete(desk, included, waiting_minutes=0)  # free anyway: the voucher stays
    await complete(desk, first, waiting_minutes=0)
    await complete(desk, second, waiting_minutes=0)

    assert codes(await receipt(desk, included))[-1][0] == "included"
    assert codes(await receipt(desk, first)) == [("base", 40000), ("waived", -40000)]
    assert codes(await receipt(desk, second)) == [("base", 40000)]


async def test_a_case_naming_nothing_known_gives_nothing_and_fails_nothing(desk: Desk) -> None:
    await fare_table(desk)
    marker = await priced_ride(desk)
    await complete(desk, marker, waiting_minutes=0)

    deliver(desk.service.broker, free_ride(str(uuid.uuid4()), None), "guest-service")
    deliver(desk.service.broker, free_ride(marker.id, None), "guest-service")
    await waived(desk, marker)

    dead = await desk.get("/admin/dead-letters")
    assert dead.json()["items"] == []
