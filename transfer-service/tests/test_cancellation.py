"""A cancelled booking cancels its pickup, frees the vehicle and driver, and says so once."""

from datetime import datetime


async def test_cancellation_cancels_job_frees_crew_and_publishes(service) -> None:
    vehicle = await service.add_vehicle()
    driver = await service.add_driver()
    booking = service.booking()
    service.deliver(booking)
    assert (await service.job_for(booking))["status"] == "assigned"

    service.deliver(service.cancellation(booking, reason="flight cancelled"))
    (notice,) = await service.wait_published("transfer.cancelled", 1)
    job = await service.job_for(booking)

    assert job["status"] == "cancelled"
    assert job["cancel_reason"] == "flight cancelled"
    # Issue 20: what the guest's notice names rides along (the pickup as it was booked).
    assert notice.payload == {
        "transfer_id": job["id"],
        "reservation_id": booking.reservation_id,
        "reason": "flight cancelled",
        "confirmation_number": booking.confirmation_number,
        "guest": {
            "name": "Lin Mei",
            "email": "lin.mei@example.com",
            "phone": "+8613900139000",
            "language": "zh-Hans",
        },
        "pickup_time": notice.payload["pickup_time"],
        "pickup_place": "Shanghai Hongqiao T2, arrivals exit 5",
        "property_timezone": "Asia/Shanghai",
        "cause": "booking",  # the booking's cancellation tells the guest
    }
    assert datetime.fromisoformat(notice.payload["pickup_time"]) == datetime.fromisoformat(
        job["pickup_time"]
    )
    # The only vehicle and driver now take another guest at the same time.
    rebooked = service.booking()
    service.deliver(rebooked)
    replacement = await service.job_for(rebooked)
    assert replacement["status"] == "assigned"
    assert replacement["vehicle"]["id"] == vehicle["id"]
    assert replacement["driver"]["id"] == driver["id"]


async def test_unassigned_job_is_cancelled_too(service) -> None:
    booking = service.booking()  # no fleet: the job waits for dispatch
    service.deliver(booking)
    assert (await service.job_for(booking))["status"] == "requested"

    service.deliver(service.cancellation(booking))
    await service.wait_published("transfer.cancelled", 1)

    assert (await service.job_for(booking))["status"] == "cancelled"
    assert await service.jobs(status="requested") == []


async def test_cancellation_delivered_twice_cancels_once(service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking()
    service.deliver(booking)
    await service.job_for(booking)

    envelope = service.deliver(service.cancellation(booking))
    service.redeliver(envelope)
    service.deliver(service.cancellation(booking))  # a second, distinct cancellation event
    marker = service.booking(arrival=service.at(20))
    service.deliver(marker)
    await service.job_for(marker)
    await service.wait_published("transfer.assigned", 2)

    assert len(service.published("transfer.cancelled")) == 1


async def test_cancelling_a_booking_without_transfer_changes_nothing(service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    no_transfer = service.booking(arrival=None)
    service.deliver(no_transfer)
    service.deliver(service.cancellation(no_transfer))
    marker = service.booking()
    service.deliver(marker)

    assert (await service.job_for(marker))["status"] == "assigned"
    await service.wait_published("transfer.assigned", 1)
    assert service.published("transfer.cancelled") == []


async def test_confirmation_overtaken_by_its_cancellation_opens_no_pickup(service) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking()
    # A retried confirmation can arrive after the cancellation of the same booking.
    service.deliver(service.cancellation(booking))
    service.deliver(booking)
    marker = service.booking(arrival=service.at(20))  # delivered last: its job means all done
    service.deliver(marker)
    await service.job_for(marker)

    assert await service.jobs(reservation_id=booking.reservation_id) == []
    assert [e.payload["reservation_id"] for e in service.published("transfer.assigned")] == [
        marker.reservation_id
    ]


async def test_a_booking_cancelled_while_the_driver_is_on_his_way_calls_the_ride_off(
    service,
) -> None:
    await service.add_vehicle()
    await service.add_driver()
    booking = service.booking()
    service.deliver(booking)
    job = await service.job_for(booking)
    moved = await service.client.post(f"/api/v1/transfers/{job['id']}/en-route")
    assert moved.status_code == 200, moved.text

    service.deliver(service.cancellation(booking, reason="guest stays home"))
    await service.wait_published("transfer.cancelled", 1)

    job = await service.job_for(booking)
    assert job["status"] == "cancelled"
    assert job["cancel_reason"] == "guest stays home"
