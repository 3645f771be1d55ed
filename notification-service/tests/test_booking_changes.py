"""A booking's later life reaches the guest: a change shows the booking as it now is beside
what it was, an expired request says so, a cancellation by the system for an unmet guarantee
says why and shows the fee and the refund. A stale change is not told, and nothing follows the
cancellation notice."""

from datetime import timedelta

from hotel_common.testing import MailServer, eventually, reservation_modified

from .conftest import Samples, Service, StartService
from .test_email_delivery import text_of


async def kinds(svc: Service, reservation_id: str, count: int) -> list[str]:
    """The kinds of the reservation's notices, oldest first, once there are `count`."""
    found = await eventually(
        lambda: svc.notices(reservation_id=reservation_id), lambda ns: len(ns) == count
    )
    return [n["kind"] for n in reversed(found)]


async def settle(svc: Service, samples: Samples) -> None:
    """Wait until a booking delivered after everything else has its notice."""
    marker = samples.confirmed()
    svc.deliver(marker)
    await svc.wait_for(marker.reservation_id, lambda n: True)


async def test_a_change_is_mailed_with_what_it_was(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    change = samples.modified("en")
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(change)
        notice = await svc.wait_for(change.reservation_id, lambda n: n["status"] == "sent")

    assert notice["kind"] == "reservation_modified"
    [message] = mail_server.to(change.guest.email)
    assert message["Subject"].startswith("Booking changed: Harbour View Hotel")
    body = text_of(message)
    for line in (
        "Room type: Harbour Suite (changed)",
        "Check-in: Sunday 2 June 2030 (was Saturday 1 June 2030)",
        "Check-out: Thursday 6 June 2030 (was Tuesday 4 June 2030)",
        "Guests: 3 (was 2)",
        "Total: CNY 6,752.00 (was CNY 1,280.00)",
        "Expected arrival: Sunday 2 June 2030, 14:30 (Asia/Shanghai, UTC+08:00)",
    ):
        assert line in body


async def test_a_change_in_chinese_shows_only_what_changed(
    start_service: StartService, samples: Samples
) -> None:
    booking = samples.confirmed("zh-Hant", with_transfer=True, aggregate_version=2)
    later = booking.check_out + timedelta(days=1)
    change = reservation_modified(booking, check_out=later, total_amount=192000)
    async with start_service() as svc:
        svc.deliver(change)
        notice = await svc.wait_for(change.reservation_id, lambda n: n["status"] == "logged")
        body = (await svc.notice(notice["id"]))["body"]

    assert notice["language"] == "zh-Hant"
    assert notice["subject"].startswith("訂房變更通知")
    # Chinese text takes full-width punctuation: a colon and brackets.
    colon, open_, close = "\uff1a", "\uff08", "\uff09"
    was_out = f"{open_}原為2030年6月4日{open_}星期二{close}{close}"
    assert f"退房日期{colon}2030年6月5日{open_}星期三{close}{was_out}" in body
    assert f"房費總額{colon}CNY 1,920.00{open_}原為CNY 1,280.00{close}" in body
    assert f"入住日期{colon}2030年6月1日{open_}星期六{close}\n" in body  # unchanged: as it is
    assert "接送" not in body  # the pickup did not change


async def test_a_pickup_removed_by_a_change_is_said(
    start_service: StartService, samples: Samples
) -> None:
    booking = samples.confirmed("en", with_transfer=True, aggregate_version=2)
    change = reservation_modified(booking, transfer=None, aggregate_version=3)
    async with start_service() as svc:
        svc.deliver(change)
        notice = await svc.wait_for(change.reservation_id, lambda n: n["status"] == "logged")
        body = (await svc.notice(notice["id"]))["body"]
    assert "You no longer have an arrival pickup with this booking." in body


async def test_a_stale_change_and_one_the_guest_does_not_see_are_not_told(
    start_service: StartService, samples: Samples
) -> None:
    booking = samples.confirmed("en", aggregate_version=2)
    newest = reservation_modified(booking, guests=1, aggregate_version=4)
    stale = reservation_modified(booking, guests=3, aggregate_version=3)
    hidden = reservation_modified(
        samples.confirmed("en"),
        changes={"guarantee_due_at": {"from": None, "to": "2030-05-20T10:00:00Z"}},
        aggregate_version=3,
    )
    async with start_service() as svc:
        svc.deliver(newest)
        svc.deliver(stale)  # retried after the later change overtook it
        svc.deliver(hidden)
        await settle(svc, samples)
        notices = await svc.notices(reservation_id=booking.reservation_id)
        assert await svc.notices(reservation_id=hidden.reservation_id) == []
        detail = await svc.notice(notices[0]["id"])
    assert "Guests: 1 (was 2)" in detail["body"]  # the newest change, not the stale one

    [told] = notices
    assert told["kind"] == "reservation_modified"


async def test_an_expired_request_is_told(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    expired = samples.expired("zh-Hans")
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(expired)
        notice = await svc.wait_for(expired.reservation_id, lambda n: n["status"] == "sent")

    assert notice["kind"] == "reservation_expired"
    [message] = mail_server.to(expired.guest.email)
    assert message["Subject"].startswith("预订申请已失效")
    assert "不会产生任何费用" in text_of(message)


async def test_a_cancellation_for_an_unmet_guarantee_says_why_with_fee_and_refund(
    start_service: StartService, samples: Samples
) -> None:
    by_system = samples.cancelled(
        "en",
        reason="guarantee not received",  # the staff's words: never shown
        reason_code="guarantee_expired",
        cancellation_fee_amount=48800,
        refund_amount=79200,
        currency="CNY",
    )
    free = samples.cancelled("en")
    async with start_service() as svc:
        svc.deliver(by_system)
        svc.deliver(free)
        notice = await svc.wait_for(by_system.reservation_id, lambda n: n["status"] == "logged")
        body = (await svc.notice(notice["id"]))["body"]
        other = await svc.wait_for(free.reservation_id, lambda n: n["status"] == "logged")
        free_body = (await svc.notice(other["id"]))["body"]

    assert notice["kind"] == "guarantee_expired"  # issue 20: its own notice
    assert "had not reached us by its deadline" in body
    assert "Cancellation fee: CNY 488.00" in body
    assert "Refund to you: CNY 792.00" in body
    assert "guarantee not received" not in body
    assert "deadline" not in free_body and "Cancellation fee" not in free_body
    assert "refunded under the cancellation policy of your booking" in free_body


async def test_nothing_is_told_after_the_cancellation(
    start_service: StartService, samples: Samples
) -> None:
    booking = samples.confirmed("en", aggregate_version=2)
    rid = booking.reservation_id
    async with start_service() as svc:
        svc.deliver(samples.cancelled("en", reservation_id=rid, aggregate_version=4))
        # A change and an expiry retried after the cancellation overtook them.
        svc.deliver(reservation_modified(booking, guests=1, aggregate_version=3))
        svc.deliver(samples.expired("en", reservation_id=rid, aggregate_version=3))
        await settle(svc, samples)
        assert await kinds(svc, rid, 1) == ["reservation_cancelled"]


async def test_a_pickup_retried_after_it_moved_is_not_told_again(
    start_service: StartService, samples: Samples
) -> None:
    moved = samples.assigned("en", aggregate_version=3)
    first = samples.assigned(
        "en",
        reservation_id=moved.reservation_id,
        guest=moved.guest,
        pickup_time=moved.pickup_time - timedelta(hours=4),
        aggregate_version=2,
    )
    async with start_service() as svc:
        svc.deliver(moved)
        svc.deliver(first)  # the first assignment, retried after the move
        await settle(svc, samples)
        [told] = await svc.notices(reservation_id=moved.reservation_id)
        detail = await svc.notice(told["id"])
    assert "14:30" in detail["body"]  # the moved pickup's time (Asia/Shanghai)
