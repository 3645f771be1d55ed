"""A booking's change reaches its pickup: a new arrival moves it (its crew kept when still free,
else another), a pickup added is opened, one removed is called off, and a stale change (a
version the job already passed) changes nothing. No-show and expiry call the pickup off as a
cancellation does. What the guest would see: the job through the API, and the transfer events
that carry the new pickup notice."""

from datetime import timedelta
from typing import Any

from hotel_common.contracts.reservations import ReservationConfirmed, ReservationModified
from hotel_common.testing import (
    eventually,
    reservation_expired,
    reservation_modified,
    reservation_no_show,
    transfer_request,
)

from .conftest import DAY, Service


def moved(
    service: Service,
    booking: ReservationConfirmed,
    version: int = 3,
    *,
    arrival: Any = "same",
    passengers: int = 2,
    luggage: int = 1,
    flight: str = "MU5101",
    **overrides: Any,
) -> ReservationModified:
    """`booking` after a change of version `version`: a pickup landing at `arrival` (None: no
    pickup any more; "same": the booking's own)."""
    if arrival == "same":
        transfer = booking.transfer
    elif arrival is None:
        transfer = None
    else:
        transfer = transfer_request(
            arrival_time=arrival,
            flight_number=flight,
            pickup_place="Shanghai Hongqiao T2, arrivals exit 5",
            passengers=passengers,
            luggage=luggage,
        )
    return reservation_modified(booking, transfer=transfer, aggregate_version=version, **overrides)


async def settle(service: Service, assigned: int) -> None:
    """Wait until a marker booking, delivered after everything else, has its pickup."""
    marker = service.booking(arrival=DAY + timedelta(days=20, hours=10))
    service.deliver(marker)
    await service.job_for(marker)
    await service.wait_published("transfer.assigned", assigned)


async def test_a_new_arrival_moves_the_pickup_with_its_crew_and_tells_the_guest(
    service: Service,
) -> None:
    vehicle = await service.add_vehicle()
    driver = await service.add_driver()
    booking = service.booking(arrival=service.at(10))
    service.deliver(booking)
    await service.wait_published("transfer.assigned", 1)

    service.deliver(moved(service, booking, arrival=service.at(16, 40), flight="CA1858"))
    (_, again) = await service.wait_published("transfer.assigned", 2)
    job = await service.job_for(booking)

    assert job["pickup_time"].startswith("2030-06-01T16:40:00")
    assert job["driver_on_site_at"].startswith("2030-06-01T16:10:00")
    assert job["flight_number"] == "CA1858"
    assert job["status"] == "assigned"
    assert (job["vehicle"]["id"], job["driver"]["id"]) == (vehicle["id"], driver["id"])
    assert again.aggregate_version == 3
    assert again.payload["pickup_time"].startswith("2030-06-01T16:40:00")
    assert again.payload["flight_number"] == "CA1858"
    assert service.published("transfer.cancelled") == []


async def test_a_moved_pickup_keeps_its_crew_over_the_usual_choice(service: Service) -> None:
    """The driver and the guest keep what they were told when it still fits, even where a new
    job would get a smaller car."""
    van = await service.add_vehicle("van", seats=6, luggage=6)
    driver = await service.add_driver()
    booking = service.booking(arrival=service.at(10))
    service.deliver(booking)
    assert (await service.job_for(booking))["vehicle"]["id"] == van["id"]
    await service.add_vehicle(seats=2, luggage=2)  # the smallest that fits, for a new job
    await service.add_driver()

    service.deliver(moved(service, booking, arrival=service.at(19)))
    await service.wait_published("transfer.assigned", 2)
    job = await service.job_for(booking)
    assert job["pickup_time"].startswith("2030-06-01T19:00:00")
    assert (job["vehicle"]["id"], job["driver"]["id"]) == (van["id"], driver["id"])


