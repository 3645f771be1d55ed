"""Notice templates (issue 20: docs/notifications.md, Templates).

Files are the defaults: `templates/<language>/<kind>.txt` (first line the subject, a blank line,
then the plain-text body) for email and the inbox, `templates/<language>/<kind>.short.txt` (one
short text) for SMS and push. A staff override in the database (`notice_templates`, kept by
templates.py) beats the file for its (kind, channel, language). Missing a template, the
language's fallback serves: its parent, then English.

Everything renders in jinja2's sandbox with StrictUndefined: a missing variable is an error,
never a blank; the HTML part is autoescaped, the text parts are not.
"""

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import PackageLoader, StrictUndefined, Template, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh-Hans", "zh-Hant")
DEFAULT_LANGUAGE = "en"
# The channels a template is for. "inbox" is the app's copy (the long text, like email).
CHANNELS = ("email", "inbox", "sms", "push")
LONG_CHANNELS = frozenset({"email", "inbox"})
HTML_CHANNELS = frozenset({"email"})
# A language's parent before English (CLDR parent locales: zh-Hant's parent is root, not zh,
# so a Traditional reader is not handed Simplified text; it falls back to English).
PARENTS: dict[str, str] = {}

# Tags a guest's profile may hold that mean one of our languages.
_ALIASES = {
    "zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-my": "zh-Hans",
    "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant",
}  # fmt: skip


def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=PackageLoader("notification_service", "templates"),
        undefined=StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


text_env = _environment(autoescape=False)  # subject, plain-text body, short text
html_env = _environment(autoescape=True)  # the HTML part: every value escaped


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body: str
    html: str | None = None  # email's HTML part (None: plain text only)


@dataclass(frozen=True)
class Source:
    """A template's text: the file's or a staff override's (subject None on a short text
    without its own title; html None: built from the text by the layout)."""

    body: str
    subject: str | None = None
    html: str | None = None
    origin: str = "file"  # "file" or "override"


class TemplateFormatError(ValueError):
    """A long template without its subject line and blank line."""


def resolve_language(tag: str | None) -> str:
    """Our language for a guest's tag: exact, by alias, by primary subtag, else English."""
    if not tag:
        return DEFAULT_LANGUAGE
    for known in LANGUAGES:
        if tag.lower() == known.lower():
            return known
    lowered = tag.lower().replace("_", "-")
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    if lowered.startswith("zh-hant"):
        return "zh-Hant"
    if lowered.startswith("zh"):
        return "zh-Hans"
    return DEFAULT_LANGUAGE


def fallback_chain(language: str) -> list[str]:
    """The languages tried in order for a guest's `language`: it, its parents, English."""
    chain = [resolve_language(language)]
    while chain[-1] in PARENTS:
        chain.append(PARENTS[chain[-1]])
    if DEFAULT_LANGUAGE not in chain:
        chain.append(DEFAULT_LANGUAGE)
    return chain


def file_name(kind: str, channel: str, language: str) -> str:
    suffix = ".txt" if channel in LONG_CHANNELS else ".short.txt"
    return f"{language}/{kind}{suffix}"


def split_long(text: str, name: str) -> tuple[str, str]:
    """A long template's (or its rendering's) subject line and body."""
    subject, _, body = text.partition("\n")
    if not subject.strip() or body[:1] != "\n":
        raise TemplateFormatError(f"template {name}: subject line, blank line, then body")
    return subject.strip(), body[1:]


@lru_cache(maxsize=512)
def file_source(kind: str, channel: str, language: str) -> Source | None:
    """The shipped default for (kind, channel's format, language); None: no such file."""
    name = file_name(kind, channel, language)
    loader = text_env.loader
    assert loader is not None
    try:
        text, _, _ = loader.get_source(text_env, name)
    except TemplateNotFound:
        return None
    if channel in LONG_CHANNELS:
        subject, body = split_long(text, name)
        return Source(body=body, subject=subject)
    return Source(body=text)


@lru_cache(maxsize=1024)
def compile_text(source: str) -> Template:
    return text_env.from_string(source)


@lru_cache(maxsize=256)
def compile_html(source: str) -> Template:
    return html_env.from_string(source)


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def _linked(paragraph: str) -> Markup:
    """One paragraph of plain text as HTML: escaped, lines kept, links clickable."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(paragraph):
        out.append(str(escape(paragraph[last : match.start()])))
        url = escape(match.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    out.append(str(escape(paragraph[last:])))
    return Markup("".join(out).replace("\n", "<br>\n"))


def paragraphs(text: str) -> list[Markup]:
    return [_linked(p.strip("\n")) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def layout(subject: str, language: str, content: Markup) -> str:
    """The shared HTML frame every email's HTML part is put in (templates/_layout.html)."""
    return html_env.get_template("_layout.html").render(
        subject=subject, language=language, content=content
    )


