"""Issue 18: the guest is told when their pickup moves (a flight delayed), when another car or
driver comes (a breakdown), and when the driver left without them (a no-show), in their language;
ad-hoc transfers without a booking are told too. Through the service: events in, notices listed."""

import asyncio
from typing import Any

from hotel_common.testing import eventually

from .conftest import Samples, StartService


async def notices_to(svc: Any, email: str, count: int = 1) -> list[dict[str, Any]]:
    return await eventually(lambda: svc.notices(email=email), lambda found: len(found) >= count)


async def test_a_delayed_flights_new_pickup_time_and_driver_in_the_guests_language(
    start_service: StartService, samples: Samples
) -> None:
    event = samples.rescheduled("zh-Hans")
    async with start_service() as svc:
        svc.deliver(event)
        (notice,) = await notices_to(svc, event.guest.email)
        detail = await svc.notice(notice["id"])
    assert (notice["kind"], notice["language"]) == ("transfer_rescheduled", "zh-Hans")
    assert notice["reservation_id"] == event.reservation_id
    assert notice["subject"].startswith("接送时间已调整为")
    assert "MU5101" in detail["body"] and "Zhao Min" in detail["body"]
    assert "原为" in detail["body"]  # the former time beside the new one


async def test_a_move_without_a_driver_yet_says_dispatch_is_on_it(
    start_service: StartService, samples: Samples
) -> None:
    event = samples.rescheduled(
        "en", driver_name=None, driver_phone=None, vehicle_plate=None, vehicle_description=None
    )
    async with start_service() as svc:
        svc.deliver(event)
        (notice,) = await notices_to(svc, event.guest.email)
        body = (await svc.notice(notice["id"]))["body"]
    assert "arranging a driver" in body and "None" not in body


async def test_every_guest_of_a_broken_down_van_hears_of_the_new_one(
    start_service: StartService, samples: Samples
) -> None:
    events = [samples.reassigned(language) for language in ("en", "zh-Hans", "zh-Hant")]
    async with start_service() as svc:
        for event in events:
            svc.deliver(event)
        told = [(await notices_to(svc, e.guest.email))[0] for e in events]
    assert [n["kind"] for n in told] == ["transfer_reassigned"] * 3
    assert [n["language"] for n in told] == ["en", "zh-Hans", "zh-Hant"]
    assert all("沪B·V0002" in n["subject"] for n in told)


async def test_an_ad_hoc_transfer_without_a_booking_is_told_too(
    start_service: StartService, samples: Samples
) -> None:
    assigned = samples.assigned("en", reservation_id=None, confirmation_number=None)
    moved = samples.reassigned(
        "en",
        transfer_id=assigned.transfer_id,
        reservation_id=None,
        confirmation_number=None,
        guest=assigned.guest,
    )
    async with start_service() as svc:
        svc.deliver(assigned)
        svc.deliver(moved)
        found = await notices_to(svc, assigned.guest.email, 2)
        bodies = [(await svc.notice(n["id"]))["body"] for n in found]
    assert {n["kind"] for n in found} == {"transfer_assigned", "transfer_reassigned"}
    assert all(n["reservation_id"] is None and n["confirmation_number"] is None for n in found)
    assert all("None" not in body and "booking" not in body for body in bodies)
    assert any("Your transfer has been arranged." in body for body in bodies)


async def test_a_no_show_is_told_and_the_other_steps_are_not(
    start_service: StartService, samples: Samples
) -> None:
    gone = samples.no_show("zh-Hant")
    boarded = samples.no_show("en", status="in_progress", previous_status="driver_on_site")
    async with start_service() as svc:
        svc.deliver(boarded)
        svc.deliver(gone)
        (notice,) = await notices_to(svc, gone.guest.email)
        assert await svc.notices(email=boarded.guest.email) == []
    assert (notice["kind"], notice["language"]) == ("transfer_no_show", "zh-Hant")


async def test_an_older_change_of_the_job_arriving_late_is_not_told(
    start_service: StartService, samples: Samples
) -> None:
    newer = samples.reassigned("en", aggregate_version=5)
    older = samples.rescheduled(
        "en", transfer_id=newer.transfer_id, guest=newer.guest, aggregate_version=4
    )
    booking_move = samples.rescheduled("en", reason="booking_changed")
    async with start_service() as svc:
        svc.deliver(newer)
        await notices_to(svc, newer.guest.email)
        svc.deliver(older)
        svc.deliver(booking_move)
        marker = samples.no_show("en")
        svc.deliver(marker)  # consumed after the others on the one in-memory queue
        await notices_to(svc, marker.guest.email)
        await asyncio.sleep(0.3)  # and any handler still running next to it
        told = await svc.notices(email=newer.guest.email)
        assert [n["kind"] for n in told] == ["transfer_reassigned"]
        assert await svc.notices(email=booking_move.guest.email) == []


async def test_a_cancelled_bookings_pickup_changes_are_not_told(
    start_service: StartService, samples: Samples
) -> None:
    booking = samples.confirmed("en")
    cancelled = samples.cancelled("en", reservation_id=booking.reservation_id, guest=booking.guest)
    change = samples.reassigned("en", reservation_id=booking.reservation_id, guest=booking.guest)
    async with start_service() as svc:
        svc.deliver(cancelled)
        await svc.wait_for(booking.reservation_id, lambda n: True)
        svc.deliver(change)
        marker = samples.no_show("en")
        svc.deliver(marker)
        await notices_to(svc, marker.guest.email)
        await asyncio.sleep(0.3)
        kinds = [n["kind"] for n in await svc.notices(reservation_id=booking.reservation_id)]
    assert kinds == ["reservation_cancelled"]
