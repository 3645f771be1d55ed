"""A guest-controlled value with a line break (CR, LF, U+2028, NEL) in a subject: the notice
still goes out, its subject on one line, and no header is injected."""

from email import message_from_bytes

import pytest
from notification_service import mailer, rendering
from notification_service.models import Kind
from notification_service.samples import SAMPLES

NAMES = ["Lin\rBcc: evil@example.com", "Lin\nBcc: evil@example.com", "Lin\u2028Mei", "Lin\x85Mei"]


@pytest.mark.parametrize("name", NAMES, ids=["cr", "lf", "u2028", "nel"])
@pytest.mark.parametrize("channel", ["email", "push"])
def test_a_name_with_a_line_break_leaves_the_subject_one_line(name: str, channel: str) -> None:
    context = SAMPLES[Kind.BIRTHDAY_GREETING] | {"guest_name": name}
    rendered = rendering.render_with(Kind.BIRTHDAY_GREETING, channel, "en", context, {})
    assert rendered.subject.startswith("Happy birthday, Lin")
    assert rendered.subject == " ".join(rendered.subject.split())
    if channel == "email":
        message = mailer.build_message(
            notification_id="n-1",
            mail_from="Hotel <hotel@example.com>",
            recipient="guest@example.com",
            subject=rendered.subject,
            body=rendered.body,
            html=rendered.html,
        )
        parsed = message_from_bytes(bytes(message))
        assert parsed["Bcc"] is None
        assert "\n" not in str(parsed["Subject"]).replace("\n ", " ")
