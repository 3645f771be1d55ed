"""Settings of notification-service: the shared ones plus the mail channel and its retries."""

from email.utils import parseaddr
from urllib.parse import urlsplit

from hotel_common.settings import ServiceSettings
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from notification_service.mailer import SmtpTarget
from notification_service.providers import ProviderSettings

HTTP = ("http", "https")


class Settings(ServiceSettings):
    # A refused setting must not be echoed: smtp_url may hold the server's password.
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    service_name: str = "notification-service"
    # smtp://[user:password@]host[:port][?starttls=true] or smtps://... (TLS from the start).
    # Empty: no mail server (embedded mode); notices are kept in the delivery log as `logged`.
    smtp_url: str = ""
    mail_from: str = "Harbour View Hotel <no-reply@harbourview.example>"
    # Upper bound for connecting to the server and for sending one message.
    smtp_timeout: float = 10.0
    # The sender keeps its SMTP connection open this long after its last send (servers close
    # idle sessions after minutes; RFC 5321 suggests 5), so mail under load skips the handshake.
    smtp_keep_open_seconds: float = Field(default=30.0, ge=0)
    # The SMS gateway text messages (sign-in codes asked for by phone) go through: its URL
    # takes POST {"to": E.164, "text": ...} with `Authorization: Bearer <sms_gateway_token>`.
    # Empty: no gateway; text messages are kept in the delivery log as `logged`, like mail
    # without a server.
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_timeout: float = 10.0  # seconds, for one request to the gateway (or a provider)
    # Issue 20: the HTTP providers of text messages and of push (providers.py), in order: the
    # first is the primary, the next its fallback. JSON in the environment:
    # [{"name": "sms-a", "url": "https://...", "token": "...", "receipt_secret": "..."}].
    # No SMS provider: the old sms_gateway_url (if set) is one, named "sms-gateway".
    # None for a channel: its notices are kept in the delivery log as `logged`.
    sms_providers: list[ProviderSettings] = Field(default_factory=list)
    push_providers: list[ProviderSettings] = Field(default_factory=list)
    # A notice on sms or push not delivered (receipt) this long after it was queued goes out
    # on the next channel the guest may be reached on; urgent ones sooner.
    delivery_deadline_seconds: float = Field(default=3600.0, gt=0)
    urgent_delivery_deadline_seconds: float = Field(default=120.0, gt=0)
    # Delay before each new delivery attempt of a notice, and before each new try to reach a
    # server that was down; the last one is the cap and repeats.
    # (Not `retry_delays`: that one paces the bus's handler retries.)
    delivery_backoff_seconds: list[float] = Field(default_factory=lambda: [5.0, 30.0, 120.0, 600.0])
    # A notice not delivered this long after it was created (or retried through the API) is
    # given up as failed. Age, not a count: an outage of the server costs no attempts.
    delivery_give_up_after_seconds: float = 86400.0
    # Safety-net polling; a commit that queues a notice wakes the sender at once.
    delivery_poll_seconds: float = 5.0
    delivery_batch_size: int = 20
    # Issue 20: how often the staff digest worker runs (a subscribed staff member gets at most
    # one digest per period, listing the alerts raised since their last one).
    staff_digest_seconds: float = 60.0
    # Issue 20: a pickup assigned, moved or given another car this close to its time (hours
    # from now) is urgent: it goes at once, whatever the guest's quiet hours, with the short
    # delivery deadline.
    urgent_pickup_within_hours: float = Field(default=6.0, gt=0, le=72)
    # Issue 20: reminders scheduled from the booking (reminders.py), local times at the property.
    arrival_reminder_local_time: str = "10:00"  # the day before check-in
    departure_reminder_local_time: str = "08:00"  # the morning of check-out
    guarantee_reminder_hours_before: float = Field(default=12.0, gt=0)  # before its due_at
    survey_follow_up_days: float = Field(default=5.0, gt=0)  # after the invitation
    reminder_poll_seconds: float = Field(default=30.0, gt=0)
    reminder_batch_size: int = Field(default=50, ge=1)

    @model_validator(mode="after")
    def _sane_delivery(self) -> "Settings":
        if self.smtp_url:
            SmtpTarget.parse(self.smtp_url)  # fail at start-up, not at the first notice
        if self.sms_gateway_url and urlsplit(self.sms_gateway_url).scheme not in HTTP:
            raise ValueError("sms_gateway_url must be an http:// or https:// URL")
        providers = self.sms_providers + self.push_providers
        for provider in providers:
            if urlsplit(provider.url).scheme not in HTTP:
                raise ValueError(f"provider {provider.name}: url must be http:// or https://")
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise ValueError("sms_providers and push_providers need distinct names")
        if self.sms_timeout <= 0:
            raise ValueError("sms_timeout must be positive")
        if "@" not in parseaddr(self.mail_from)[1]:
            raise ValueError("mail_from needs an address, e.g. 'Hotel <no-reply@hotel.example>'")
        if not self.delivery_backoff_seconds or any(d < 0 for d in self.delivery_backoff_seconds):
            raise ValueError("delivery_backoff_seconds needs at least one non-negative delay")
        if self.staff_digest_seconds <= 0:
            raise ValueError("staff_digest_seconds must be positive")
        if self.delivery_batch_size < 1:
            raise ValueError("delivery_batch_size must be at least 1")
        if self.delivery_give_up_after_seconds <= 0:
            raise ValueError("delivery_give_up_after_seconds must be positive")
        if self.smtp_timeout <= 0 or self.delivery_poll_seconds <= 0:
            raise ValueError("smtp_timeout and delivery_poll_seconds must be positive")
        for name in ("arrival_reminder_local_time", "departure_reminder_local_time"):
            value = getattr(self, name)
            try:
                hours, minutes = (int(x) for x in value.split(":"))
            except ValueError:
                raise ValueError(f"{name} must be HH:MM") from None
            if not (0 <= hours < 24 and 0 <= minutes < 60) or len(value) != 5:
                raise ValueError(f"{name} must be HH:MM")
        return self

    def providers(self, channel: str) -> list[ProviderSettings]:
        """The providers of `channel` ("sms", "push") in order; empty: none configured."""
        if channel == "push":
            return list(self.push_providers)
        if channel != "sms":
            return []
        if self.sms_providers:
            return list(self.sms_providers)
        if self.sms_gateway_url:
            return [
                ProviderSettings(
                    name="sms-gateway", url=self.sms_gateway_url, token=self.sms_gateway_token
                )
            ]
        return []

    def provider(self, name: str) -> ProviderSettings | None:
        return next((p for c in ("sms", "push") for p in self.providers(c) if p.name == name), None)

    @property
    def sender_name(self) -> str:
        """The display name of mail_from, used to sign notices that carry no property name."""
        return parseaddr(self.mail_from)[0] or parseaddr(self.mail_from)[1]
