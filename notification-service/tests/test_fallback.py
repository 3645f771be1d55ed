"""Falling back to the next channel (issue 20): a number the provider refuses for good is marked
bad and the notice goes by email (the real SMTP server); a push not delivered within its
deadline goes by text; a guest with no usable channel gets a suppressed record with the reason;
two senders on one PostgreSQL database fall back once."""

import uuid
from contextlib import AsyncExitStack
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import HttpProviderStub, MailServer, eventually
from notification_service import devices
from notification_service.bad_addresses import BadAddress
from notification_service.preferences import NoticePreferences, contact_hash

from .channels import booking_of_lin, provider, stored, texting_guest
from .conftest import Samples, StartService

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


async def test_a_number_refused_for_good_is_marked_bad_and_the_notice_goes_by_email(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a", status=400) as sms,
        start_service(smtp_url=mail_server.url, sms_providers=[provider(sms)]) as svc,
    ):
        svc.deliver(texting_guest(samples))
        booking = booking_of_lin(samples)
        svc.deliver(booking)
        text, mail = await eventually(
            lambda: stored(svc, booking.reservation_id),
            lambda rows: len(rows) == 2 and rows[1].status == "sent",
        )
        # The next notice skips the bad number: straight to email, nothing to the provider.
        later = booking_of_lin(samples)
        svc.deliver(later)
        [again] = await eventually(
            lambda: stored(svc, later.reservation_id),
            lambda rows: len(rows) == 1 and rows[0].status == "sent",
        )
        async with svc.app.state.runtime.sessions() as session:
            bad = await session.get(BadAddress, contact_hash("phone", samples.PHONE))
        listed = await svc.notices(reservation_id=booking.reservation_id)

    assert (text.channel, text.status, text.reason) == ("sms", "failed", "permanent")
    assert (mail.channel, mail.email, mail.fallback_of) == ("email", samples.EMAIL, text.id)
    assert mail.provider == "smtp" and mail.event_id == text.event_id and mail.kind == text.kind
    assert bad is not None and bad.channel == "sms"
    assert again.channel == "email" and len(sms.requests) == 1
    assert [m["To"].addresses[0].addr_spec for m in mail_server.messages] == [samples.EMAIL] * 2
    assert booking.confirmation_number in mail_server.messages[0]["Subject"]
    assert {n["fallback_of"] for n in listed} == {None, text.id}


