"""render_for's rules without the service: every kind has sample data that renders all its
file templates; a staff override beats the file of its language only; a language without a
template falls back to English; the HTML part is escaped and its links clickable; the sandbox
refuses reaching into Python objects."""

from typing import Any

import pytest
from jinja2.exceptions import SecurityError, UndefinedError
from notification_service import rendering
from notification_service.models import Kind
from notification_service.rendering import CHANNELS, LANGUAGES, Source, render_with
from notification_service.samples import SAMPLES

from .conftest import Samples
from .test_templates import BOOKING_KINDS, CRM_KINDS, GUEST_KINDS, sample_notice

# The kinds test_templates.sample_notice builds from real events.
BUILT = {
    "reservation_confirmed", "transfer_assigned", "transfer_rescheduled", "transfer_reassigned",
    "transfer_no_show", "sign_in_code", "reservation_modified", "reservation_expired",
    "reservation_cancelled", *GUEST_KINDS, *BOOKING_KINDS, *CRM_KINDS, "staff_digest",
}  # fmt: skip


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_a_sample_rendering_every_file_template(kind: Kind) -> None:
    assert kind in SAMPLES, f"samples.SAMPLES has no {kind}: its templates cannot be checked"
    for language in LANGUAGES:
        for channel in CHANNELS:
            assert rendering.file_source(kind, channel, language) is not None, (
                f"no {rendering.file_name(kind, channel, language)}"
            )
            rendered = render_with(kind, channel, language, SAMPLES[kind], {})
            assert rendered.language == language
            assert rendered.subject and rendered.body.strip()


@pytest.mark.parametrize("kind", sorted(BUILT))
def test_a_sample_has_exactly_the_builders_variables(samples: Samples, kind: str) -> None:
    notice = sample_notice(samples, kind, "en")
    assert set(SAMPLES[Kind(kind)]) == set(notice.context)


@pytest.mark.parametrize("kind", sorted(BUILT))
def test_short_texts_are_short_and_in_their_script(samples: Samples, kind: str) -> None:
    texts = {}
    for language in LANGUAGES:
        context = sample_notice(samples, kind, language).context
        texts[language] = render_with(kind, "sms", language, context, {}).body
        assert len(texts[language]) <= 300
        own = texts[language]
        for value in context.values():
            own = own.replace(str(value), "")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in own) == language.startswith("zh")
    assert texts["zh-Hans"] != texts["zh-Hant"]


def test_push_title_is_the_long_subject_and_sms_the_short_text() -> None:
    sample = SAMPLES[Kind.TRANSFER_ASSIGNED]
    email = render_with("transfer_assigned", "email", "zh-Hant", sample, {})
    push = render_with("transfer_assigned", "push", "zh-Hant", sample, {})
    sms = render_with("transfer_assigned", "sms", "zh-Hant", sample, {})
    assert push.subject == email.subject
    assert push.body == sms.body and sms.body != email.body
    assert push.html is None and sms.html is None
    assert "司機" in sms.body


def test_html_part_escapes_values_and_links_urls() -> None:
    sample: dict[str, Any] = SAMPLES[Kind.SURVEY_INVITATION] | {"guest_name": "<b>Lin</b> & Co"}
    rendered = render_with("survey_invitation", "email", "en", sample, {})
    assert "Dear <b>Lin</b> & Co" in rendered.body  # the text part: verbatim
    assert rendered.html is not None
    assert "&lt;b&gt;Lin&lt;/b&gt; &amp; Co" in rendered.html and "<b>Lin" not in rendered.html
    url = sample["survey_url"]
    assert f'<a href="{url}">{url}</a>' in rendered.html
    assert rendered.html.count("<p>") >= 3
    inbox = render_with("survey_invitation", "inbox", "en", sample, {})
    assert inbox.html is None and inbox.body == rendered.body


def test_an_override_serves_its_language_only() -> None:
    sample = SAMPLES[Kind.RESERVATION_EXPIRED]
    override = {("email", "en"): Source(subject="Lapsed {{ confirmation_number }}", body="Gone.")}
    assert render_with("reservation_expired", "email", "en", sample, override).subject == (
        "Lapsed HV-7K3Q9D"
    )
    # zh-Hant has its own file: the English override does not replace it.
    hant = render_with("reservation_expired", "email", "zh-Hant", sample, override)
    assert hant.language == "zh-Hant" and "Lapsed" not in hant.subject


def test_a_language_without_a_template_falls_back_to_the_english_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No zh-Hant file and no zh-Hant override: the English override (not the English file,
    not the Simplified file: zh-Hant's parent is root) serves, and says it is English."""
    real = rendering.file_source

    def without_hant(kind: str, channel: str, language: str) -> Source | None:
        return None if language == "zh-Hant" else real(kind, channel, language)

    monkeypatch.setattr(rendering, "file_source", without_hant)
    sample = SAMPLES[Kind.RESERVATION_EXPIRED]
    override = {("email", "en"): Source(subject="Lapsed {{ confirmation_number }}", body="Gone.")}
    rendered = render_with("reservation_expired", "email", "zh-Hant", sample, override)
    assert rendered.language == "en"
    assert rendered.subject == "Lapsed HV-7K3Q9D" and rendered.body == "Gone.\n"
    # Without the override, the English file.
    plain = render_with("reservation_expired", "email", "zh-Hant", sample, {})
    assert plain.language == "en" and plain.subject.startswith("Booking request")


def test_the_sandbox_refuses_python_internals() -> None:
    sample = SAMPLES[Kind.RESERVATION_EXPIRED]
    for text in ("{{ ''.__class__.__mro__ }}", "{{ guest_name.__class__ }}"):
        with pytest.raises(SecurityError):
            render_with(
                "reservation_expired", "sms", "en", sample, {("sms", "en"): Source(body=text)}
            )


def test_a_missing_value_is_an_error_in_every_channel() -> None:
    sample = {k: v for k, v in SAMPLES[Kind.TRANSFER_ASSIGNED].items() if k != "driver_phone"}
    for channel in CHANNELS:
        with pytest.raises(UndefinedError):
            render_with("transfer_assigned", channel, "en", sample, {})
