"""Mail settings are checked at start-up, not at the first notice."""

import pytest
from notification_service.config import Settings
from notification_service.mailer import SmtpTarget
from pydantic import ValidationError


def test_smtp_url_forms() -> None:
    assert SmtpTarget.parse("smtp://mail.example:2525") == SmtpTarget("mail.example", 2525)
    secure = SmtpTarget.parse("smtp://bot%40hotel:p%3Ass@mail.example:587?starttls=true")
    assert (secure.username, secure.password, secure.start_tls) == ("bot@hotel", "p:ss", True)
    assert SmtpTarget.parse("smtps://mail.example") == SmtpTarget("mail.example", 465, use_tls=True)
    assert SmtpTarget.parse("smtp://mail.example").port == 25


@pytest.mark.parametrize(
    "bad",
    [
        {"smtp_url": "http://mail.example"},
        {"smtp_url": "smtp://"},
        {"smtp_url": "smtp://mail.example:99999"},
        {"smtp_url": "smtp://mail.example?starttls=maybe"},
        {"mail_from": "Harbour View Hotel"},
        {"delivery_backoff_seconds": []},
        {"delivery_give_up_after_seconds": 0},
        {"urgent_pickup_within_hours": 0},
        {"urgent_pickup_within_hours": 100},
    ],
)
def test_bad_mail_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**bad)  # type: ignore[arg-type]


def test_defaults() -> None:
    settings = Settings()
    assert settings.service_name == "notification-service"
    assert settings.smtp_url == ""
    assert settings.sender_name == "Harbour View Hotel"
    assert settings.urgent_pickup_within_hours == 6  # issue 20: a pickup within 6 h is urgent
