"""Issue 20: the booking's notices beyond confirmation and change, as the guest receives them
from the real SMTP server: the request taken with how to guarantee it, a guarantee that
expired, a no-show, thanks after check-out."""

import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from hotel_common.contracts.reservations import GuaranteeTerms, ReservationCreated
from hotel_common.testing import (
    MailServer,
    eventually,
    guest_contact,
    reservation_cancelled,
    reservation_checked_out,
    reservation_confirmed,
    reservation_no_show,
)
from hotel_common.time import utcnow

from .conftest import StartService


def created(language: str = "en", **overrides: Any) -> ReservationCreated:
    booking = reservation_confirmed(guest=guest_contact(language))
    fields: dict[str, Any] = {
        "reservation_id": booking.reservation_id,
        "confirmation_number": booking.confirmation_number,
        "property_name": booking.property_name,
        "room_type_code": "DLX",
        "room_type_name": "Deluxe King Room",
        "check_in": booking.check_in,
        "check_out": booking.check_out,
        "guests": 2,
        "total_amount": 128000,
        "currency": "CNY",
        "channel": "direct_web",
        "expires_at": utcnow() + timedelta(hours=2),
        "guest": booking.guest,
        "guarantee": GuaranteeTerms(kind="deposit", amount=38400, due_hours=48),
        "property_timezone": "Asia/Shanghai",
        "aggregate_version": 1,
    }
    return ReservationCreated(**(fields | overrides))


async def mail_to(server: MailServer, address: str, count: int = 1) -> list[EmailMessage]:
    return await eventually(lambda: _to(server, address), lambda ms: len(ms) >= count, 10)


async def _to(server: MailServer, address: str) -> list[EmailMessage]:
    return server.to(address)


def text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_a_request_tells_how_to_guarantee_it_and_until_when_it_holds(
    start_service: StartService, mail_server: MailServer
) -> None:
    event = created("en")
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        [message] = await mail_to(mail_server, event.guest.email)
        notices = await svc.notices(reservation_id=event.reservation_id)
    assert [n["kind"] for n in notices] == ["reservation_created"]
    assert "not yet confirmed" in message["Subject"]
    body = text(message)
    assert "deposit of CNY 384.00 is due within 48 hours of confirmation" in body
    assert "Deluxe King Room" in body and "CNY 1,280.00" in body
    assert "holds until" in body and "Asia/Shanghai" in body


async def test_a_request_without_guarantee_says_none_is_needed_in_chinese(
    start_service: StartService, mail_server: MailServer
) -> None:
    event = created("zh-Hans", guarantee=GuaranteeTerms(kind="none", amount=0, due_hours=24))
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        [message] = await mail_to(mail_server, event.guest.email)
    assert "尚未确认" in message["Subject"]
    assert "无需支付订金或预付款" in text(message)


async def test_a_prepayment_request_in_traditional_chinese(
    start_service: StartService, mail_server: MailServer
) -> None:
    event = created(
        "zh-Hant", guarantee=GuaranteeTerms(kind="prepayment", amount=128000, due_hours=24)
    )
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        [message] = await mail_to(mail_server, event.guest.email)
    assert "預付全額CNY 1,280.00" in text(message)


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
async def test_a_guarantee_that_expired_has_its_own_notice(
    start_service: StartService, mail_server: MailServer, language: str
) -> None:
    booking = reservation_confirmed(guest=guest_contact(language))
    event = reservation_cancelled(
        booking, reason_code="guarantee_expired", cancellation_fee_amount=44400, currency="CNY"
    )
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        [message] = await mail_to(mail_server, booking.guest.email)
        [notice] = await svc.notices(reservation_id=booking.reservation_id)
    assert notice["kind"] == "guarantee_expired"
    expected = "guarantee not received" if language == "en" else "未按时收到担保"
    assert expected in message["Subject"]
    assert "CNY 444.00" in text(message)


async def test_a_guest_cancellation_stays_a_cancellation(
    start_service: StartService, mail_server: MailServer
) -> None:
    booking = reservation_confirmed()
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(reservation_cancelled(booking))
        await mail_to(mail_server, booking.guest.email)
        [notice] = await svc.notices(reservation_id=booking.reservation_id)
    assert notice["kind"] == "reservation_cancelled"


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
async def test_a_no_show_tells_the_fee_charged(
    start_service: StartService, mail_server: MailServer, language: str
) -> None:
    booking = reservation_confirmed(guest=guest_contact(language))
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(reservation_no_show(booking))
        [message] = await mail_to(mail_server, booking.guest.email)
        [notice] = await svc.notices(reservation_id=booking.reservation_id)
    assert notice["kind"] == "reservation_no_show"
    assert "CNY 426.66" in text(message)  # the first of three nights
    assert ("no-show" if language == "en" else "未入住") in message["Subject"]


async def test_check_out_thanks_the_guest_once_even_redelivered(
    start_service: StartService, mail_server: MailServer
) -> None:
    booking = reservation_confirmed(guest=guest_contact("zh-Hans"))
    async with start_service(smtp_url=mail_server.url) as svc:
        envelope = svc.deliver(reservation_checked_out(booking))
        await mail_to(mail_server, booking.guest.email)
        svc.deliver(envelope)  # redelivered
        svc.deliver(created(reservation_id=str(uuid.uuid4())))  # a later event, to wait on
        await eventually(lambda: svc.notices(), lambda ns: len(ns) == 2, 10)
        notices = await svc.notices(reservation_id=booking.reservation_id)
    assert [n["kind"] for n in notices] == ["stay_thanks"]
    [message] = mail_server.to(booking.guest.email)
    assert "感谢您入住" in message["Subject"]
    assert "问卷" in text(message)
