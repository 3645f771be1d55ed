"""The email channel: where the SMTP server is, how a notice becomes a MIME message, sending."""

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, parseaddr
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from hotel_common.time import utcnow

from notification_service import ics

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """Delivery can never succeed as things stand (bad address, 5xx answer): do not retry."""


class ServerUnavailable(Exception):
    """No SMTP session could be had (unreachable, refused, timed out while connecting, TLS or
    login failed, or the server hung up): it costs the notice no attempt. A hang-up after the
    whole message went out may mean the server took it: the notice is sent again (SMTP is
    at least once; the stable Message-ID lets a receiver drop the copy)."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # smtps://: TLS from the first byte
    start_tls: bool = False  # smtp://...?starttls=true: upgrade after EHLO

    @classmethod
    def parse(cls, url: str) -> "SmtpTarget":
        parts = urlsplit(url)
        shown = redact_url(url)  # an error must never repeat the password
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"smtp_url must look like smtp://host:port, not {shown!r}")
        query = parse_qs(parts.query)
        flag = query.get("starttls", ["false"])[-1].lower()
        if flag not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"smtp_url: starttls must be true or false, not {flag!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"smtp_url has a bad port: {shown!r}") from None
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=tls,
            start_tls=flag in ("true", "1", "yes"),
        )


class _Headers(HeaderRegistry):
    """The standard header factory, building each header name's class once: the standard one
    creates a class for every header it parses (about 50 per message with HTML and ICS parts),
    which was a good part of building a message. The classes, so the headers, are the same."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found


# email.policy.default (what EmailMessage() takes) with that factory: the same MIME.
POLICY = default_policy.clone(header_factory=_Headers())


def build_message(
    *,
    notification_id: str,
    mail_from: str,
    recipient: str,
    subject: str,
    body: str,
    html: str | None = None,
    calendar: dict[str, Any] | None = None,
) -> EmailMessage:
    """The notice as a UTF-8 message; raises PermanentFailure when the recipient is no address.

    Plain text only without `html`; with it, multipart/alternative (text, then HTML: a client
    shows the last part it can). With `calendar`, the whole is wrapped in multipart/mixed with
    the booking's entry attached (text/calendar; method=REQUEST or CANCEL, booking.ics). An
    entry that cannot be built is left out (logged): it never holds the notice back.
    """
    name, sender = parseaddr(mail_from)
    try:
        to = Address(addr_spec=recipient.strip())
    except (ValueError, IndexError) as exc:
        raise PermanentFailure("invalid recipient address") from exc
    if not to.username or not to.domain:
        raise PermanentFailure("invalid recipient address")
    now = utcnow()
    domain = sender.rpartition("@")[2]
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(display_name=name, addr_spec=sender)
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    # Stable across attempts: a receiver can drop the copy a crash-and-retry may produce.
    msg["Message-ID"] = f"<{notification_id}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    msg["X-Notification-Id"] = notification_id
    msg.set_content(body, charset="utf-8")
    if html:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    if calendar:
        entry = _calendar_entry(calendar, domain, sender, name, to.addr_spec, now)
        if entry is not None:
            method, text = entry
            # base64 keeps the entry's CRLF line ends and folding byte for byte.
            msg.add_attachment(
                text.encode("utf-8"),
                maintype="text",
                subtype="calendar",
                filename="booking.ics",
                params={"method": method, "charset": "UTF-8"},
            )
    return msg


def _calendar_entry(
    calendar: dict[str, Any], domain: str, sender: str, name: str, guest: str, now: datetime
) -> tuple[str, str] | None:
    try:
        text = ics.build(
            calendar,
            domain=domain,
            organizer=sender,
            organizer_name=name or None,
            attendee=guest,
            now=now,
        )
    except ics.BadCalendar as exc:
        log.warning("calendar entry left out", extra={"error": str(exc)})
        return None
    return str(calendar["method"]).upper(), text


class Mailer:
    """One SMTP connection for many messages, opened on first use, reopened after a failure.

    Every step is bounded by `timeout`, so a server that accepts and then stalls cannot hold
    the sender longer than the lease on the notices it claimed.
    """

    def __init__(self, target: SmtpTarget, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._smtp: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self._close()

    @property
    def connected(self) -> bool:
        return self._smtp is not None and self._smtp.is_connected

    async def send(self, message: EmailMessage) -> None:
        """Send one message. ServerUnavailable when no session could be had or the server hung
        up (possibly after taking the message: see ServerUnavailable); PermanentFailure when
        the server rejects this message or recipient for good (5xx); any other error is a
        transient failure of this message.

        A connection kept open from earlier sends that turns out closed by the server (idle
        timeout) is not an outage: the message is tried once more on a new connection.
        """
        reused = self.connected
        try:
            await self._send(message)
        except ServerUnavailable:
            if not reused:
                raise
            await self._send(message)

    async def close(self) -> None:
        await self._close()

    async def _send(self, message: EmailMessage) -> None:
        smtp = await self._connection()
        try:
            async with asyncio.timeout(self.timeout):
                await smtp.send_message(message)
        except aiosmtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise ServerUnavailable(describe_error(exc)) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            self._drop()
            if all(r.code >= 500 for r in exc.recipients):
                raise PermanentFailure(describe_error(exc)) from exc
            raise
        except aiosmtplib.SMTPDataError as exc:
            self._drop()
            if exc.code >= 500:
                raise PermanentFailure(describe_error(exc)) from exc
            raise
        except BaseException:
            self._drop()
            raise

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is None or not self._smtp.is_connected:
            t = self.target
            smtp = aiosmtplib.SMTP(
                hostname=t.host,
                port=t.port,
                username=t.username,
                password=t.password,
                use_tls=t.use_tls,
                start_tls=t.start_tls,
                timeout=self.timeout,
            )
            try:
                async with asyncio.timeout(self.timeout):
                    await smtp.connect()  # connect, EHLO, STARTTLS, AUTH
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                smtp.close()
                raise ServerUnavailable(describe_error(exc)) from exc
            self._smtp = smtp
        return self._smtp

    async def _close(self) -> None:
        smtp = self._smtp
        try:
            if smtp is not None and smtp.is_connected:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self.timeout):
                        await smtp.quit()
        finally:  # cancelled mid-QUIT (a stop): the socket is closed all the same
            self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


_ADDRESS = re.compile(r"[^\s<>\"':;,]+@([A-Za-z0-9.-]+)")


def mask_addresses(text: str) -> str:
    """`guest@example.com` -> `***@example.com`: the reply stays readable, the guest unnamed."""
    return _ADDRESS.sub(r"***@\1", text)


def redact_url(url: str) -> str:
    """The URL with its password replaced, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{netloc[2]}").geturl()


def describe_error(exc: BaseException) -> str:
    """A short, human line for last_error: the server's answer where there is one, with
    addresses masked (it is shown by the API and logged)."""
    if isinstance(exc, PermanentFailure | ServerUnavailable):
        text = str(exc)
    elif isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{type(exc).__name__}: {exc.code} {exc.message}"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return mask_addresses(text)[:1000]
