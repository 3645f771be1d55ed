"""Issue 20 through the service with a real SMTP server: the driver on site (at once, with the
place, the car and the driver's phone), a ride dispatch called off (and not when the booking's
own cancellation tells it), another car with our apology, a complaint's progress, a membership's
demotion in the guest's language; a redelivered event sends nothing twice; a pickup changed
within hours is urgent, one days away is not."""

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from hotel_common.contracts.transfers import TransferAssigned
from hotel_common.testing import MailServer, eventually
from hotel_common.time import utcnow

from .conftest import Samples, Service, StartService
from .test_guest_notices import handled


def text_of(message: Any) -> str:
    """The plain-text part (the whole message while it is plain text only)."""
    body: str = message.get_body(preferencelist=("plain",)).get_content()
    return body


async def mails_to(server: MailServer, address: str, count: int = 1) -> list[Any]:
    def mine() -> list[Any]:
        return [m for m in server.messages if m["To"].addresses[0].addr_spec == address]

    return await eventually(mine, lambda found: len(found) >= count)


async def rows(svc: Service, kind: str) -> list[dict[str, Any]]:
    """The delivery records of `kind` as stored (urgent is not shown by the API)."""
    async with svc.app.state.runtime.engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT transfer_id, urgent, status FROM notifications WHERE kind = :kind"),
            {"kind": kind},
        )
        return [dict(row._mapping) for row in result]


