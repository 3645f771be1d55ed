"""Adversarial (issue 20): a consumer that fails after the notice was queued, before its
transaction commits (here: the inbox copy raises once), leaves nothing behind; the redelivered
event queues the notice once and the guest gets one mail."""

from typing import Any

import pytest
from hotel_common.testing import MailServer, eventually
from notification_service import inbox

from .conftest import Samples, StartService


async def test_a_consumer_failing_after_queueing_sends_nothing_twice_on_redelivery(
    start_service: StartService,
    mail_server: MailServer,
    samples: Samples,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keep = inbox.keep
    failures: list[str] = []

    async def keep_fails_once(session: Any, notification: Any, *rest: Any) -> None:
        await keep(session, notification, *rest)  # the notice and its copy are in the session
        if not failures:
            failures.append(notification.id)
            raise RuntimeError("consumer killed before its commit")

    monkeypatch.setattr(inbox, "keep", keep_fails_once)
    booking = samples.confirmed("en")
    async with start_service(smtp_url=mail_server.url) as svc:
        envelope = svc.deliver(booking)
        await svc.wait_for(booking.reservation_id, lambda n: n["status"] == "sent")
        await eventually(lambda: len(mail_server.messages) >= 1)
        svc.deliver(envelope)  # and once more, redelivered by the broker
        await eventually(lambda: svc.notices(status="sent"), lambda ns: len(ns) == 1)
        notices = await svc.notices()

    assert len(failures) == 1
    assert [n["id"] for n in notices] != failures  # the first attempt's row was rolled back
    assert len(notices) == 1
    assert len(mail_server.to(booking.guest.email)) == 1
