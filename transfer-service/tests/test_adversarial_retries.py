"""Adversarial review of issue 18: redelivered and out-of-order booking events never open a job
twice, nor one a later version of the booking no longer asks for. On SQLite and PostgreSQL."""

from hotel_common.testing import reservation_confirmed, reservation_modified

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