async def test_a_push_not_delivered_in_time_goes_by_text(
    start_service: StartService, samples: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def phone_has_the_app(session: Any, *, email: str | None, phone: str | None) -> list[str]:
        return ["device-token-1"] if samples.EMAIL in (email, None) or phone else []

    monkeypatch.setattr(devices, "tokens_for", phone_has_the_app)
    async with (
        HttpProviderStub("push-a") as push,
        HttpProviderStub("sms-a") as sms,
        start_service(
            push_providers=[provider(push)],
            sms_providers=[provider(sms)],
            urgent_delivery_deadline_seconds=0.5,
            delivery_deadline_seconds=0.5,
        ) as svc,
    ):
        svc.deliver(texting_guest(samples, channels=("push", "sms")))
        guest = samples.guest("en").model_copy(
            update={"email": samples.EMAIL, "phone": samples.PHONE}
        )
        moved = samples.rescheduled("en", guest=guest)
        svc.deliver(moved)
        pushed, texted = await eventually(
            lambda: stored(svc, moved.reservation_id),
            lambda rows: len(rows) == 2 and rows[1].status == "sent",
        )

    [request] = push.requests
    assert request["json"]["tokens"] == ["device-token-1"] and request["json"]["id"] == pushed.id
    assert request["json"]["data"] == {
        "kind": "transfer_rescheduled",
        "reservation_id": moved.reservation_id,
    }
    assert request["headers"]["idempotency-key"] == pushed.id
    # The push keeps its status (it may still arrive), marked as fallen back.
    assert (pushed.channel, pushed.status, pushed.reason) == ("push", "sent", "fell_back")
    assert (texted.channel, texted.phone, texted.fallback_of) == ("sms", samples.PHONE, pushed.id)
    [text] = sms.requests
    assert text["json"]["to"] == samples.PHONE and text["headers"]["idempotency-key"] == texted.id


async def test_a_guest_with_no_usable_channel_gets_a_suppressed_record(
    start_service: StartService, samples: Samples
) -> None:
    guest = samples.guest("en").model_copy(update={"phone": None})
    booking = samples.confirmed("en", guest=guest)
    async with start_service() as svc:
        async with svc.app.state.runtime.sessions() as session:
            session.add(
                BadAddress(
                    contact_hash=contact_hash("email", guest.email), channel="email", reason="550"
                )
            )
            await session.commit()
        svc.deliver(booking)
        [notice] = await eventually(
            lambda: svc.notices(reservation_id=booking.reservation_id), lambda n: len(n) == 1
        )
        suppressed = await svc.notices(status="suppressed")

    assert (notice["status"], notice["reason"], notice["email"]) == ("suppressed", "no_channel", "")
    assert notice["kind"] == "reservation_confirmed" and notice["sent_at"] is None
    assert [n["id"] for n in suppressed] == [notice["id"]]


async def test_marketing_without_consent_is_recorded_as_no_consent(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        svc.deliver(texting_guest(samples))
        svc.deliver(samples.birthday("en"))
        [notice] = await eventually(
            lambda: svc.notices(kind="birthday_greeting"), lambda n: len(n) == 1
        )

    assert (notice["status"], notice["reason"]) == ("suppressed", "no_consent")


async def test_two_senders_on_postgresql_fall_back_once(
    start_service: StartService, samples: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def has_the_app(session: Any, *, email: str | None, phone: str | None) -> list[str]:
        return ["device-token-1"]

    monkeypatch.setattr(devices, "tokens_for", has_the_app)
    url = f"{PG}/test_{uuid.uuid4().hex}"
    bookings = [booking_of_lin(samples) for _ in range(6)]
    try:
        async with (
            HttpProviderStub("push-a") as push,
            HttpProviderStub("sms-a") as sms,
            AsyncExitStack() as stack,
        ):
            options = {
                "database_url": url,
                "broker": InMemoryBroker(),
                "push_providers": [provider(push)],
                "sms_providers": [provider(sms)],
                "delivery_deadline_seconds": 0.3,
                "urgent_delivery_deadline_seconds": 0.3,
                "delivery_poll_seconds": 0.05,
            }
            svc = await stack.enter_async_context(start_service(**options))
            other = await stack.enter_async_context(start_service(**options))
            svc.deliver(texting_guest(samples, channels=("push", "sms")))

            async def wishes_held() -> object:
                async with svc.app.state.runtime.sessions() as session:
                    return await session.get(NoticePreferences, samples.GUEST_ID)

            await eventually(wishes_held)
            for booking in bookings:
                svc.deliver(booking)

            async def all_rows() -> list[Any]:
                return [r for b in bookings for r in await stored(svc, b.reservation_id)]

            # push, not delivered in time -> sms, not delivered in time -> email (no server:
            # logged), each step once.
            await eventually(
                all_rows,
                lambda rs: len([r for r in rs if r.channel == "email"]) == 6,
                timeout=20,
            )
            # More passes of both senders, every deadline past: nothing falls back again.
            for replica in (svc, other, svc, other):
                await replica.app.state.runtime.extras["delivery"].deliver_due()
            rows = await all_rows()
    finally:
        await drop_database(url)

    assert sorted(r.channel for r in rows) == ["email"] * 6 + ["push"] * 6 + ["sms"] * 6
    assert len(push.requests) == 6 and len(sms.requests) == 6
    ids = {channel: {r.id for r in rows if r.channel == channel} for channel in ("push", "sms")}
    assert sorted(r.fallback_of for r in rows if r.channel == "sms") == sorted(ids["push"])
    assert sorted(r.fallback_of for r in rows if r.channel == "email") == sorted(ids["sms"])
