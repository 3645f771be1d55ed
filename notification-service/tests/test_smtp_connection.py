"""The sender keeps its SMTP connection open between passes, survives the server closing it,
and closes it once idle."""

from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from hotel_common.testing import MailServer, eventually
from notification_service.mailer import Mailer, ServerUnavailable, SmtpTarget, build_message

from .conftest import Samples, StartService


class CountingServer(MailServer):
    """Notes the client port each message came from: one port, one connection."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


async def test_notices_of_separate_passes_share_one_connection(
    start_service: StartService, samples: Samples
) -> None:
    server = CountingServer()
    await server.start()
    try:
        async with start_service(smtp_url=server.url) as svc:
            for _ in range(3):  # one after the other: each its own delivery pass
                event = svc.deliver(samples.confirmed("en"))
                await svc.wait_for(event.payload["reservation_id"], lambda n: n["status"] == "sent")
    finally:
        await server.stop()
    assert len(server.peers) == 3
    assert len(set(server.peers)) == 1


async def test_a_kept_connection_the_server_dropped_costs_no_backoff(
    start_service: StartService, samples: Samples
) -> None:
    server = CountingServer()
    await server.start()
    port = server.port
    try:
        # A long backoff: a dropped kept connection taken for an outage would hold the notice.
        async with start_service(smtp_url=server.url, delivery_backoff_seconds=[60.0]) as svc:
            first = svc.deliver(samples.confirmed("en"))
            await svc.wait_for(first.payload["reservation_id"], lambda n: n["status"] == "sent")
            await server.stop()  # hangs up on the kept connection
            server = CountingServer()
            server.port = port
            await server.start()
            second = svc.deliver(samples.confirmed("en"))
            notice = await svc.wait_for(
                second.payload["reservation_id"], lambda n: n["status"] == "sent", timeout=5
            )
    finally:
        await server.stop()
    assert notice["attempts"] == 1
    assert len(server.peers) == 1


async def test_an_idle_connection_is_closed(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    async with start_service(smtp_url=mail_server.url, smtp_keep_open_seconds=0.2) as svc:
        delivery = svc.app.state.runtime.extras["delivery"]
        event = svc.deliver(samples.confirmed("en"))
        await svc.wait_for(event.payload["reservation_id"], lambda n: n["status"] == "sent")
        await eventually(lambda: delivery._mailer, lambda m: m is None, timeout=3)


async def test_a_send_on_a_kept_connection_found_dead_is_tried_once_on_a_new_one() -> None:
    server = CountingServer()
    await server.start()
    mailer = Mailer(SmtpTarget.parse(server.url), timeout=2.0)

    def message(n: int) -> EmailMessage:
        return build_message(
            notification_id=f"n-{n}",
            mail_from="Hotel <no-reply@hotel.example>",
            recipient="guest@example.com",
            subject="s",
            body="b",
        )

    try:
        await mailer.send(message(1))
        kept = mailer._smtp
        assert kept is not None

        async def dead(*_: Any, **__: Any) -> None:  # the server closed it; we learn on use
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")

        kept.send_message = dead
        await mailer.send(message(2))
        assert mailer._smtp is not kept
        # A new connection that fails is the server's outage, not retried again here.
        await server.stop()
        mailer._smtp.send_message = dead
        with pytest.raises(ServerUnavailable):
            await mailer.send(message(3))
    finally:
        await mailer.close()
        await server.stop()
    assert len(server.peers) == 2 and len(set(server.peers)) == 2
