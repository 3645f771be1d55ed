"""A confirmed booking with a transfer gets a pickup job with a vehicle that fits and a driver."""

from datetime import timedelta, timezone

from hotel_common.testing import eventually


async def test_booking_with_transfer_gets_assigned_job_and_one_notice(service) -> None:
    await service.add_vehicle("sedan", seats=3, luggage=2)
    van = await service.add_vehicle("van", seats=9, luggage=10)
    driver = await service.add_driver("Wang Wei")
    arrival = service.at(10)
    booking = service.booking(arrival=arrival, passengers=4, luggage=3)

    service.deliver(booking)
    job = await service.job_for(booking)

    assert job["status"] == "assigned"
    assert job["kind"] == "arrival_pickup"
    assert job["vehicle"]["plate"] == van["plate"]  # the sedan is too small for four
    assert job["driver"] == {"id": driver["id"], "name": "Wang Wei", "phone": driver["phone"]}
    assert job["pickup_time"] == "2030-06-01T10:00:00Z"
    assert job["driver_on_site_at"] == "2030-06-01T09:30:00Z"
    assert job["ends_at"] == "2030-06-01T11:00:00Z"
    assert job["destination"] == "Bund Garden Hotel"
    assert job["guest"]["language"] == "zh-Hans"

    detail = (await service.client.get(f"/api/v1/transfers/{job['id']}")).json()
    assert detail["vehicle"]["description"] == van["description"]
    assert detail["driver"]["phone"] == driver["phone"]

    (envelope,) = await service.wait_published("transfer.assigned", 1)
    assert envelope.source == "transfer-service"
    assert envelope.payload == {
        "transfer_id": job["id"],
        "reservation_id": booking.reservation_id,
        "confirmation_number": booking.confirmation_number,
        "guest": booking.guest.model_dump(mode="json"),
        "pickup_place": "Shanghai Hongqiao T2, arrivals exit 5",
        "destination": "Bund Garden Hotel",
        "pickup_time": "2030-06-01T10:00:00Z",
        "driver_on_site_at": "2030-06-01T09:30:00Z",
        "flight_number": "MU5101",
        "driver_name": "Wang Wei",
        "driver_phone": driver["phone"],
        "vehicle_plate": van["plate"],
        "vehicle_description": van["description"],
        "property_timezone": "Asia/Shanghai",
    }


async def test_smallest_vehicle_that_fits_seats_and_luggage(service) -> None:
    sedan = await service.add_vehicle("sedan", seats=3, luggage=2)
    business = await service.add_vehicle("business", seats=6, luggage=5)
    await service.add_vehicle("minibus", seats=18, luggage=20)
    for _ in range(3):
        await service.add_driver()
    couple = service.booking(passengers=2, luggage=1, arrival=service.at(8))
    heavy = service.booking(passengers=2, luggage=4, arrival=service.at(14))

    service.deliver(couple)
    service.deliver(heavy)

    assert (await service.job_for(couple))["vehicle"]["id"] == sedan["id"]
    assert (await service.job_for(heavy))["vehicle"]["id"] == business["id"]  # bags decide


