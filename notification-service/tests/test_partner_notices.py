"""Issue 21: what partners learn from notification-service.

- `notice.status_changed` for a notice about a booking a partner made that reaches sent,
  delivered, failed or suppressed: through the outbox, once per status reached (a retried send
  is one `sent`, a repeated receipt one `delivered`), never with the recipient's address; the
  booking's later notices (a cancellation, a pickup) too, though their events name no
  partner; nothing for a direct booking's notices or a sign-in code.
- `partner.webhook_disabled`: one email to the subscription's contact naming the
  subscription and how to turn it back on; nothing without a contact; a redelivered event
  sends nothing more; not a guest's notice (no inbox copy, no guest sees it).
"""

import json
from datetime import timedelta
from typing import Any

from hotel_common.contracts.partners import WebhookSubscriptionDisabled
from hotel_common.events.outbox import OutboxMessage
from hotel_common.testing import HttpProviderStub, MailServer, eventually
from hotel_common.time import utcnow
from notification_service.bad_addresses import BadAddress
from notification_service.inbox import InboxMessage
from notification_service.models import Notification
from notification_service.preferences import contact_hash
from sqlmodel import col, select

from .channels import booking_of_lin, provider, receipt, stored, texting_guest
from .conftest import Samples, Service, StartService

STATUS_CHANGED = "notice.status_changed"
PARTNER = "ota-blue"  # the partner whose key made the bookings below (a direct one has none)


class BusyMailServer(MailServer):
    """Answers 451 (try later) to the first `busy` tries of every recipient."""

    def __init__(self, busy: int) -> None:
        super().__init__()
        self.busy = busy
        self.tries = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self.tries += 1
        if self.tries <= self.busy:
            return "451 4.3.0 Mailbox busy, try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


async def published(svc: Service, event_type: str = STATUS_CHANGED) -> list[dict[str, Any]]:
    """The envelopes of `event_type` the service put in its outbox, in order."""
    async with svc.app.state.runtime.sessions() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.type == event_type)
            .order_by(col(OutboxMessage.seq))
        )
        return [dict(row.envelope) for row in rows.all()]


def statuses_of(envelopes: list[dict[str, Any]], reservation_id: str) -> list[tuple[str, str]]:
    return [
        (e["payload"]["channel"], e["payload"]["status"])
        for e in envelopes
        if e["payload"]["reservation_id"] == reservation_id
    ]


async def test_a_booking_notice_retried_to_sent_is_one_sent_event_without_the_address(
    start_service: StartService, samples: Samples
) -> None:
    server = await BusyMailServer(busy=2).start()
    booking = samples.confirmed("en", partner_id=PARTNER)
    try:
        async with start_service(smtp_url=server.url) as svc:
            envelope = svc.deliver(booking)
            notice = await svc.wait_for(booking.reservation_id, lambda n: n["status"] == "sent")
            svc.deliver(envelope)  # redelivered: nothing new
            events = await eventually(
                lambda: published(svc), lambda found: len(found) >= 1, timeout=5
            )
    finally:
        await server.stop()

    assert notice["attempts"] == 3  # two busy answers, then accepted
    assert statuses_of(events, booking.reservation_id) == [("email", "sent")]
    [event] = events
    assert event["aggregate_type"] == "reservation"
    assert event["aggregate_id"] == booking.reservation_id
    assert event["aggregate_version"] is None  # a notice is no version of the booking
    assert event["payload"]["notice_id"] == notice["id"]
    assert event["payload"]["kind"] == "reservation_confirmed"
    text = json.dumps(event)
    assert booking.guest.email not in text and (booking.guest.phone or "") not in text


