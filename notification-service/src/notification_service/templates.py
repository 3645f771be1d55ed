"""Staff overrides of notice templates (issue 20; docs/notifications.md, Templates).

An override is kept per (kind, channel, language) in `notice_templates` and beats the file
default (rendering.py) from the next notice on. A template is checked when it is saved, not
when a notice is sent: it must parse, name only the variables the kind's builder provides
(samples.SAMPLES), and render the kind's sample in the sandbox. Nothing is written otherwise.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotel_common.errors import ProblemError
from hotel_common.time import utcnow
from hotel_common.uniques import locked_or_inserted
from jinja2 import TemplateSyntaxError, meta
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import rendering
from notification_service.models import Kind, NoticeTemplate
from notification_service.rendering import (
    CHANNELS,
    HTML_CHANNELS,
    LANGUAGES,
    LONG_CHANNELS,
    Overrides,
    Rendered,
    Source,
)
from notification_service.samples import SAMPLES, variables_of

# The sign-in code's slot: an override leaving it out would send no code at all.
CODE_SLOT = "{code}"


@dataclass(frozen=True)
class Entry:
    """What serves one (kind, channel, language): the override, else the file (None: neither,
    a kind whose files are not written yet)."""

    kind: str
    channel: str
    language: str
    source: str  # "file" or "override"
    subject: str | None
    body: str | None
    html: str | None
    version: int | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None


def check_address(kind: str, channel: str, language: str) -> None:
    """404 for a template that cannot exist: an unknown kind, channel or language."""
    if (
        kind not in Kind.__members__.values()
        or channel not in CHANNELS
        or language not in LANGUAGES
    ):
        raise ProblemError(
            404,
            "template_not_found",
            f"No template {kind}/{channel}/{language}: kinds are the notice kinds, channels "
            f"{', '.join(CHANNELS)}, languages {', '.join(LANGUAGES)}.",
        )


def _source(row: NoticeTemplate) -> Source:
    return Source(body=row.body, subject=row.subject, html=row.html, origin="override")


async def overrides_of(session: AsyncSession, kind: str) -> Overrides:
    """The staff's overrides of `kind`, by (channel, language)."""
    rows = await session.exec(select(NoticeTemplate).where(NoticeTemplate.kind == kind))
    return {(row.channel, row.language): _source(row) for row in rows}


def _entry(kind: str, channel: str, language: str, row: NoticeTemplate | None) -> Entry:
    if row is not None:
        return Entry(
            kind, channel, language, "override", row.subject, row.body, row.html,
            row.version, row.updated_at, row.updated_by,
        )  # fmt: skip
    found = rendering.file_source(kind, channel, language)
    return Entry(
        kind, channel, language, "file",
        found.subject if found else None, found.body if found else None, None,
    )  # fmt: skip


async def listing(
    session: AsyncSession,
    kind: str | None = None,
    channel: str | None = None,
    language: str | None = None,
) -> list[Entry]:
    """Every kind x channel x language (filtered), with the text that serves it."""
    query = select(NoticeTemplate)
    if kind is not None:
        query = query.where(NoticeTemplate.kind == kind)
    if channel is not None:
        query = query.where(NoticeTemplate.channel == channel)
    if language is not None:
        query = query.where(NoticeTemplate.language == language)
    rows = {(r.kind, r.channel, r.language): r for r in await session.exec(query)}
    return [
        _entry(k, c, lang, rows.get((k, c, lang)))
        for k in ([kind] if kind else [k.value for k in Kind])
        for c in ([channel] if channel else CHANNELS)
        for lang in ([language] if language else LANGUAGES)
    ]


async def entry(session: AsyncSession, kind: str, channel: str, language: str) -> Entry:
    check_address(kind, channel, language)
    return _entry(
        kind, channel, language, await session.get(NoticeTemplate, (kind, channel, language))
    )


def check(kind: str, channel: str, source: Source, language: str) -> Rendered:
    """Refuse a template that would fail at send time (422 problem), else its rendering of
    the kind's sample: syntax, shape, unknown variables, then a trial render in the sandbox."""
    if channel in LONG_CHANNELS and not (source.subject or "").strip():
        raise ProblemError(422, "template_invalid", f"A {channel} template needs a subject.")
    if source.html is not None and channel not in HTML_CHANNELS:
        raise ProblemError(422, "template_invalid", f"A {channel} template has no HTML part.")
    allowed = variables_of(kind)
    parts = {"subject": source.subject, "body": source.body, "html": source.html}
    for part, text in parts.items():
        if text is None:
            continue
        env = rendering.html_env if part == "html" else rendering.text_env
        try:
            # Parsing, then compiling (an unknown filter or test is found only then).
            parsed = env.parse(text)
            undeclared = meta.find_undeclared_variables(parsed)
            (rendering.compile_html if part == "html" else rendering.compile_text)(text)
        except TemplateSyntaxError as error:
            raise ProblemError(
                422,
                "template_syntax_error",
                f"The {part} does not parse at line {error.lineno}: {error.message}",
                part=part,
                line=error.lineno,
            ) from None
        unknown = sorted(undeclared - allowed)
        if unknown:
            raise ProblemError(
                422,
                "unknown_template_variable",
                f"The {part} names {', '.join(unknown)}, which a {kind} notice does not "
                f"provide (it provides: {', '.join(sorted(allowed)) or 'nothing yet'}).",
                part=part,
                variables=unknown,
            )
    return trial(kind, channel, language, source, SAMPLES.get(Kind(kind), {}))


def trial(
    kind: str, channel: str, language: str, source: Source, context: dict[str, Any]
) -> Rendered:
    """`source` rendered with `context` in the sandbox; any failure is a 422 render error."""
    overrides: Overrides = {(channel, language): source}
    try:
        rendered = rendering.render_with(kind, channel, language, context, overrides)
    except Exception as error:
        raise ProblemError(
            422,
            "template_render_error",
            f"The template fails to render with the {kind} sample: {type(error).__name__}: {error}",
        ) from None
    if kind == Kind.SIGN_IN_CODE and CODE_SLOT not in rendered.body:
        raise ProblemError(
            422, "template_render_error", "A sign-in code template must show {{ code }}."
        )
    return rendered


async def save(
    session: AsyncSession,
    kind: str,
    channel: str,
    language: str,
    source: Source,
    by: str | None,
) -> Entry:
    """Store the override (checked first; the same text again changes nothing)."""
    check_address(kind, channel, language)
    check(kind, channel, source, language)
    row, created = await locked_or_inserted(
        session,
        NoticeTemplate,
        (kind, channel, language),
        lambda: NoticeTemplate(
            kind=kind,
            channel=channel,
            language=language,
            subject=source.subject,
            body=source.body,
            html=source.html,
            updated_by=by,
        ),
    )
    if not created and (row.subject, row.body, row.html) != (
        source.subject,
        source.body,
        source.html,
    ):
        row.subject, row.body, row.html = source.subject, source.body, source.html
        row.updated_at, row.updated_by, row.version = utcnow(), by, row.version + 1
    await session.flush()
    return _entry(kind, channel, language, row)


async def remove(session: AsyncSession, kind: str, channel: str, language: str) -> bool:
    """Drop the override: the file serves again. False: there was none."""
    check_address(kind, channel, language)
    row = await session.get(NoticeTemplate, (kind, channel, language))
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True