async def test_booking_without_transfer_creates_no_job(service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    no_transfer = service.booking(arrival=None)
    marker = service.booking()  # handled after the first: once its job shows, the first was handled

    service.deliver(no_transfer)
    service.deliver(marker)
    await service.job_for(marker)

    assert await service.jobs(reservation_id=no_transfer.reservation_id) == []
    assert len(await service.wait_published("transfer.assigned", 1)) == 1


async def test_same_envelope_twice_gives_one_job_and_one_notice(service) -> None:
    await service.add_vehicle()
    await service.add_vehicle()
    await service.add_driver()
    await service.add_driver()
    booking = service.booking()
    marker = service.booking(arrival=service.at(18))

    envelope = service.deliver(booking)
    service.redeliver(envelope)
    service.deliver(marker)
    await service.job_for(marker)

    assert len(await service.jobs(reservation_id=booking.reservation_id)) == 1
    assigned = await service.wait_published("transfer.assigned", 2)
    assert sorted(e.payload["reservation_id"] for e in assigned) == sorted(
        [booking.reservation_id, marker.reservation_id]
    )


async def test_same_booking_in_a_new_envelope_keeps_its_one_job(service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking()
    marker = service.booking(arrival=service.at(18))

    service.deliver(booking)
    service.deliver(booking)  # a republished confirmation: new event id, same reservation
    service.deliver(marker)
    await service.job_for(marker)

    assert len(await service.jobs(reservation_id=booking.reservation_id)) == 1
    assert len(await service.wait_published("transfer.assigned", 2)) == 2


async def test_overlapping_pickups_get_different_vehicles_and_drivers(service) -> None:
    for _ in range(2):
        await service.add_vehicle("sedan")
        await service.add_driver()
    first = service.booking(arrival=service.at(10))
    second = service.booking(arrival=service.at(10, 45))

    service.deliver(first)
    service.deliver(second)
    a, b = await service.job_for(first), await service.job_for(second)

    assert a["status"] == b["status"] == "assigned"
    assert a["vehicle"]["id"] != b["vehicle"]["id"]
    assert a["driver"]["id"] != b["driver"]["id"]


async def test_vehicle_and_driver_are_held_until_cleaned(service) -> None:
    """Places unknown, every leg takes the default 60 min. 10:00 pickup: the crew leaves base at
    08:30 (on site 09:30) and is back at 11:00, plus 15 min turnaround. A pickup at 12:40 needs
    them from 11:10 (clash); one at 12:50 from 11:20 (free)."""
    vehicle = await service.add_vehicle()
    await service.add_driver()
    first = service.booking(arrival=service.at(10))
    too_soon = service.booking(arrival=service.at(12, 40))
    after_cleaning = service.booking(arrival=service.at(12, 50))

    for booking in (first, too_soon, after_cleaning):
        service.deliver(booking)

    assert (await service.job_for(first))["status"] == "assigned"
    assert (await service.job_for(too_soon))["status"] == "requested"
    later = await service.job_for(after_cleaning)
    assert later["status"] == "assigned"
    assert later["vehicle"]["id"] == vehicle["id"]


async def test_driver_with_fewest_jobs_that_day_is_preferred(service) -> None:
    await service.add_vehicle()
    first_driver = await service.add_driver()
    second_driver = await service.add_driver()
    morning = service.booking(arrival=service.at(2))  # 10:00 in Shanghai
    afternoon = service.booking(arrival=service.at(6))

    service.deliver(morning)
    assert (await service.job_for(morning))["driver"]["id"] == first_driver["id"]
    service.deliver(afternoon)
    assert (await service.job_for(afternoon))["driver"]["id"] == second_driver["id"]


async def test_job_stays_requested_when_no_vehicle_fits(service) -> None:
    await service.add_vehicle("minibus", seats=18, luggage=20)
    await service.add_driver()
    coach_party = service.booking(passengers=30, luggage=30)

    service.deliver(coach_party)
    job = await service.job_for(coach_party)

    assert job["status"] == "requested"
    assert job["vehicle"] is None and job["driver"] is None
    waiting = await service.jobs(status="requested")
    assert [j["id"] for j in waiting] == [job["id"]]
    assert service.published("transfer.assigned") == []


async def test_job_stays_requested_when_no_driver_is_free(service) -> None:
    await service.add_vehicle()
    await service.add_vehicle()
    await service.add_driver(status="inactive")
    booking = service.booking()

    service.deliver(booking)
    job = await service.job_for(booking)

    assert job["status"] == "requested"
    assert job["vehicle"] is None


async def test_out_of_service_vehicle_is_never_assigned(service) -> None:
    await service.add_vehicle("sedan", status="out_of_service")
    van = await service.add_vehicle("van", seats=9, luggage=10)
    await service.add_driver()
    booking = service.booking(passengers=1, luggage=0)

    service.deliver(booking)

    assert (await service.job_for(booking))["vehicle"]["id"] == van["id"]


async def test_arrival_given_with_an_offset_is_stored_in_utc(service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    shanghai = timezone(timedelta(hours=8))
    booking = service.booking(arrival=service.at(18).replace(tzinfo=shanghai))

    service.deliver(booking)
    job = await service.job_for(booking)

    assert job["pickup_time"] == "2030-06-01T10:00:00Z"


async def test_unknown_property_time_zone_parks_the_event(service) -> None:
    booking = service.booking(timezone="Mars/Olympus_Mons")

    envelope = service.deliver(booking)

    async def parked() -> list[dict]:
        return list((await service.client.get("/admin/dead-letters")).json()["items"])

    (dead,) = await eventually(parked)
    assert dead["id"] == envelope.id
    assert await service.jobs(reservation_id=booking.reservation_id) == []
