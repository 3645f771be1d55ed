"""Settings of notification-service: the shared ones plus the mail channel and its retries."""

from email.utils import parseaddr

from hotel_common.settings import ServiceSettings
from pydantic import Field, model_validator

from notification_service.mailer import SmtpTarget


class Settings(ServiceSettings):
    service_name: str = "notification-service"
    # smtp://[user:password@]host[:port][?starttls=true] or smtps://... (TLS from the start).
    # Empty: no mail server (embedded mode); notices are kept in the delivery log as `logged`.
    smtp_url: str = ""
    mail_from: str = "Harbour View Hotel <no-reply@harbourview.example>"
    # Upper bound for connecting to the server and for sending one message.
    smtp_timeout: float = 10.0
    # Delay before each new delivery attempt; the last one repeats until delivery_max_attempts.
    # (Not `retry_delays`: that one paces the bus's handler retries.)
    delivery_backoff_seconds: list[float] = Field(default_factory=lambda: [5.0, 30.0, 120.0, 600.0])
    delivery_max_attempts: int = 5
    # Safety-net polling; a commit that queues a notice wakes the sender at once.
    delivery_poll_seconds: float = 5.0
    delivery_batch_size: int = 20

    @model_validator(mode="after")
    def _sane_delivery(self) -> "Settings":
        if self.smtp_url:
            SmtpTarget.parse(self.smtp_url)  # fail at start-up, not at the first notice
        if "@" not in parseaddr(self.mail_from)[1]:
            raise ValueError("mail_from needs an address, e.g. 'Hotel <no-reply@hotel.example>'")
        if not self.delivery_backoff_seconds or any(d < 0 for d in self.delivery_backoff_seconds):
            raise ValueError("delivery_backoff_seconds needs at least one non-negative delay")
        if self.delivery_max_attempts < 1 or self.delivery_batch_size < 1:
            raise ValueError("delivery_max_attempts and delivery_batch_size must be at least 1")
        if self.smtp_timeout <= 0 or self.delivery_poll_seconds <= 0:
            raise ValueError("smtp_timeout and delivery_poll_seconds must be positive")
        return self

    @property
    def sender_name(self) -> str:
        """The display name of mail_from, used to sign notices that carry no property name."""
        return parseaddr(self.mail_from)[0] or parseaddr(self.mail_from)[1]
