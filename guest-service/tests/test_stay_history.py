"""A stay follows its booking's life on the guest's profile: a change moves its dates, room type
and price (a stale change leaves it), and the check-out records the completed stay: the day the
guest left, the nights stayed and the amount spent."""

from datetime import date
from typing import Any

from hotel_common.testing import (
    eventually,
    reservation_checked_out,
    reservation_modified,
)

from .conftest import GuestService, booking, cancellation


async def stay_of(service: GuestService, email: str, until: Any) -> dict[str, Any]:
    """The profile's one stay once `until(stay)` holds."""
    profile = await eventually(
        lambda: service.profile(email),
        until=lambda p: p is not None and len(p["stays"]) == 1 and until(p["stays"][0]),
    )
    assert profile is not None
    return dict(profile["stays"][0])


async def test_a_change_moves_the_stay(service: GuestService) -> None:
    booked = booking(email="chen.jing@example.com", aggregate_version=2)
    service.deliver(booked)
    await stay_of(service, "chen.jing@example.com", lambda s: True)

    service.deliver(
        reservation_modified(
            booked,
            check_in=date(2026, 5, 2),
            check_out=date(2026, 5, 5),
            room_type_code="STE",
            room_type_name="Harbour Suite",
            total_amount=506400,
            aggregate_version=3,
        )
    )
    stay = await stay_of(service, "chen.jing@example.com", lambda s: s["room_type_code"] == "STE")

    assert stay == stay | {
        "reservation_id": booked.reservation_id,
        "check_in": "2026-05-02",
        "check_out": "2026-05-05",
        "total_amount": 506400,
        "status": "confirmed",
        "nights": None,
        "amount_spent": None,
    }


async def test_a_stale_change_leaves_the_stay_as_the_newest_made_it(
    service: GuestService,
) -> None:
    booked = booking(email="stale@example.com", aggregate_version=2)
    service.deliver(booked)
    service.deliver(reservation_modified(booked, check_out=date(2026, 5, 6), aggregate_version=4))
    service.deliver(reservation_modified(booked, check_out=date(2026, 5, 4), aggregate_version=3))
    marker = booking(email="stale@example.com")
    service.deliver(marker)
    profile = await service.profile_with_stays("stale@example.com", 2)

    [stay] = [s for s in profile["stays"] if s["reservation_id"] == booked.reservation_id]
    assert stay["check_out"] == "2026-05-06"


async def test_a_change_before_its_confirmation_links_the_stay_as_changed(
    service: GuestService,
) -> None:
    booked = booking(email="early.change@example.com", aggregate_version=2)
    service.deliver(reservation_modified(booked, guests=1, total_amount=99000, aggregate_version=3))
    service.deliver(booked)  # the confirmation, retried after the change
    requested = booking(email="request.only@example.com", phone=None, aggregate_version=1)
    service.deliver(reservation_modified(requested, status="requested", aggregate_version=2))
    stay = await stay_of(service, "early.change@example.com", lambda s: True)
    marker = booking(email="request.only@example.com", phone=None, aggregate_version=2)
    service.deliver(marker)
    profile = await service.profile_with_stays("request.only@example.com", 1)

    assert stay["total_amount"] == 99000  # the change's, not the older confirmation's
    assert [s["reservation_id"] for s in profile["stays"]] == [marker.reservation_id]


async def test_a_change_after_the_cancellation_leaves_the_stay_cancelled(
    service: GuestService,
) -> None:
    booked = booking(email="cancelled.change@example.com", aggregate_version=2)
    service.deliver(booked)
    service.deliver(cancellation(booked).model_copy(update={"aggregate_version": 4}))
    service.deliver(reservation_modified(booked, check_out=date(2026, 5, 9), aggregate_version=3))
    marker = booking(email="cancelled.change@example.com")
    service.deliver(marker)
    profile = await service.profile_with_stays("cancelled.change@example.com", 2)

    [stay] = [s for s in profile["stays"] if s["reservation_id"] == booked.reservation_id]
    assert (stay["status"], stay["check_out"]) == ("cancelled", "2026-05-03")


async def test_the_check_out_records_the_completed_stay(service: GuestService) -> None:
    booked = booking(email="wang.fang@example.com", aggregate_version=2)
    service.deliver(booked)
    await stay_of(service, "wang.fang@example.com", lambda s: True)

    # One night early, with the minibar: what loyalty will count later.
    service.deliver(
        reservation_checked_out(
            booked, check_out=date(2026, 5, 2), nights=1, amount_spent=70400, aggregate_version=5
        )
    )
    stay = await stay_of(service, "wang.fang@example.com", lambda s: s["status"] == "checked_out")

    assert stay == stay | {
        "check_in": "2026-05-01",
        "check_out": "2026-05-02",
        "nights": 1,
        "amount_spent": 70400,
        "currency": "CNY",
        "total_amount": 128000,  # what was booked stays beside what was spent
    }


async def test_a_check_out_overtaking_its_confirmation_is_recorded_once_linked(
    service: GuestService,
) -> None:
    booked = booking(email="late.link@example.com", aggregate_version=2)
    service.deliver(reservation_checked_out(booked, aggregate_version=5))
    service.deliver(booked)
    stay = await stay_of(service, "late.link@example.com", lambda s: s["status"] == "checked_out")
    assert (stay["nights"], stay["amount_spent"]) == (2, 128000)
