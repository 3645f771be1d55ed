"""Events published by the gateway's identity store."""

from datetime import datetime
from typing import ClassVar

from hotel_common.events.envelope import IntegrationEvent


class SignInCodeRequested(IntegrationEvent):
    """A guest asked to sign in: send them this one-time code, by email or by text message.

    The code is a secret: a consumer sends it and never shows it through an API (a stored copy
    of the message has it blanked once sent)."""

    event_type: ClassVar[str] = "identity.sign_in_code_requested"
    aggregate: ClassVar[tuple[str, str] | None] = None

    email: str | None = None  # exactly one of email and phone (E.164)
    phone: str | None = None
    code: str  # six digits
    language: str = "en"  # BCP-47, for the message's wording
    expires_at: datetime  # UTC