async def test_a_pickup_moved_onto_another_guests_crew_is_reassigned(service: Service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    early = service.booking(arrival=service.at(8))
    late = service.booking(arrival=service.at(18))
    service.deliver(early)
    service.deliver(late)
    await service.wait_published("transfer.assigned", 2)  # one crew does both
    spare_car = await service.add_vehicle(seats=6, luggage=6)
    spare_driver = await service.add_driver()

    # The late guest now lands at 08:20: the crew is with the early guest, so the spares go.
    service.deliver(moved(service, late, arrival=service.at(8, 20)))
    await service.wait_published("transfer.assigned", 3)
    job = await service.job_for(late)
    assert job["pickup_time"].startswith("2030-06-01T08:20:00")
    assert (job["vehicle"]["id"], job["driver"]["id"]) == (spare_car["id"], spare_driver["id"])


async def test_a_party_the_car_no_longer_takes_gets_a_bigger_one(service: Service) -> None:
    sedan = await service.add_vehicle(seats=3, luggage=2)
    van = await service.add_vehicle("van", seats=7, luggage=8)
    await service.add_driver()
    booking = service.booking(arrival=service.at(10), passengers=2)
    service.deliver(booking)
    assert (await service.job_for(booking))["vehicle"]["id"] == sedan["id"]

    service.deliver(moved(service, booking, arrival=service.at(10), passengers=5, luggage=5))
    await service.wait_published("transfer.assigned", 2)
    job = await service.job_for(booking)
    assert (job["passengers"], job["luggage"]) == (5, 5)
    assert job["vehicle"]["id"] == van["id"]


async def test_a_moved_pickup_nobody_can_take_goes_back_to_dispatch(service: Service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking(arrival=service.at(10))
    service.deliver(booking)
    await service.wait_published("transfer.assigned", 1)

    service.deliver(moved(service, booking, arrival=service.at(10), passengers=2, luggage=9))
    (job,) = await eventually(
        lambda: service.jobs(reservation_id=booking.reservation_id),
        lambda jobs: jobs[0]["luggage"] == 9,
    )
    assert job["status"] == "requested"
    assert (job["vehicle"], job["driver"]) == (None, None)
    assert [j["id"] for j in await service.jobs(status="requested")] == [job["id"]]
    assert len(service.published("transfer.assigned")) == 1  # no notice of a car that is not
    assert service.published("transfer.cancelled") == []


async def test_a_change_that_leaves_the_pickup_as_it_was_tells_nobody(service: Service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking(arrival=service.at(10))
    service.deliver(booking)
    await service.wait_published("transfer.assigned", 1)

    later = booking.check_out + timedelta(days=1)
    service.deliver(moved(service, booking, check_out=later, total_amount=192000))
    await settle(service, 2)  # the marker's, not a second one for the booking

    job = await service.job_for(booking)
    assert job["pickup_time"].startswith("2030-06-01T10:00:00")
    assert [e.payload["reservation_id"] for e in service.published("transfer.assigned")].count(
        booking.reservation_id
    ) == 1


async def test_a_pickup_added_by_a_change_is_opened_and_assigned(service: Service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking(arrival=None)
    service.deliver(booking)

    service.deliver(moved(service, booking, arrival=service.at(11, 15)))
    (assigned,) = await service.wait_published("transfer.assigned", 1)
    job = await service.job_for(booking)
    assert job["status"] == "assigned"
    assert job["pickup_time"].startswith("2030-06-01T11:15:00")
    assert assigned.aggregate_version == 3


async def test_a_pickup_removed_by_a_change_is_called_off_and_can_come_back(
    service: Service,
) -> None:
    vehicle = await service.add_vehicle()
    await service.add_driver()
    booking = service.booking(arrival=service.at(10))
    service.deliver(booking)
    await service.wait_published("transfer.assigned", 1)

    service.deliver(moved(service, booking, 3, arrival=None))
    (cancelled,) = await service.wait_published("transfer.cancelled", 1)
    job = await service.job_for(booking)
    assert job["status"] == "cancelled"
    assert job["cancel_reason"] == "pickup no longer requested"
    assert cancelled.aggregate_version == 3

    # Its car is free again, and the guest asks for the pickup once more.
    service.deliver(moved(service, booking, 4, arrival=service.at(12)))
    await service.wait_published("transfer.assigned", 2)
    job = await service.job_for(booking)
    assert job["status"] == "assigned"
    assert job["cancel_reason"] is None
    assert job["pickup_time"].startswith("2030-06-01T12:00:00")
    assert job["vehicle"]["id"] == vehicle["id"]


async def test_stale_changes_leave_the_pickup_as_the_newest_one_made_it(
    service: Service,
) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking(arrival=service.at(10))
    service.deliver(booking)
    await service.wait_published("transfer.assigned", 1)

    service.deliver(moved(service, booking, 4, arrival=service.at(15)))
    service.deliver(moved(service, booking, 3, arrival=service.at(12)))  # overtaken on retry
    await settle(service, 3)

    job = await service.job_for(booking)
    assert job["pickup_time"].startswith("2030-06-01T15:00:00")
    mine = [
        e
        for e in service.published("transfer.assigned")
        if e.payload["reservation_id"] == booking.reservation_id
    ]
    assert [e.aggregate_version for e in mine] == [2, 4]


async def test_a_change_before_its_confirmation_decides_the_pickup(service: Service) -> None:
    """A confirmation retried after a later change: the change's pickup stands."""
    await service.add_vehicle()
    await service.add_driver()
    moved_first = service.booking(arrival=service.at(9))
    service.deliver(moved(service, moved_first, arrival=service.at(13)))
    withdrawn = service.booking(arrival=service.at(17))
    service.deliver(moved(service, withdrawn, arrival=None))
    service.deliver(moved_first)  # version 2, after version 3
    service.deliver(withdrawn)
    await settle(service, 2)

    assert (await service.job_for(moved_first))["pickup_time"].startswith("2030-06-01T13:00")
    assert await service.jobs(reservation_id=withdrawn.reservation_id) == []


async def test_changes_of_requests_and_after_the_cancellation_change_nothing(
    service: Service,
) -> None:
    await service.add_vehicle()
    await service.add_driver()
    requested = service.booking(arrival=None, version=1)
    service.deliver(moved(service, requested, 2, arrival=service.at(10), status="requested"))
    cancelled = service.booking(arrival=service.at(12))
    service.deliver(cancelled)
    service.deliver(service.cancellation(cancelled, version=4))
    service.deliver(moved(service, cancelled, 3, arrival=service.at(14)))  # older than the cancel
    await settle(service, 2)

    assert await service.jobs(reservation_id=requested.reservation_id) == []
    job = await service.job_for(cancelled)
    assert job["status"] == "cancelled"
    assert job["pickup_time"].startswith("2030-06-01T12:00:00")


async def test_no_show_and_expiry_call_the_pickup_off(service: Service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    no_show = service.booking(arrival=service.at(10))
    service.deliver(no_show)
    await service.job_for(no_show)
    service.deliver(reservation_no_show(no_show, aggregate_version=3))
    (called_off,) = await service.wait_published("transfer.cancelled", 1)
    job = await service.job_for(no_show)
    assert (job["status"], job["cancel_reason"]) == ("cancelled", "guest did not arrive")
    assert called_off.payload["reason"] == "guest did not arrive"

    # An expired request never had a pickup; one confirmed late after it opens none.
    expired = service.booking(arrival=service.at(12))
    service.deliver(reservation_expired(expired, aggregate_version=3))
    service.deliver(expired)
    await settle(service, 2)
    assert await service.jobs(reservation_id=expired.reservation_id) == []


async def test_a_pickup_under_way_is_not_moved(service: Service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking(arrival=service.at(10))
    service.deliver(booking)
    job = await service.job_for(booking)
    response = await service.client.post(
        f"/api/v1/transfers/{job['id']}/progress", json={"status": "driver_on_site"}
    )
    assert response.status_code < 300, response.text

    service.deliver(moved(service, booking, arrival=service.at(15)))
    await settle(service, 2)
    job = await service.job_for(booking)
    assert job["status"] == "driver_on_site"
    assert job["pickup_time"].startswith("2030-06-01T10:00:00")
    assert job["driver_on_site_at"].startswith("2030-06-01T09:30:00")
