"""Cancellation by the booking's stored policy: free until the policy's hours before arrival,
then the first night or a percentage; the fee and the refund on the booking and its event."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from reservation_service import pricing

from . import changes_support
from .changes_support import Desk, plan_terms
from .conftest import hotel_today

desk = changes_support.desk  # the fixture, for this module's tests


async def test_a_cancellation_in_the_free_window_costs_nothing(desk: Desk) -> None:
    booking = await desk.booked()  # 10 days ahead: free until 1 day before
    cancelled = (await desk.hotel.cancel(booking["id"])).json()
    assert (cancelled["cancellation_fee_amount"], cancelled["refund_amount"]) == (0, 0)
    [event] = await desk.events("reservation.cancelled")
    assert event.payload["cancellation_fee_amount"] == 0


async def test_a_late_cancellation_is_charged_the_first_night(desk: Desk) -> None:
    today = hotel_today()
    booking = await desk.booked(
        check_in=today.isoformat(), check_out=(today + timedelta(days=2)).isoformat()
    )
    cancelled = (await desk.hotel.cancel(booking["id"], reason="Plans changed")).json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_fee_amount"] == booking["nightly_amounts"][0]
    assert cancelled["refund_amount"] == 0
    [event] = await desk.events("reservation.cancelled")
    assert event.payload["cancellation_fee_amount"] == booking["nightly_amounts"][0]
    assert (event.payload["currency"], event.payload["reason_code"]) == ("CNY", None)
    [line] = [h for h in await desk.history(booking["id"]) if h["action"] == "cancelled"]
    assert line["changes"]["cancellation_fee_amount"] == booking["nightly_amounts"][0]


async def test_a_request_costs_nothing_to_cancel_even_late(desk: Desk) -> None:
    today = hotel_today()
    created = await desk.hotel.book(
        check_in=today.isoformat(), check_out=(today + timedelta(days=1)).isoformat()
    )
    cancelled = (await desk.hotel.cancel(created["id"])).json()
    assert cancelled["cancellation_fee_amount"] == 0


async def test_the_policy_agreed_at_booking_applies_with_a_percentage_and_the_paid_refunded(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Terms of a non-refundable-ish plan: free until 30 days before, then 50% of the room.
    plan_terms(
        monkeypatch,
        policy=pricing.CancellationPolicy(free_until_hours=30 * 24, fee="percent", fee_percent=50),
    )
    booking = await desk.booked()
    monkeypatch.undo()  # the plan changes later: the booking keeps its terms
    assert booking["policy"]["cancellation"]["fee_percent"] == 50
    paid = 200000
    prepaid = await desk.hotel.client.post(
        f"/api/v1/reservations/{booking['id']}/folio/payments",
        json={"amount": paid, "method": "cash"},
    )
    assert prepaid.status_code == 201, prepaid.text

    cancelled = (await desk.hotel.cancel(booking["id"])).json()

    fee = (sum(booking["nightly_amounts"]) * 50 + 50) // 100
    assert cancelled["cancellation_fee_amount"] == fee
    assert cancelled["refund_amount"] == paid - fee
    [event] = await desk.events("reservation.cancelled")
    assert (event.payload["cancellation_fee_amount"], event.payload["refund_amount"]) == (
        fee,
        paid - fee,
    )


async def test_the_arrival_is_the_check_in_day_at_the_property_check_in_time(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Free until N hours before 14:00 property time on the check-in day: with N = hours from
    now to that instant plus one, it is already late; minus one, still free."""
    check_in = date.fromisoformat(desk.hotel.stay[0])
    arrival = datetime.combine(check_in, datetime.min.time().replace(hour=14))
    arrival = arrival.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    hours = int((arrival - datetime.now(UTC)).total_seconds() // 3600)
    for free_until, expected_fee in ((hours + 1, True), (hours - 1, False)):
        plan_terms(monkeypatch, policy=pricing.CancellationPolicy(free_until_hours=free_until))
        booking = await desk.booked()
        cancelled = (await desk.hotel.cancel(booking["id"])).json()
        assert (cancelled["cancellation_fee_amount"] > 0) is expected_fee, free_until
