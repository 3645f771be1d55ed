"""Shared rides: guests on one flight to the hotel who agreed to share ride together, seats
permitting, under one ride id; nobody shares without agreeing. On SQLite and PostgreSQL."""

from .scheduling import local
from .scheduling import world as world  # the fixture


async def test_guests_on_one_flight_who_agreed_share_one_vehicle(world) -> None:
    await world.shanghai()
    van = await world.service.add_vehicle("van", seats=6, luggage=6)
    driver = await world.service.add_driver()
    first = world.booking(arrival=local(10), share_ok=True, flight_number="MU5101")
    second = world.booking(arrival=local(10), share_ok=True, flight_number="MU5101")

    world.service.deliver(first)
    world.service.deliver(second)
    one, two = await world.settled(first, second)
    one = await world.job_of(first)  # its ride id was set when the second joined

    assert one["status"] == two["status"] == "assigned"
    assert one["vehicle"]["id"] == two["vehicle"]["id"] == van["id"]
    assert one["driver"]["id"] == two["driver"]["id"] == driver["id"]
    assert one["ride_id"] is not None and one["ride_id"] == two["ride_id"]
    assert "shared" in one["flags"] and "shared" in two["flags"]
    assert len(await world.service.wait_published("transfer.assigned", 2)) == 2


async def test_nobody_shares_without_agreeing(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle("van", seats=6, luggage=6)
    await world.service.add_driver()
    agreed = world.booking(arrival=local(10), share_ok=True)
    alone = world.booking(arrival=local(10))

    world.service.deliver(agreed)
    world.service.deliver(alone)
    _, second = await world.settled(agreed, alone)

    assert second["status"] == "requested"
    assert second["ride_id"] is None
    assert second["uncovered_reason"] == "no_vehicle_free"


async def test_a_ride_takes_only_as_many_as_it_seats(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle("sedan", seats=3, luggage=3)
    await world.service.add_driver()
    first = world.booking(arrival=local(10), share_ok=True, passengers=2, luggage=1)
    second = world.booking(arrival=local(10), share_ok=True, passengers=2, luggage=1)

    world.service.deliver(first)
    world.service.deliver(second)
    _, two = await world.settled(first, second)

    assert two["status"] == "requested"


async def test_another_flight_does_not_share(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle("van", seats=6, luggage=6)
    await world.service.add_driver()
    first = world.booking(arrival=local(10), share_ok=True, flight_number="MU5101")
    second = world.booking(arrival=local(10), share_ok=True, flight_number="CA1501")

    world.service.deliver(first)
    world.service.deliver(second)
    _, two = await world.settled(first, second)

    assert two["status"] == "requested"