async def test_the_driver_on_site_is_told_at_once_with_the_place_car_and_phone(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.driver_on_site("zh-Hant")
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        (message,) = await mails_to(mail_server, event.guest.email)
        (row,) = await rows(svc, "driver_on_site")
    body = text_of(message)
    assert "司機已到達" in message["Subject"]
    assert event.pickup_place and event.pickup_place in body
    assert event.vehicle_plate and event.vehicle_plate in body
    assert event.driver_phone and event.driver_phone in body
    assert "車牌號碼" in body  # traditional characters
    assert row["urgent"] in (True, 1)


async def test_a_ride_dispatch_called_off_is_told_and_one_its_booking_cancelled_is_not(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    by_dispatch = samples.ride_cancelled("en")
    with_booking = samples.ride_cancelled("en", cause="booking")
    booking_cancelled = samples.cancelled("en")
    after_cancellation = samples.ride_cancelled(
        "en",
        reservation_id=booking_cancelled.reservation_id,
        guest=booking_cancelled.guest,
    )
    before_issue_20 = samples.ride_cancelled("en", guest=None, cause=None)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(by_dispatch)
        (message,) = await mails_to(mail_server, by_dispatch.guest.email)  # type: ignore[union-attr]
        await handled(svc, svc.deliver(with_booking), svc.deliver(before_issue_20))
        svc.deliver(booking_cancelled)
        await svc.wait_for(booking_cancelled.reservation_id, lambda n: n["status"] == "sent")
        await handled(svc, svc.deliver(after_cancellation))
        told = await rows(svc, "transfer_cancelled")
    body = text_of(message)
    assert message["Subject"] == "Your pickup has been cancelled"
    assert by_dispatch.pickup_place and by_dispatch.pickup_place in body
    assert by_dispatch.confirmation_number and by_dispatch.confirmation_number in body
    assert "guest took the train" not in body  # dispatch's words are not the guest's
    # Only the ride dispatch called off: the booking's own cancellation told the others.
    assert [r["transfer_id"] for r in told] == [by_dispatch.transfer_id]
    assert [m["Subject"] for m in mail_server.messages].count(message["Subject"]) == 1


async def test_another_car_comes_with_our_apology_in_every_language(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    apology = {"en": "sorry", "zh-Hans": "非常抱歉", "zh-Hant": "非常抱歉"}
    events = [samples.reassigned(lang) for lang in apology]
    async with start_service(smtp_url=mail_server.url) as svc:
        for event in events:
            svc.deliver(event)
        messages = [(await mails_to(mail_server, e.guest.email))[0] for e in events]
    for event, message, words in zip(events, messages, apology.values(), strict=True):
        body = text_of(message)
        assert words in body
        assert event.driver_name in body and event.driver_phone in body
        assert event.vehicle_plate in body and event.vehicle_description in body


async def test_a_complaints_progress_is_told_in_the_guests_language(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    investigating = samples.complaint("zh-Hans", stage="progress", outcome="investigating")
    approval = samples.complaint(
        "en", stage="progress", outcome="awaiting_approval", case_id=investigating.case_id
    )
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(investigating)
        (first,) = await mails_to(mail_server, Samples.EMAIL)
        svc.deliver(approval)
        _, second = await mails_to(mail_server, Samples.EMAIL, 2)
        listed = await svc.notices(kind="complaint_progress")
    assert "投诉有新进展" in first["Subject"] and investigating.case_number in first["Subject"]
    assert "已开始调查" in text_of(first)
    assert "a manager is now approving" in text_of(second)
    assert "awaiting_approval" not in text_of(second)  # the code is worded, never shown
    assert len(listed) == 2


async def test_a_demotion_is_told_in_the_guests_language_and_a_lapse_or_merge_is_not(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    demoted = samples.tier_changed(
        reason="demoted", tier="silver", previous_tier="gold", discount_percent=15
    )
    lapsed = samples.tier_changed(
        reason="lapsed", tier=None, member_number=None, previous_tier="gold", discount_percent=0
    )
    merged = samples.tier_changed(
        reason="merge_undone", tier="regular", previous_tier="gold", discount_percent=10
    )
    async with start_service(smtp_url=mail_server.url) as svc:
        prefs = samples.preferences(language="zh-Hant", quiet_hours=None)
        await handled(svc, svc.deliver(prefs))
        await handled(svc, svc.deliver(lapsed), svc.deliver(merged))
        svc.deliver(demoted)
        (message,) = await mails_to(mail_server, Samples.EMAIL)
        listed = await svc.notices(kind="loyalty_demotion")
    body = text_of(message)
    assert "銀卡會員" in message["Subject"]
    assert "金卡會員" in body and "15%" in body and "M00012345" in body
    assert len(listed) == 1 and listed[0]["language"] == "zh-Hant"


async def test_a_redelivered_event_sends_nothing_twice(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    on_site = samples.driver_on_site("en")
    called_off = samples.ride_cancelled("en")
    async with start_service(smtp_url=mail_server.url) as svc:
        first = [svc.deliver(on_site), svc.deliver(called_off)]
        for envelope in first:  # the bus delivers each again at once...
            svc.deliver(envelope)
        await eventually(lambda: mail_server.messages, lambda sent: len(sent) >= 2)
        for envelope in first:  # ...and once more after it was sent
            svc.deliver(envelope)
        marker = samples.confirmed("en")  # handled after the copies: one consumer, in order
        svc.deliver(marker)
        await svc.wait_for(marker.reservation_id, lambda n: n["status"] == "sent")
        kinds = sorted(n["kind"] for n in await svc.notices(limit=100))
    assert kinds == ["driver_on_site", "reservation_confirmed", "transfer_cancelled"]
    assert len(mail_server.messages) == 3  # the two notices and the marker's


def _pickup_in(samples: Samples, hours: float) -> TransferAssigned:
    pickup = utcnow() + timedelta(hours=hours)
    return samples.assigned(
        "en", pickup_time=pickup, driver_on_site_at=pickup - timedelta(minutes=30)
    )


async def test_a_pickup_changed_within_six_hours_is_urgent_and_one_days_away_is_not(
    start_service: StartService, samples: Samples
) -> None:
    soon, later = _pickup_in(samples, 2), _pickup_in(samples, 72)
    moved_soon = samples.rescheduled(
        "en",
        pickup_time=soon.pickup_time,
        driver_on_site_at=soon.driver_on_site_at,
        previous_pickup_time=soon.pickup_time - timedelta(hours=3),
    )
    moved_later = samples.rescheduled(
        "en",
        pickup_time=later.pickup_time,
        driver_on_site_at=later.driver_on_site_at,
        previous_pickup_time=later.pickup_time - timedelta(hours=3),
    )
    swapped_soon = samples.reassigned(
        "en", pickup_time=soon.pickup_time, driver_on_site_at=soon.driver_on_site_at
    )
    async with start_service() as svc:
        await handled(
            svc,
            svc.deliver(moved_soon),
            svc.deliver(moved_later),
            svc.deliver(swapped_soon),
            svc.deliver(soon),
            svc.deliver(later),
        )
        moved = {
            r["transfer_id"]: bool(r["urgent"]) for r in await rows(svc, "transfer_rescheduled")
        }
        swapped = await rows(svc, "transfer_reassigned")
        assigned = {
            r["transfer_id"]: bool(r["urgent"]) for r in await rows(svc, "transfer_assigned")
        }
    assert moved == {moved_soon.transfer_id: True, moved_later.transfer_id: False}
    assert [bool(r["urgent"]) for r in swapped] == [True]
    assert assigned == {soon.transfer_id: True, later.transfer_id: False}
