"""The crew rules, one scenario each, on SQLite and PostgreSQL: travel times shape the crew's
window, the party's needs choose the vehicle, maintenance, incidents, licences, shifts, the daily
driving limit and a required language decide who may go, and a job nobody may take says why."""

from datetime import time, timedelta

from .scheduling import DAY, local
from .scheduling import world as world  # the fixture


async def test_an_arrival_is_timed_from_the_travel_table(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(arrival=local(10))

    world.service.deliver(booking)
    job = await world.job_of(booking)

    assert job["status"] == "assigned"
    assert job["flags"] == []
    assert job["uncovered_reason"] is None
    assert job["driver_on_site_at"] == (local(9, 30)).isoformat().replace("+00:00", "Z")
    assert job["ends_at"] == local(10, 50).isoformat().replace("+00:00", "Z")  # 50 min to town
    assert job["transport"] == "international_flight"


async def test_an_unknown_place_is_flagged_and_takes_the_default_trip(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    booking = world.booking(arrival=local(10), pickup_place="Nowhere Heliport")

    world.service.deliver(booking)
    job = await world.job_of(booking)

    assert job["status"] == "assigned"  # the job is kept, dispatch sees the flag
    assert job["flags"] == ["unknown_place"]
    assert job["ends_at"] == local(11).isoformat().replace("+00:00", "Z")


async def test_child_seats_and_a_wheelchair_choose_the_vehicle(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle("sedan", seats=3, luggage=2)
    seats = await world.service.add_vehicle("van", seats=6, luggage=6, child_seats=2)
    ramp = await world.service.add_vehicle("van", seats=6, luggage=6, wheelchair_accessible=True)
    for _ in range(3):
        await world.service.add_driver()
    child = world.booking(arrival=local(10), child_seats=1)
    chair = world.booking(arrival=local(10), wheelchair=True)
    triplets = world.booking(arrival=local(10), child_seats=3)

    for booking in (child, chair, triplets):
        world.service.deliver(booking)
    child_job, chair_job, triplets_job = await world.settled(child, chair, triplets)

    assert child_job["vehicle"]["id"] == seats["id"]
    assert chair_job["vehicle"]["id"] == ramp["id"]
    assert triplets_job["status"] == "requested"
    assert triplets_job["uncovered_reason"] == "no_vehicle_fits"
    assert "uncovered" in triplets_job["flags"]


async def test_a_vehicle_in_maintenance_or_broken_down_is_not_assigned(world) -> None:
    await world.shanghai()
    in_workshop = await world.service.add_vehicle()
    broken = await world.service.add_vehicle()
    await world.service.add_driver()
    await world.maintenance(in_workshop, DAY, DAY)
    await world.incident(local(6), vehicle=broken)
    booking = world.booking(arrival=local(10))

    world.service.deliver(booking)
    job = await world.job_of(booking)

    assert job["status"] == "requested"
    assert job["uncovered_reason"] == "no_vehicle_free"


async def test_a_driver_with_an_expired_licence_or_an_incident_is_not_assigned(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver(licence_expires_on=(DAY - timedelta(days=1)).isoformat())
    unwell = await world.service.add_driver()
    valid = await world.service.add_driver(licence_expires_on=DAY.isoformat())
    await world.incident(local(6), driver=unwell)
    booking = world.booking(arrival=local(10))

    world.service.deliver(booking)
    job = await world.job_of(booking)

    assert job["driver"]["id"] == valid["id"]


async def test_standing_shifts_cover_the_whole_crew_window_even_past_midnight(world) -> None:
    await world.shanghai()
    for _ in range(3):
        await world.service.add_vehicle()
    day = await world.service.add_driver(shift_start="06:00:00", shift_end="14:00:00")
    night = await world.service.add_driver(shift_start="22:00:00", shift_end="06:00:00")
    morning = world.booking(arrival=local(10))  # crew 08:40-10:50: the day shift
    small_hours = world.booking(arrival=local(1, 30))  # 00:10-02:20: last night's shift
    late = world.booking(arrival=local(13, 30))  # crew until 14:20: past the day shift

    for booking in (morning, small_hours, late):
        world.service.deliver(booking)
    morning_job, night_job, late_job = await world.settled(morning, small_hours, late)

    assert morning_job["driver"]["id"] == day["id"]
    assert night_job["driver"]["id"] == night["id"]
    assert late_job["status"] == "requested"
    assert late_job["uncovered_reason"] == "no_driver_on_shift"


async def test_a_driver_without_standing_hours_works_only_dated_shifts(world) -> None:
    await world.shanghai()
    for _ in range(2):
        await world.service.add_vehicle()
    driver = await world.service.add_driver()
    await world.shift(driver, local(8), local(12))
    inside = world.booking(arrival=local(10))
    outside = world.booking(arrival=local(15))

    for booking in (inside, outside):
        world.service.deliver(booking)
    inside_job, outside_job = await world.settled(inside, outside)

    assert inside_job["driver"]["id"] == driver["id"]
    assert outside_job["uncovered_reason"] == "no_driver_on_shift"


async def test_the_daily_driving_limit_is_never_exceeded(world) -> None:
    await world.shanghai()
    for _ in range(3):
        await world.service.add_vehicle()
    await world.service.add_driver(daily_driving_limit_minutes=240)
    # Each pickup drives 50 min out and 50 back: 100 min; two fit in 240, a third does not.
    bookings = [world.booking(arrival=local(hour)) for hour in (8, 12, 16)]

    for booking in bookings:
        world.service.deliver(booking)
    first, second, third = await world.settled(*bookings)

    assert first["status"] == second["status"] == "assigned"
    assert third["status"] == "requested"
    assert third["uncovered_reason"] == "driver_limit"


async def test_a_required_language_is_a_rule_the_guests_a_preference(world) -> None:
    await world.shanghai()
    for _ in range(2):
        await world.service.add_vehicle()
    await world.service.add_driver(languages=["zh-Hans"])
    german = await world.service.add_driver(languages=["zh-Hans", "de"])
    guest_speaks_german = world.booking(arrival=local(10), guest_language="de")
    needs_japanese = world.booking(arrival=local(10), language="ja")

    world.service.deliver(guest_speaks_german)
    world.service.deliver(needs_japanese)
    preferred, refused = await world.settled(guest_speaks_german, needs_japanese)

    assert preferred["driver"]["id"] == german["id"]
    assert refused["status"] == "requested"
    assert refused["uncovered_reason"] == "no_language"


async def test_the_drive_back_holds_the_crew_for_a_departure(world) -> None:
    """A departure for a 14:00 flight leaves at 10:10 (180 min check-in, 50 min drive) and
    the crew is back at 11:50; a pickup landing at 12:45 needs it from 11:25: a clash."""
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver(shift_start=time(6).isoformat(), shift_end="23:00:00")
    leaving = world.booking(departure=local(14))
    arriving = world.booking(arrival=local(12, 45))

    world.service.deliver(leaving)
    world.service.deliver(arriving)
    leaving_job, arriving_job = await world.settled(leaving, arriving)

    assert leaving_job["status"] == "assigned"
    assert arriving_job["uncovered_reason"] == "no_vehicle_free"
