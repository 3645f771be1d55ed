"""Departure drop-offs from the booking events: leave early enough for the check-in buffer of
the transport plus the drive, follow the booking's changes and cancellation like the arrival
pickup, and carry `transfers_included` as a free fare. On SQLite and PostgreSQL."""

from hotel_common.testing import reservation_cancelled, reservation_modified

from .scheduling import HOTEL, local
from .scheduling import world as world  # the fixture


def z(instant) -> str:
    return instant.isoformat().replace("+00:00", "Z")


async def test_a_departure_leaves_for_check_in_plus_the_drive(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(departure=local(18))  # an international flight from Pudong

    world.service.deliver(booking)
    job = await world.job_of(booking, "departure_dropoff")

    assert job["status"] == "assigned"
    assert job["pickup_place"] == HOTEL
    assert job["destination"] == "PVG"
    assert job["transport"] == "international_flight"
    assert job["flight_time"] == z(local(18))
    assert job["pickup_time"] == z(local(14, 10))  # 18:00 - 180 min check-in - 50 min drive
    assert job["driver_on_site_at"] == z(local(13, 40))
    assert job["ends_at"] == z(local(15))
    notice = (await world.service.wait_published("transfer.assigned", 1))[0]
    assert notice.payload["transfer_id"] == job["id"]


async def test_a_train_departure_uses_the_train_buffer(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(departure=local(12), dropoff_place="Hongqiao")

    world.service.deliver(booking)
    job = await world.job_of(booking, "departure_dropoff")

    assert job["transport"] == "train"
    assert job["pickup_time"] == z(local(11, 5))  # 30 min before the train, 25 min drive


async def test_a_booking_with_both_gets_two_jobs_and_an_included_fare(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(arrival=local(10), departure=local(22), transfers_included=True)

    world.service.deliver(booking)
    found = await world.jobs_of(booking, 2)

    assert sorted(j["kind"] for j in found) == ["arrival_pickup", "departure_dropoff"]
    assert all(j["fare_included"] for j in found)
    assert all(j["status"] == "assigned" for j in found)


async def test_a_changed_flight_moves_the_departure_and_a_dropped_one_cancels_it(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(arrival=local(10), departure=local(18))
    world.service.deliver(booking)
    await world.jobs_of(booking, 2)
    later = booking.departure.model_copy(update={"departure_time": local(20)})

    world.service.deliver(reservation_modified(booking, departure=later, aggregate_version=3))
    moved = await world.service.wait_published("transfer.assigned", 3)
    job = await world.job_of(booking, "departure_dropoff")
    assert job["pickup_time"] == z(local(16, 10))
    assert moved[-1].payload["pickup_time"] == z(local(16, 10))

    world.service.deliver(reservation_modified(booking, departure=None, aggregate_version=4))
    cancelled = await world.service.wait_published("transfer.cancelled", 1)
    assert cancelled[0].payload["transfer_id"] == job["id"]
    jobs = {j["kind"]: j for j in await world.jobs_of(booking, 2)}
    assert jobs["departure_dropoff"]["status"] == "cancelled"
    assert jobs["arrival_pickup"]["status"] == "assigned"


async def test_a_cancelled_booking_cancels_its_departure_too(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(arrival=local(10), departure=local(18))
    world.service.deliver(booking)
    await world.jobs_of(booking, 2)

    world.service.deliver(reservation_cancelled(booking, aggregate_version=3))
    await world.service.wait_published("transfer.cancelled", 2)

    assert {j["status"] for j in await world.jobs_of(booking, 2)} == {"cancelled"}


async def test_a_confirmation_after_the_cancellation_opens_no_departure(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(departure=local(18))
    marker = world.booking(arrival=local(8))

    world.service.deliver(reservation_cancelled(booking, aggregate_version=3))
    world.service.deliver(booking)
    world.service.deliver(marker)
    await world.job_of(marker)

    assert await world.service.jobs(reservation_id=booking.reservation_id) == []


async def test_an_unknown_airport_flags_the_departure(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(departure=local(18), dropoff_place="Chongming Airstrip")

    world.service.deliver(booking)
    job = await world.job_of(booking, "departure_dropoff")

    assert job["flags"] == ["unknown_place"]
    assert job["pickup_time"] == z(local(14))  # 180 min check-in, the default 60 min drive