async def test_a_permanent_failure_is_one_failed_event_and_its_fallback_its_own(
    start_service: StartService, samples: Samples
) -> None:
    server = await MailServer().start()
    booking = samples.confirmed("en", partner_id=PARTNER)
    server.reject.add(booking.guest.email)
    try:
        async with start_service(smtp_url=server.url) as svc:
            svc.deliver(booking)
            # The mail failed for good; the notice falls back to the phone (no provider here:
            # `logged`, which is not a status partners are told of).
            rows = await eventually(
                lambda: stored(svc, booking.reservation_id),
                lambda rs: len(rs) == 2 and rs[1].status == "logged",
            )
            events = await published(svc)
    finally:
        await server.stop()

    assert statuses_of(events, booking.reservation_id) == [("email", "failed")]
    [event] = events
    assert event["payload"]["notice_id"] == rows[0].id
    assert event["payload"]["reason"] == "permanent"
    assert booking.guest.email not in json.dumps(event)


async def test_a_text_delivered_then_receipted_again_is_one_sent_and_one_delivered(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a") as sms,
        start_service(sms_providers=[provider(sms)]) as svc,
    ):
        svc.deliver(texting_guest(samples))
        booking = booking_of_lin(samples, partner_id=PARTNER)
        svc.deliver(booking)
        [row] = await eventually(
            lambda: stored(svc, booking.reservation_id),
            lambda rows: len(rows) == 1 and rows[0].status == "sent",
        )
        for _ in range(2):  # the provider retries its webhook
            answer = await receipt(svc, "sms-a", {"id": row.id, "status": "delivered"})
            assert answer.status_code == 200
        events = await published(svc)

    assert statuses_of(events, booking.reservation_id) == [("sms", "sent"), ("sms", "delivered")]
    text = json.dumps(events)
    assert samples.PHONE not in text and samples.EMAIL not in text


async def test_a_notice_suppressed_when_queued_is_one_suppressed_event(
    start_service: StartService, samples: Samples
) -> None:
    guest = samples.guest("en").model_copy(update={"phone": None})
    booking = samples.confirmed("en", guest=guest, partner_id=PARTNER)
    async with start_service() as svc:
        async with svc.app.state.runtime.sessions() as session:
            session.add(
                BadAddress(
                    contact_hash=contact_hash("email", guest.email), channel="email", reason="550"
                )
            )
            await session.commit()
        svc.deliver(booking)
        await eventually(lambda: svc.notices(reservation_id=booking.reservation_id), bool)
        events = await eventually(lambda: published(svc), bool)

    assert [e["payload"]["status"] for e in events] == ["suppressed"]
    assert events[0]["payload"]["reason"] == "no_channel"


async def test_a_confirmation_superseded_by_the_cancellation_is_one_suppressed_event(
    start_service: StartService, samples: Samples
) -> None:
    server = MailServer()  # down until started: both notices wait
    booking = samples.confirmed("en", partner_id=PARTNER)
    try:
        async with start_service(smtp_url=server.url) as svc:
            svc.deliver(booking)
            await svc.wait_for(booking.reservation_id, lambda n: n["status"] == "queued")
            svc.deliver(samples.cancelled("en", reservation_id=booking.reservation_id))
            await eventually(
                lambda: svc.notices(reservation_id=booking.reservation_id),
                lambda ns: any(n["status"] == "suppressed" for n in ns),
            )
            await server.start()
            await eventually(
                lambda: svc.notices(reservation_id=booking.reservation_id, status="sent"), bool
            )
            events = await eventually(lambda: published(svc), lambda found: len(found) == 2)
    finally:
        await server.stop()

    told = {(e["payload"]["kind"], e["payload"]["status"]) for e in events}
    assert told == {
        ("reservation_confirmed", "suppressed"),
        ("reservation_cancelled", "sent"),
    }


