"""Provider delivery receipts (issue 20): signed with the provider's receipt secret; a
delivered receipt marks the notice delivered (idempotent); a permanent failure marks the number
bad and sends the notice by email; unsigned, stale, tampered, malformed or unknown receipts are
refused and change nothing."""

import time
from typing import Any

from hotel_common.testing import HttpProviderStub, MailServer, assert_problem, eventually

from .channels import booking_of_lin, provider, receipt, signed, stored, texting_guest
from .conftest import Samples, Service, StartService


async def _sent_text(svc: Service, samples: Samples) -> Any:
    svc.deliver(texting_guest(samples))
    booking = booking_of_lin(samples)
    svc.deliver(booking)
    [row] = await eventually(
        lambda: stored(svc, booking.reservation_id),
        lambda rows: len(rows) == 1 and rows[0].status == "sent",
    )
    return row


async def test_a_signed_receipt_marks_the_text_delivered(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a") as sms,
        start_service(sms_providers=[provider(sms)]) as svc,
    ):
        row = await _sent_text(svc, samples)
        first = await receipt(
            svc, "sms-a", {"message_id": row.provider_message_id, "status": "delivered"}
        )
        again = await receipt(svc, "sms-a", {"id": row.id, "status": "delivered"})
        shown = await svc.notice(row.id)

    assert first.status_code == 200 and first.json() == {"id": row.id, "status": "delivered"}
    assert again.status_code == 200 and again.json()["status"] == "delivered"
    assert shown["status"] == "delivered" and shown["delivered_at"] is not None
    assert shown["provider"] == "sms-a" and shown["provider_message_id"] == "sms-a-1"


async def test_a_permanent_failure_receipt_marks_the_number_bad_and_sends_by_email(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a") as sms,
        start_service(smtp_url=mail_server.url, sms_providers=[provider(sms)]) as svc,
    ):
        row = await _sent_text(svc, samples)
        body = {"id": row.id, "status": "failed", "permanent": True, "error": "unknown subscriber"}
        answer = await receipt(svc, "sms-a", body)
        repeat = await receipt(svc, "sms-a", body)  # a provider retrying its webhook
        text, mail = await eventually(
            lambda: stored(svc, row.reservation_id),
            lambda rows: len(rows) == 2 and rows[1].status == "sent",
        )

    assert answer.status_code == 200 and repeat.status_code == 200
    assert (text.status, text.reason) == ("failed", "permanent")
    assert (mail.channel, mail.fallback_of) == ("email", text.id)
    assert [m["To"].addresses[0].addr_spec for m in mail_server.messages] == [samples.EMAIL]


async def test_unsigned_stale_tampered_malformed_or_unknown_receipts_change_nothing(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a") as sms,
        start_service(sms_providers=[provider(sms)]) as svc,
    ):
        row = await _sent_text(svc, samples)
        delivered = {"id": row.id, "status": "delivered"}
        url = "/api/v1/delivery-receipts/sms-a"
        unsigned = await svc.client.post(url, json=delivered)
        stale = await receipt(svc, "sms-a", delivered, at=int(time.time()) - 600)
        wrong_key = await receipt(svc, "sms-a", delivered, secret="not-the-secret")
        raw, headers = signed(delivered)
        tampered = await svc.client.post(
            url, content=raw.replace(b"delivered", b"failed"), headers=headers
        )
        unknown_provider = await receipt(svc, "sms-z", delivered)
        malformed = await receipt(svc, "sms-a", {"id": row.id, "status": "read"})
        extra = await receipt(svc, "sms-a", {**delivered, "note": "x"})
        not_json = await receipt(svc, "sms-a", b"{not json")
        unknown_message = await receipt(svc, "sms-a", {"message_id": "nope", "status": "delivered"})
        [after] = await stored(svc, row.reservation_id)

    for answer in (unsigned, stale, wrong_key, tampered):
        assert_problem(answer, 401, "invalid_signature")
    assert_problem(unknown_provider, 404, "provider_not_found")
    for answer in (malformed, extra, not_json):
        assert_problem(answer, 422, "validation_error")
    assert_problem(unknown_message, 404, "notification_not_found")
    assert (after.status, after.delivered_at, after.reason) == ("sent", None, None)


async def test_a_receipt_for_a_text_not_yet_handed_over_is_refused_and_the_text_still_goes(
    start_service: StartService, samples: Samples
) -> None:
    """A signed provider naming our id for a notice it never took cannot stop that notice."""
    async with (
        HttpProviderStub("sms-a", status=503) as sms,  # down: the text waits, untried
        start_service(sms_providers=[provider(sms)], delivery_backoff_seconds=[0.2]) as svc,
    ):
        svc.deliver(texting_guest(samples))
        booking = booking_of_lin(samples)
        svc.deliver(booking)
        [waiting] = await eventually(
            lambda: stored(svc, booking.reservation_id),
            lambda rows: len(rows) == 1 and rows[0].last_error is not None,
        )
        early = await receipt(svc, "sms-a", {"id": waiting.id, "status": "delivered"})
        sms.status = 202  # back up
        [sent] = await eventually(
            lambda: stored(svc, booking.reservation_id),
            lambda rows: len(rows) == 1 and rows[0].status == "sent",
        )

    assert_problem(early, 404, "notification_not_found")
    assert sent.delivered_at is None and len(sms.accepted) == 1


async def test_an_oversized_receipt_is_refused_before_anything_is_read(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a") as sms,
        start_service(sms_providers=[provider(sms)]) as svc,
    ):
        row = await _sent_text(svc, samples)
        huge = {"id": row.id, "status": "failed", "error": "x" * 20_000, "permanent": True}
        answer = await receipt(svc, "sms-a", huge)
        shown = await svc.notice(row.id)

    assert_problem(answer, 413, "receipt_too_large")
    assert shown["status"] == "sent" and shown["reason"] is None
