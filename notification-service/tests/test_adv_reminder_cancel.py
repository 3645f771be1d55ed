"""Adversarial (issue 20): a reminder fired just before its booking's cancellation, still
waiting to be sent when the cancellation is queued (the sender was busy, or retrying), must
not reach the guest after the cancellation notice. The sender is held idle, then run one pass
at a time: no timing."""

import pytest
from hotel_common.testing import (
    MailServer,
    eventually,
    reservation_cancelled,
    reservation_confirmed,
)
from notification_service.delivery import Delivery, delivery_of

from .conftest import StartService
from .test_reminders import ARRIVAL_DUE, firing, scheduled


async def idle(self: Delivery) -> int:
    return 0


@pytest.mark.parametrize("key", ["arrival"])
async def test_a_reminder_still_waiting_when_the_booking_is_cancelled_is_never_sent(
    start_service: StartService,
    mail_server: MailServer,
    monkeypatch: pytest.MonkeyPatch,
    key: str,
) -> None:
    booking = reservation_confirmed(aggregate_version=2)
    deliver_due = Delivery.deliver_due
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(booking)
        await eventually(lambda: svc.notices(status="sent"), lambda ns: len(ns) == 1, 10)
        await scheduled(svc, f"{key}:{booking.reservation_id}", lambda r: True)
        monkeypatch.setattr(Delivery, "deliver_due", idle)
        assert await firing(svc).fire_due(ARRIVAL_DUE) == 1  # queued, not sent yet
        svc.deliver(reservation_cancelled(booking, aggregate_version=4))
        await eventually(
            lambda: svc.notices(kind="reservation_cancelled"), lambda ns: len(ns) == 1, 10
        )
        sender = delivery_of(svc.app.state.runtime)
        while await deliver_due(sender):
            pass
        [reminder] = await svc.notices(kind="arrival_reminder")

    subjects = [m["Subject"] for m in mail_server.to(booking.guest.email)]
    assert len(subjects) == 2  # the confirmation, then the cancellation; no reminder
    assert (reminder["status"], reminder["reason"]) == ("suppressed", "superseded")
