"""Sign-in codes the gateway asks for (SignInCodeRequested): sent by email through the mail
server, or by text message through the SMS gateway (a real local HTTP server here); kept as
`logged` when the channel has no server; never sent once expired. The code is never readable
through the API (not listed, not shown, not retried, admin included) and no stored copy of it
outlives its sending."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from hotel_common.testing import MailServer, eventually, serving
from hotel_common.time import utcnow
from notification_service.models import Notification
from sqlmodel import select

from .conftest import Samples, Service, StartService

CODE = "418302"
PHONE = "+8613900139000"


@dataclass
class SmsGateway:
    """A local SMS gateway: records what it is sent; answers `status` (202 unless told)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    status: int = 202


@pytest.fixture
async def sms_gateway() -> AsyncIterator[SmsGateway]:
    gateway = SmsGateway()
    app = FastAPI()

    @app.post("/v1/messages")
    async def receive(request: Request) -> JSONResponse:
        gateway.authorizations.append(request.headers.get("authorization"))
        if gateway.status < 300:
            gateway.received.append(await request.json())
        return JSONResponse({"accepted": gateway.status < 300}, status_code=gateway.status)

    async with serving(app, lifespan="off") as base:
        gateway.url = f"{base}/v1/messages"
        yield gateway


async def rows(svc: Service) -> list[Notification]:
    """The stored sign-in notices (read from the database: the API never shows them)."""
    async with svc.app.state.runtime.sessions() as session:
        found = await session.exec(select(Notification).where(Notification.kind == "sign_in_code"))
        return list(found.all())


async def settled(svc: Service, status: str, reason: str | None = None) -> Notification:
    (row,) = await eventually(
        lambda: rows(svc),
        lambda r: len(r) == 1 and r[0].status == status and reason in (None, r[0].reason),
    )
    return row


async def assert_never_readable(svc: Service, row: Notification) -> None:
    """Not listed (whatever the filters), not shown, not retried: not even to the admin."""
    client = svc.client
    assert (await client.get("/api/v1/notifications")).json()["items"] == []
    for params in ({"kind": "sign_in_code"}, {"status": row.status}, {"email": row.email}):
        listed = await client.get("/api/v1/notifications", params=params)
        assert CODE not in listed.text and row.id not in listed.text, params
    shown = await client.get(f"/api/v1/notifications/{row.id}")
    assert shown.status_code == 404 and CODE not in shown.text
    retried = await client.post(f"/api/v1/notifications/{row.id}/retry")
    assert retried.status_code == 404
    assert (await client.post("/api/v1/notifications/retry", json={})).json() == {"requeued": 0}
    # No stored copy: the body has the slot, the code column is emptied.
    assert row.secret is None
    assert CODE not in row.body and CODE not in row.subject and "{code}" in row.body


async def test_a_code_asked_for_by_email_is_mailed(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(samples.sign_in("zh-Hans", email="lin.mei@example.com"))
        row = await settled(svc, "sent")
        await assert_never_readable(svc, row)

    [message] = mail_server.messages
    assert message["To"].addresses[0].addr_spec == "lin.mei@example.com"
    assert CODE in message["Subject"] and "登录验证码" in message["Subject"]
    # The text part and the HTML beside it both carry the code.
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"验证码是 {CODE}" in text and "10 分钟" in text
    assert CODE in html and "{code}" not in html
    assert row.channel == "email" and row.attempts == 1


async def test_a_code_asked_for_by_phone_goes_through_the_sms_gateway(
    start_service: StartService, sms_gateway: SmsGateway, samples: Samples
) -> None:
    async with start_service(sms_gateway_url=sms_gateway.url, sms_gateway_token="tok-1") as svc:
        svc.deliver(samples.sign_in("en", email=None, phone=PHONE))
        row = await settled(svc, "sent")
        await assert_never_readable(svc, row)

    [sms] = sms_gateway.received
    assert sms["to"] == PHONE and set(sms) == {"id", "to", "text"} and sms["id"] == row.id
    # The short text (issue 20: SMS and push use `<kind>.short.txt`).
    assert f"your sign-in code is {CODE}, valid for 10 minutes" in sms["text"]
    assert sms_gateway.authorizations == ["Bearer tok-1"]
    assert row.channel == "sms" and row.phone == PHONE and row.email == ""


async def test_without_a_server_the_code_is_logged_not_sent(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:  # neither smtp_url nor sms_gateway_url
        svc.deliver(samples.sign_in(email=None, phone=PHONE))
        svc.deliver(samples.sign_in(email="lin.mei@example.com"))
        found = await eventually(
            lambda: rows(svc), lambda r: len(r) == 2 and {n.status for n in r} == {"logged"}
        )
    assert {n.channel for n in found} == {"sms", "email"}
    assert all(n.secret is None and CODE not in n.body for n in found)


async def test_an_expired_code_is_not_sent(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    late = samples.sign_in(expires_at=utcnow() - timedelta(seconds=1))
    fresh = samples.sign_in(email="fresh@example.com")
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(late)
        svc.deliver(fresh)
        await settled(svc, "sent")
    assert [m["To"].addresses[0].addr_spec for m in mail_server.messages] == ["fresh@example.com"]


async def test_a_code_the_gateway_cannot_take_before_it_expires_is_never_sent(
    start_service: StartService, sms_gateway: SmsGateway, samples: Samples
) -> None:
    sms_gateway.status = 503  # the gateway is down: tried again and again, no attempt spent
    async with start_service(sms_gateway_url=sms_gateway.url) as svc:
        # Made once the service is up: its start-up (migrations) does not eat the second.
        event = samples.sign_in(email=None, phone=PHONE, expires_at=utcnow() + timedelta(seconds=1))
        svc.deliver(event)
        row = await settled(svc, "suppressed", "expired")
        sms_gateway.status = 202  # back up: the expired code stays unsent
        await svc.app.state.runtime.extras["delivery"].deliver_due()
        await assert_never_readable(svc, row)
    assert len(sms_gateway.authorizations) >= 1 and sms_gateway.received == []
    assert row.attempts == 0 and row.last_error == "provider sms-gateway answered 503"


async def test_a_number_the_gateway_refuses_fails_for_good(
    start_service: StartService, sms_gateway: SmsGateway, samples: Samples
) -> None:
    sms_gateway.status = 400
    async with start_service(sms_gateway_url=sms_gateway.url) as svc:
        svc.deliver(samples.sign_in(email=None, phone=PHONE))
        row = await settled(svc, "failed")
        await assert_never_readable(svc, row)
    assert row.attempts == 1 and row.last_error == "provider sms-gateway answered 400"
    assert PHONE not in (row.last_error or "")


def test_the_sms_gateway_url_must_be_http() -> None:
    from notification_service.config import Settings

    with pytest.raises(ValueError, match="sms_gateway_url"):
        Settings(sms_gateway_url="ftp://sms.example")
