"""Events in, real email out: one message per notice, in the guest's language, with retries."""

from typing import Any

from hotel_common.events.envelope import Envelope
from hotel_common.testing import MailServer, eventually

from .conftest import Samples, StartService


def text_of(message: Any) -> str:
    """The plain-text part (the whole message, or its text/plain part beside the HTML and the
    calendar entry)."""
    body: str = message.get_body(preferencelist=("plain",)).get_content()
    return body


async def test_zh_hans_confirmation_sends_one_chinese_email(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.confirmed("zh-Hans")
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        notice = await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")

    [message] = mail_server.messages
    assert message["To"].addresses[0].addr_spec == event.guest.email
    assert message["From"].addresses[0].display_name == "Harbour View Hotel"
    assert event.confirmation_number in message["Subject"]
    assert "预订确认" in message["Subject"]
    body = text_of(message)
    assert event.confirmation_number in body
    assert f"尊敬的{event.guest.name}" in body
    assert "身份证件" in body  # bring your ID to the front desk
    assert "CNY 1,280.00" in body  # 128000 minor units
    assert notice["language"] == "zh-Hans"
    assert notice["channel"] == "email"
    assert notice["kind"] == "reservation_confirmed"
    assert notice["attempts"] == 1
    assert notice["sent_at"] is not None
    assert notice["subject"] == message["Subject"]


async def test_english_confirmation_is_in_english(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.confirmed("en", with_transfer=True)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")

    [message] = mail_server.to(event.guest.email)
    assert message["Subject"].startswith("Booking confirmed")
    body = text_of(message)
    for value in (
        f"Dear {event.guest.name}",
        event.confirmation_number,
        event.property_name,
        event.room_type_name,
        "Saturday 1 June 2030",
        "Tuesday 4 June 2030",
        "CNY 1,280.00",
        "bring your ID",
        "Pudong Airport T2",
    ):
        assert value in body, value
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in body)


async def test_pickup_email_shows_driver_car_and_local_time(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.assigned("zh-Hant")
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")

    [message] = mail_server.messages
    body = text_of(message)
    assert event.driver_name in message["Subject"] and event.vehicle_plate in message["Subject"]
    for value in (
        event.driver_name,
        event.driver_phone,
        event.vehicle_plate,
        event.vehicle_description,
        event.pickup_place,
        "MU5101",
        "14:30",  # 06:30 UTC in Asia/Shanghai
        "14:00",  # driver on site
        "Asia/Shanghai",
        "司機會與您聯絡",  # the driver contacts the guest to confirm time and place
    ):
        assert value in body, value
    assert "06:30" not in body


async def test_cancellation_email(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.cancelled("en")
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        notice = await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")

    [message] = mail_server.messages
    body = text_of(message)
    assert notice["kind"] == "reservation_cancelled"
    assert "cancelled" in message["Subject"]
    assert event.confirmation_number in body and "Thank you" in body
    assert event.reason is not None and event.reason not in body  # staff's note stays internal


async def test_the_same_envelope_twice_sends_one_email(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.confirmed("en")
    async with start_service(smtp_url=mail_server.url) as svc:
        envelope = svc.deliver(event)
        svc.deliver(envelope)
        await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")
        svc.deliver(envelope)  # and once more after it was sent
        marker = samples.confirmed("en")  # handled after the copy: one consumer, in order
        svc.deliver(marker)
        await svc.wait_for(marker.reservation_id, lambda n: n["status"] == "sent")
        assert len(await svc.notices(reservation_id=event.reservation_id)) == 1

    assert len(mail_server.messages) == 2  # the notice and the marker's


async def test_smtp_down_keeps_it_queued_then_delivers_once_server_is_up(
    start_service: StartService, samples: Samples
) -> None:
    server = MailServer()  # nothing listens there yet
    event = samples.confirmed("zh-Hans")
    async with start_service(smtp_url=server.url) as svc:
        svc.deliver(event)
        waiting = await svc.wait_for(event.reservation_id, lambda n: bool(n["last_error"]))
        assert waiting["status"] == "queued"
        assert waiting["sent_at"] is None
        assert waiting["attempts"] == 0  # the server was down: the notice was not tried

        await server.start()
        try:
            sent = await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")
        finally:
            await server.stop()

    assert sent["attempts"] == 1
    [message] = server.messages
    assert event.confirmation_number in text_of(message)


async def test_after_the_give_up_age_it_fails_and_can_be_retried(
    start_service: StartService, samples: Samples
) -> None:
    server = MailServer()
    event = samples.confirmed("en")
    async with start_service(smtp_url=server.url, delivery_give_up_after_seconds=0.3) as svc:
        svc.deliver(event)
        failed = await svc.wait_for(event.reservation_id, lambda n: n["status"] == "failed")
        assert failed["attempts"] == 0
        assert failed["last_error"]

        await server.start()
        try:
            retried = await svc.client.post(f"/api/v1/notifications/{failed['id']}/retry")
            assert retried.status_code == 200
            assert retried.json()["status"] in ("queued", "sent")
            sent = await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")
        finally:
            await server.stop()

        assert sent["attempts"] == 1
        again = await svc.client.post(f"/api/v1/notifications/{failed['id']}/retry")
        assert again.status_code == 409
        assert again.json()["code"] == "notification_not_failed"

    assert len(server.messages) == 1


async def test_a_refused_recipient_fails_at_once(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    # No phone to fall back to (issue 20): the notice fails for good.
    event = samples.confirmed("en", guest=samples.guest("en").model_copy(update={"phone": None}))
    mail_server.reject.add(event.guest.email)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        failed = await svc.wait_for(event.reservation_id, lambda n: n["status"] == "failed")

    assert failed["attempts"] == 1 and failed["reason"] == "permanent"
    assert "550" in failed["last_error"]
    assert mail_server.messages == []


async def test_without_smtp_the_notice_is_logged_and_readable(
    start_service: StartService, samples: Samples
) -> None:
    event = samples.confirmed("zh-Hans")
    async with start_service(smtp_url="") as svc:
        svc.deliver(event)
        logged = await svc.wait_for(event.reservation_id, lambda n: n["status"] == "logged")
        detail = await svc.notice(logged["id"])

    assert logged["sent_at"] is None
    assert detail["email"] == event.guest.email
    assert event.confirmation_number in detail["body"]
    assert "身份证件" in detail["body"]
    assert detail["event_id"]


async def test_language_tags_outside_the_contract_still_get_a_notice(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service(smtp_url="") as svc:
        expected = {}
        for tag, language in (("zh-TW", "zh-Hant"), ("fr", "en"), ("zh-Hans", "zh-Hans")):
            envelope = Envelope.wrap(samples.confirmed("en"), "other-service")
            guest = envelope.payload["guest"] | {"language": tag}  # as a newer publisher might
            svc.deliver(
                envelope.model_copy(update={"payload": envelope.payload | {"guest": guest}})
            )
            expected[envelope.payload["reservation_id"]] = language

        async def languages() -> dict[str, str]:
            return {n["reservation_id"]: n["language"] for n in await svc.notices()}

        await eventually(languages, lambda found: found == expected)


async def test_retry_of_an_unknown_notice_is_404(start_service: StartService) -> None:
    async with start_service() as svc:
        response = await svc.client.post("/api/v1/notifications/nope/retry")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_notices_overtaken_by_the_cancellation_are_not_sent(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    cancelled = samples.cancelled("en")
    rid, guest = cancelled.reservation_id, cancelled.guest
    late_confirmation = samples.confirmed("en", reservation_id=rid, guest=guest)
    late_pickup = samples.assigned("en", reservation_id=rid, guest=guest)
    marker = samples.confirmed("en")  # delivered last: once it is sent, the others were handled
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(cancelled)
        await svc.wait_for(rid, lambda n: n["status"] == "sent")
        svc.deliver(late_confirmation)
        svc.deliver(late_pickup)
        svc.deliver(marker)
        await svc.wait_for(marker.reservation_id, lambda n: n["status"] == "sent")
        kinds = [n["kind"] for n in await svc.notices(reservation_id=rid)]

    assert kinds == ["reservation_cancelled"]
    [message] = mail_server.to(guest.email)  # the guest hears of the cancellation only
    assert "cancel" in message["Subject"].lower()
