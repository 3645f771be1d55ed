"""Logs carry ids, never names, emails, phones or secrets: the whole journey on both run modes,
with a handler failing on bad guest data, a mail server that refuses once and turns the first
login away, and an SMTP password in the URL - every record of every logger, rendered through
the project's formatter, holds none of them."""

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from harness import Platform
from hotel_common.events.envelope import Envelope
from hotel_common.logging import JsonFormatter, PlainFormatter
from hotel_common.testing import MailServer, eventually, guest_contact, reservation_confirmed
from notification_service.config import Settings as NotificationSettings
from pydantic import ValidationError
from test_journey import booking

PASSWORD = "Tr0ub4dor-" + uuid.uuid4().hex[:10]
NAME = "Zerlina Quaddington"
PHONE = "+44 20 7946 0321"


class GuardedMailServer(MailServer):
    """Asks for a login (over plain SMTP, loopback only), turns the first one away as a bad
    password would, and answers the first recipient with 451 (try later)."""

    def __init__(self) -> None:
        super().__init__()
        self.logins = 0
        self.recipients = 0
        self._first_session: Any = None

    @property
    def url(self) -> str:
        return f"smtp://hotel:{PASSWORD}@127.0.0.1:{self.port}"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult

        self.logins += 1
        if self._first_session is None:
            self._first_session = session
        # Every mechanism tried on the first connection is refused, as for a wrong password.
        good = auth_data.password.decode() == PASSWORD and session is not self._first_session
        return AuthResult(success=good, handled=False)  # handled=False: answer 535

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self.recipients += 1
        if self.recipients == 1:
            return "451 4.3.0 Mailbox busy, try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    def controller_options(self) -> dict[str, Any]:
        return {"authenticator": self.authenticate, "auth_require_tls": False}


@pytest.fixture
async def mailbox() -> AsyncIterator[MailServer]:
    """Replaces tests/conftest.py's mailbox for this module: the platform mails through it."""
    box = await GuardedMailServer().start()
    yield box
    await box.stop()


class Capture(logging.Handler):
    """Every record, rendered as JSON and as a plain line by the project's formatters."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.json, self.plain = JsonFormatter("test"), PlainFormatter()
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("mail.log"):
            return  # aiosmtpd: the test's mail server, standing in for the hotel's provider
        self.records.append(record)
        self.lines.append(self.json.format(record))
        self.lines.append(self.plain.format(record))


@pytest.fixture
def capture() -> Iterator[Capture]:
    root = logging.getLogger()
    handler, level = Capture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_the_journey_logs_no_personal_data_nor_the_smtp_password(
    platform: Platform, mailbox: MailServer, capture: Capture
) -> None:
    client = platform.client
    logging.getLogger().setLevel(logging.DEBUG)  # the services set INFO when they start
    email = f"zerlina.q.{platform.mode}.{uuid.uuid4().hex[:6]}@example.org"
    guest = {"name": NAME, "email": email, "phone": PHONE, "language": "en"}
    body = booking(email, language="en", guest=guest)

    created = await client.post("/api/v1/reservations", json=body)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert (await client.post(f"/api/v1/reservations/{rid}/confirm")).status_code == 200
    # Confirmation and pickup, after a refused login and a 451 for the first recipient.
    await eventually(lambda: mailbox.to(email), lambda m: len(m) == 2, timeout=30)
    found = await client.get("/api/v1/guests", params={"email": email})
    assert found.status_code == 200 and len(found.json()["items"]) == 1
    cancelled = await client.post(f"/api/v1/reservations/{rid}/cancel", json={"reason": "plans"})
    assert cancelled.status_code == 200, cancelled.text
    await eventually(lambda: mailbox.to(email), lambda m: len(m) == 3, timeout=30)
    assert isinstance(mailbox, GuardedMailServer) and mailbox.logins >= 3

    # An event whose guest data every consumer refuses: the failures are logged, retried.
    event = reservation_confirmed(
        check_in=date.today() + timedelta(days=30),
        check_out=date.today() + timedelta(days=31),
        guest=guest_contact(name=NAME, email=email, phone=PHONE),
    )
    envelope = Envelope.wrap(event, "reservation-service")
    bad_guest = f"{NAME} <{email}> {PHONE}"  # a string where an object belongs
    await platform.publish(
        envelope.model_copy(update={"payload": envelope.payload | {"guest": bad_guest}})
    )

    def refused(records: list[logging.LogRecord]) -> bool:
        # The bus logs a handler failure by event id and error type (no traceback: a
        # validation error's text holds the guest's data); wait until one is logged.
        return any(
            r.name.startswith("hotel_common.events") and r.levelno >= logging.WARNING
            for r in records
        )

    await eventually(lambda: list(capture.records), refused, timeout=30)

    # A mistyped SMTP URL, as a start-up would report it.
    with pytest.raises(ValidationError) as bad_url:
        NotificationSettings(smtp_url=f"smtp://hotel:{PASSWORD}@mail.example:99999")
    assert PASSWORD not in str(bad_url.value)  # as printed if start-up dies of it
    logging.getLogger("test.startup").error("bad settings", exc_info=bad_url.value)

    # The notices' last_error keeps the server's reply, without the address.
    notices = (await client.get("/api/v1/notifications", params={"reservation_id": rid})).json()
    errors = [n["last_error"] for n in notices["items"] if n["last_error"]]
    assert errors and all(email not in e for e in errors)

    lines = list(capture.lines)
    assert len(lines) > 20
    for secret in (NAME, email, PHONE, PASSWORD, email.split("@")[0]):
        leaks = [line for line in lines if secret in line]
        assert not leaks, f"{secret!r} logged: {leaks[:3]}"
