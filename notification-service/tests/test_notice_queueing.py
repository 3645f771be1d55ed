"""How a notice is rendered when it is queued (issue 20, docs/performance.md): the kind's staff
overrides read once for every channel, yet each channel still gets its own template. An email
override does not become the app's copy (the inbox keeps its own template), an inbox override
is what the app shows while the email keeps its own, and the text message kept as the email's
fallback is titled with the email's (overridden) subject."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import MailServer, eventually, principal_headers, scratch_url
from notification_service.models import Notification
from sqlmodel import select

from .conftest import Samples, Service, StartService

API = "/api/v1/notification-templates/reservation_confirmed"
MANAGER = principal_headers(
    Principal(id="staff:t", kind=Kind.STAFF, roles=frozenset({Role.MANAGER}))
)
EMAIL = {
    "subject": "Email override {{ confirmation_number }}",
    "body": "Email words for {{ guest_name }}.\n",
}
INBOX = {
    "subject": "Inbox override {{ confirmation_number }}",
    "body": "App words for {{ guest_name }}.\n",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def svc(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_service: StartService,
    mail_server: MailServer,
) -> AsyncIterator[Service]:
    url = scratch_url(request.param, tmp_path, "notification_queueing")
    try:
        async with start_service(database_url=url, smtp_url=mail_server.url) as service:
            yield service
    finally:
        if request.param == "postgresql":
            await drop_database(url)


async def inbox_of(svc: Service, email: str) -> list[dict[str, Any]]:
    who = Principal(id=f"guest:{email}", kind=Kind.GUEST, email=email)
    response = await svc.client.get("/api/v1/inbox/messages", headers=principal_headers(who))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def stored(svc: Service, reservation_id: str) -> Notification:
    async with svc.app.state.runtime.sessions() as session:
        found = await session.exec(
            select(Notification).where(Notification.reservation_id == reservation_id)
        )
        return found.one()


async def test_each_channel_keeps_its_own_override(
    svc: Service, mail_server: MailServer, samples: Samples
) -> None:
    saved = await svc.client.put(f"{API}/email/en", json=EMAIL, headers=MANAGER)
    assert saved.status_code == 200, saved.text

    first = samples.confirmed("en")
    assert first.guest.phone  # the text message is kept as the email's fallback
    svc.deliver(first)
    await svc.wait_for(first.reservation_id, lambda n: n["status"] == "sent")
    [mail] = mail_server.to(first.guest.email)
    assert mail["Subject"] == f"Email override {first.confirmation_number}"
    [copy] = await eventually(lambda: inbox_of(svc, first.guest.email), lambda m: len(m) == 1)
    assert "override" not in copy["title"] and first.confirmation_number in copy["title"]
    assert "Email words" not in copy["body"]  # the inbox's file, not the email's override
    row = await stored(svc, first.reservation_id)
    [text] = row.fallback or []
    assert text["channel"] == "sms" and text["subject"] == mail["Subject"]
    assert "Email words" not in text["body"]  # the short text's own (file) template

    saved = await svc.client.put(f"{API}/inbox/en", json=INBOX, headers=MANAGER)
    assert saved.status_code == 200, saved.text
    second = samples.confirmed("en")
    svc.deliver(second)
    await svc.wait_for(second.reservation_id, lambda n: n["status"] == "sent")
    [mail] = mail_server.to(second.guest.email)
    assert mail["Subject"] == f"Email override {second.confirmation_number}"
    [copy] = await eventually(lambda: inbox_of(svc, second.guest.email), lambda m: len(m) == 1)
    assert copy["title"] == f"Inbox override {second.confirmation_number}"
    assert copy["body"] == f"App words for {second.guest.name}.\n"


async def test_without_overrides_the_app_keeps_the_emails_text(
    svc: Service, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.confirmed("zh-Hant")
    svc.deliver(event)
    await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")
    [mail] = mail_server.to(event.guest.email)
    [copy] = await eventually(lambda: inbox_of(svc, event.guest.email), lambda m: len(m) == 1)
    assert copy["title"] == mail["Subject"]
    assert copy["body"].strip() == mail.get_body(("plain",)).get_content().strip()
    row = await stored(svc, event.reservation_id)
    [text] = row.fallback or []
    assert text["subject"] == mail["Subject"] and text["language"] == "zh-Hant"