def compose(
    kind: str, channel: str, language: str, source: Source, context: dict[str, Any]
) -> Rendered:
    """`source` rendered for `channel` with `context` (raises the template's error: syntax,
    undefined variable, sandbox refusal)."""
    if channel in LONG_CHANNELS:
        subject = compile_text(source.subject or "").render(context).strip()
        body = compile_text(source.body).render(context).strip() + "\n"
        if not subject or "\n" in subject:
            raise TemplateFormatError(f"{kind} for {channel}: the subject must be one line")
        html = None
        if channel in HTML_CHANNELS:
            content = (
                Markup(compile_html(source.html).render(context))
                if source.html is not None
                else Markup("\n").join(Markup("<p>{}</p>").format(p) for p in paragraphs(body))
            )
            html = layout(subject, language, content)
        return Rendered(language, subject, body, html)
    body = compile_text(source.body).render(context).strip()
    if not body:
        raise TemplateFormatError(f"{kind} for {channel}: the text is empty")
    return Rendered(language, "", body + "\n")


def render(kind: str, language: str, context: dict[str, Any]) -> Rendered:
    """The file's long (email) text in `language`, no override (the plain-text rendering)."""
    language = resolve_language(language)
    name = file_name(kind, "email", language)
    text = text_env.get_template(name).render(context)
    subject, body = split_long(text, name)
    return Rendered(language, subject, body.strip() + "\n")


Overrides = dict[tuple[str, str], Source]  # (channel, language) -> the staff's text


def choose(kind: str, channel: str, language: str, overrides: Overrides) -> tuple[str, Source]:
    """The template serving (kind, channel, language): per language of the fallback chain,
    the override, else the file. Raises LookupError when none exists in any language."""
    for lang in fallback_chain(language):
        found = overrides.get((channel, lang)) or file_source(kind, channel, lang)
        if found is not None:
            return lang, found
    raise LookupError(f"no template for {kind} on {channel} in {language} or its fallback")


def render_with(
    kind: str,
    channel: str,
    language: str,
    context: dict[str, Any],
    overrides: Overrides,
    *,
    title: str | None = None,
) -> Rendered:
    """render_for with the kind's overrides already at hand (the preview, the trial render,
    handlers._queue). `title`: the subject of this notice's email rendering (same kind,
    language, context and overrides) when the caller has it, so a short text without its own
    title does not render the email again for it."""
    lang, source = choose(kind, channel, language, overrides)
    rendered = compose(kind, channel, lang, source, context)
    if channel in LONG_CHANNELS:
        return rendered
    # A short text's title (push) and its delivery log subject: its own, else the long one's.
    if source.subject:
        title = compile_text(source.subject).render(context).strip()
    elif title is None:
        title = render_with(kind, "email", language, context, overrides).subject
    return Rendered(rendered.language, title, rendered.body)


def render_or_file(
    kind: str,
    channel: str,
    language: str,
    context: dict[str, Any],
    overrides: Overrides,
    *,
    title: str | None = None,
) -> tuple[Rendered, bool]:
    """render_with, or the files' text when an override fails with this context (logged);
    with whether the overrides served (False: the files did, after an override failed).
    `title`: as render_with's, for the overrides' rendering only."""
    try:
        return render_with(kind, channel, language, context, overrides, title=title), True
    except Exception:
        if not overrides:
            raise
        # Checked when saved with the sample, an override may still meet a value the sample
        # lacks (e.g. None): the guest gets the file's text rather than no notice at all.
        log.exception("template override fails, the file serves", extra={"kind": kind})
        return render_with(kind, channel, language, context, {}), False


async def render_for(
    session: "AsyncSession", kind: str, channel: str, language: str, context: dict[str, Any]
) -> Rendered:
    """The notice of `kind` for `channel` in `language`: a staff override, the file default,
    the same in the fallback languages. Reads the kind's overrides in `session` (one indexed
    query, in the caller's transaction: a template saved before the event's commit serves it)."""
    from notification_service import templates  # templates imports this module

    overrides = await templates.overrides_of(session, kind)
    return render_or_file(kind, channel, language, context, overrides)[0]