async def test_a_direct_bookings_notices_publish_nothing(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    booking = samples.confirmed("en")  # no partner: made by the guest or the front desk
    cancelled = samples.cancelled("en", reservation_id=booking.reservation_id)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(booking)
        await svc.wait_for(booking.reservation_id, lambda n: n["status"] == "sent")
        svc.deliver(cancelled)
        await eventually(
            lambda: svc.notices(reservation_id=booking.reservation_id, status="sent"),
            lambda ns: len(ns) == 2,
        )
        rows = await stored(svc, booking.reservation_id)
        events = await published(svc)

    assert [r.partner_id for r in rows] == [None, None]
    assert events == []


async def test_a_partner_bookings_pickup_notice_publishes_though_its_event_names_no_partner(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    booking = samples.confirmed("en", partner_id=PARTNER)
    pickup = samples.assigned("en", reservation_id=booking.reservation_id, guest=booking.guest)
    assert "partner_id" not in type(pickup).model_fields
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(booking)
        await svc.wait_for(booking.reservation_id, lambda n: n["status"] == "sent")
        svc.deliver(pickup)
        await eventually(
            lambda: svc.notices(reservation_id=booking.reservation_id, status="sent"),
            lambda ns: len(ns) == 2,
        )
        rows = await stored(svc, booking.reservation_id)
        events = await eventually(lambda: published(svc), lambda found: len(found) == 2)

    assert {r.kind: r.partner_id for r in rows} == {
        "reservation_confirmed": PARTNER,
        "transfer_assigned": PARTNER,
    }
    told = [(e["payload"]["kind"], e["payload"]["status"]) for e in events]
    assert told == [("reservation_confirmed", "sent"), ("transfer_assigned", "sent")]
    assert all(e["aggregate_id"] == booking.reservation_id for e in events)
    assert booking.guest.email not in json.dumps(events)


async def test_a_sign_in_code_publishes_nothing(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(samples.sign_in("en"))
        await eventually(lambda: mail_server.messages, bool)
        events = await published(svc)

    assert events == []


def disabled(**overrides: Any) -> WebhookSubscriptionDisabled:
    now = utcnow()
    fields: dict[str, Any] = {
        "subscription_id": "7f3c2a1e-5b6d-4c8e-9f0a-1b2c3d4e5f60",
        "partner_id": "ota-blue",
        "url": "https://hooks.ota-blue.example/hotel",
        "contact_email": "integrations@ota-blue.example",
        "failing_since": now - timedelta(days=1, minutes=3),
        "disabled_at": now,
        "last_error": "HTTP 503 from the endpoint",
    }
    return WebhookSubscriptionDisabled(**(fields | overrides))


async def test_a_disabled_webhook_emails_its_contact_once_with_how_to_reenable(
    start_service: StartService, mail_server: MailServer
) -> None:
    event = disabled()
    async with start_service(smtp_url=mail_server.url) as svc:
        envelope = svc.deliver(event)
        [notice] = await eventually(
            lambda: svc.notices(kind="partner_webhook_disabled", status="sent"),
            lambda ns: len(ns) == 1,
        )
        svc.deliver(envelope)  # redelivered by the bus
        svc.deliver(disabled(contact_email=None, subscription_id="another"))  # no contact
        await eventually(lambda: mail_server.messages, bool)
        async with svc.app.state.runtime.sessions() as session:
            rows = (
                await session.exec(
                    select(Notification).where(Notification.kind == "partner_webhook_disabled")
                )
            ).all()
            kept = (await session.exec(select(InboxMessage))).all()
        events = await published(svc)

    assert [m["To"].addresses[0].addr_spec for m in mail_server.messages] == [
        "integrations@ota-blue.example"
    ]
    [mail] = mail_server.messages
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert event.url in str(mail["Subject"]) and event.url in text
    assert event.subscription_id in text
    assert "HTTP 503 from the endpoint" in text
    assert f"PATCH /api/v1/webhook-subscriptions/{event.subscription_id}" in text
    assert '{"status": "active"}' in text
    assert len(rows) == 1 and rows[0].id == notice["id"]
    assert notice["reservation_id"] is None and rows[0].guest_id is None
    # Not a guest's notice: no inbox copy, no notice.status_changed.
    assert kept == []
    assert events == []
