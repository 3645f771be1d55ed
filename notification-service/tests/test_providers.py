"""SMS through HTTP providers (issue 20): the primary takes it with the notice id as the
idempotency key; a primary that is down hands it to the second provider with the same key; a
redelivered event sends nothing twice. Real HTTP provider stubs on loopback ports."""

import json

import pytest
from hotel_common.testing import HttpProviderStub, eventually
from notification_service.config import Settings

from .channels import booking_of_lin, provider, stored, texting_guest
from .conftest import Samples, StartService


async def test_a_text_goes_through_the_primary_provider(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a") as primary,
        HttpProviderStub("sms-b") as second,
        start_service(sms_providers=[provider(primary, "tok-a"), provider(second)]) as svc,
    ):
        svc.deliver(texting_guest(samples))
        booking = booking_of_lin(samples)
        svc.deliver(booking)
        [row] = await eventually(
            lambda: stored(svc, booking.reservation_id),
            lambda rows: len(rows) == 1 and rows[0].status == "sent",
        )

    [request] = primary.requests
    assert request["json"] == {"id": row.id, "to": samples.PHONE, "text": row.body.strip()}
    assert (
        "Booking confirmed" in request["json"]["text"]
        or booking.confirmation_number in (request["json"]["text"])
    )
    assert request["headers"]["authorization"] == "Bearer tok-a"
    assert request["headers"]["idempotency-key"] == row.id
    assert second.requests == []
    assert (row.channel, row.provider, row.provider_message_id) == ("sms", "sms-a", "sms-a-1")
    assert row.fallback == [
        {
            "channel": "email",
            "address": samples.EMAIL,
            "language": row.fallback[0]["language"],
            "subject": row.fallback[0]["subject"],
            "body": row.fallback[0]["body"],
        }
        | ({"html": row.fallback[0]["html"]} if "html" in row.fallback[0] else {})
    ]


async def test_a_primary_that_is_down_hands_the_text_to_the_second_with_the_same_key(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a", status=503) as primary,
        HttpProviderStub("sms-b") as second,
        start_service(sms_providers=[provider(primary), provider(second)]) as svc,
    ):
        svc.deliver(texting_guest(samples))
        booking = booking_of_lin(samples)
        svc.deliver(booking)
        [row] = await eventually(
            lambda: stored(svc, booking.reservation_id),
            lambda rows: len(rows) == 1 and rows[0].status == "sent",
        )

    assert [r["headers"]["idempotency-key"] for r in primary.requests] == [row.id]
    assert [r["headers"]["idempotency-key"] for r in second.requests] == [row.id]
    assert (row.provider, row.provider_message_id, row.attempts) == ("sms-b", "sms-b-1", 1)


async def test_every_provider_down_backs_off_and_sends_once_one_is_back(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a", status=503) as primary,
        HttpProviderStub("sms-b", status=429) as second,
        start_service(sms_providers=[provider(primary), provider(second)]) as svc,
    ):
        svc.deliver(texting_guest(samples))
        booking = booking_of_lin(samples)
        svc.deliver(booking)
        await eventually(lambda: len(second.requests) >= 2)  # tried again, later
        second.status = 202
        [row] = await eventually(
            lambda: stored(svc, booking.reservation_id),
            lambda rows: len(rows) == 1 and rows[0].status == "sent",
        )

    assert row.attempts == 1  # an outage costs no attempt
    assert len(second.accepted) == 1
    assert {r["headers"]["idempotency-key"] for r in primary.requests + second.requests} == {row.id}


async def test_a_redelivered_event_sends_nothing_twice(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a") as primary,
        start_service(sms_providers=[provider(primary)]) as svc,
    ):
        svc.deliver(texting_guest(samples))
        booking = booking_of_lin(samples)
        envelope = svc.deliver(booking)
        await eventually(
            lambda: stored(svc, booking.reservation_id), lambda r: r and r[0].status == "sent"
        )
        svc.deliver(envelope)  # the broker delivers it again
        probe = samples.confirmed("en")  # a later event: the first one was handled by then
        svc.deliver(probe)
        await eventually(
            lambda: svc.notices(reservation_id=probe.reservation_id), lambda n: len(n) == 1
        )
        rows = await stored(svc, booking.reservation_id)

    assert len(rows) == 1 and len(primary.requests) == 1


def test_providers_come_as_json_from_the_environment_and_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    primary = {"name": "sms-a", "url": "https://a.example/sms", "token": "t"}
    monkeypatch.setenv("SMS_PROVIDERS", json.dumps([primary]))
    settings = Settings()
    assert [p.name for p in settings.providers("sms")] == ["sms-a"]
    assert settings.providers("push") == []
    legacy = Settings(
        sms_providers=[], sms_gateway_url="http://gw.example/v1", sms_gateway_token="k"
    )
    assert [(p.name, p.token) for p in legacy.providers("sms")] == [("sms-gateway", "k")]
    with pytest.raises(ValueError, match="http"):
        Settings(push_providers=[{"name": "p", "url": "ftp://push.example"}])
    with pytest.raises(ValueError, match="distinct"):
        Settings(sms_providers=[primary], push_providers=[primary])
