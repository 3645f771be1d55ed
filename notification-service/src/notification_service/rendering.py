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
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import TYPE_CHECKING, Any

from jinja2 import PackageLoader, StrictUndefined, Template, TemplateNotFound, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError
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


# Bounds of one rendering (a staff template is untrusted input): the sandbox refuses unsafe
# attributes but not work, so `{{ 'x' * 10**9 }}`, `{{ ''|center(10**9) }}`, doubling a
# namespace string or three nested `range(3000)` loops rendered gigabytes or held the event
# loop for minutes when saved. Every loop iteration is counted, every value that can grow
# (repetition, concatenation, padding widths, format widths, replace) is capped, and the
# output is cut off: past a bound the render fails (SecurityError: a 422 when saved).
MAX_TEXT = 50_000  # chars of any string a template builds, and of its whole output
MAX_STEPS = 20_000  # loop iterations of one rendering, all loops together
MAX_POWER = 1_000  # bits of a power's result
_budget: ContextVar[list[int] | None] = ContextVar("template_budget", default=None)
_NUMBERS = re.compile(r"\d+")


def _too_big(what: str) -> SecurityError:
    return SecurityError(f"the template builds too much ({what}; at most {MAX_TEXT} chars)")


def _sized(value: Any, what: str) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_TEXT:
        raise _too_big(what)
    return value


def _check_format(fmt: Any) -> None:
    """A format string's widths and precisions are what it allocates, before any output."""
    if isinstance(fmt, str) and sum(int(n) for n in _NUMBERS.findall(fmt)) > MAX_TEXT:
        raise _too_big("format widths")


def _check_args(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEXT:
            raise _too_big(f"{name} with {value}")


def _check_replace(text: Any, old: Any, new: Any) -> None:
    """A replace allocates its result at once: count it first."""
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    if (text.count(old) if old else len(text) + 1) * len(new) > MAX_TEXT:
        raise _too_big("replace")


def _counted(iterable: Any) -> Any:
    """Every loop's iterable (put there by the parser): one step of the budget per item."""
    budget = _budget.get()
    for item in iterable:
        if budget is not None:
            budget[0] -= 1
            if budget[0] < 0:
                raise SecurityError(f"the template loops too much (at most {MAX_STEPS} steps)")
        yield item


def _guarded(name: str, fn: Any) -> Any:
    @wraps(fn)  # keeps jinja's pass_context/pass_eval_context marks
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_args(name, args, kwargs)
        plain = args[1:] if getattr(fn, "jinja_pass_arg", None) else args  # no context
        if name == "format" and plain:
            _check_format(plain[0])
        if name == "replace" and len(plain) >= 3:
            _check_replace(*plain[:3])
        return _sized(fn(*args, **kwargs), name)

    return guarded


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox with the bounds above (loops, sizes, output)."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "//"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _guarded(name, fn) for name, fn in self.filters.items()}
        self.filters["_counted"] = _counted
        self.filters["_sized"] = lambda value: _sized(value, "concatenation")

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_counted", [], [], None, None, lineno=loop.lineno)
        for concat in list(tree.find_all(nodes.Concat)):
            concat.nodes = [nodes.Filter(nodes.Concat(concat.nodes), "_sized", [], [], None, None)]
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, (str, list, tuple)) and isinstance(times, int)
                if sized and len(seq) * times > MAX_TEXT:
                    raise _too_big("repetition")
        elif operator == "**":
            ints = isinstance(left, int) and isinstance(right, int) and right > 0
            if ints and abs(left) > 1 and right * abs(left).bit_length() > MAX_POWER:
                raise SecurityError("the template computes too big a power")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return _sized(super().call_binop(context, operator, left, right), operator)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            _check_format(obj)
        return super().getattr(obj, attribute)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "call")
        _check_args(name, args, kwargs)
        owner = getattr(__obj, "__self__", None)
        if name == "replace" and isinstance(owner, str) and len(args) >= 2:
            _check_replace(owner, args[0], args[1])
        return _sized(super().call(__context, __obj, *args, **kwargs), name)


def run(template: Template, context: dict[str, Any]) -> str:
    """`template` rendered within the bounds: MAX_STEPS loop steps, MAX_TEXT chars out."""
    token = _budget.set([MAX_STEPS])
    try:
        out: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_TEXT:
                raise _too_big("output")
            out.append(chunk)
        return "".join(out)
    finally:
        _budget.reset(token)


def _environment(autoescape: bool) -> SandboxedEnvironment:
    return BoundedSandbox(
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


def one_line(text: str) -> str:
    """A subject or title on one line: every run of whitespace one space. A guest's name with a
    line break (CR, LF, U+2028, NEL) made the subject line fail, or the mail header refuse it
    at every attempt: the notice never went out (and a header must never take a line break)."""
    return " ".join(text.split())


def compose(
    kind: str, channel: str, language: str, source: Source, context: dict[str, Any]
) -> Rendered:
    """`source` rendered for `channel` with `context` (raises the template's error: syntax,
    undefined variable, sandbox refusal)."""
    if channel in LONG_CHANNELS:
        subject = one_line(run(compile_text(source.subject or ""), context))
        body = run(compile_text(source.body), context).strip() + "\n"
        if not subject:
            raise TemplateFormatError(f"{kind} for {channel}: the subject is empty")
        html = None
        if channel in HTML_CHANNELS:
            content = (
                Markup(run(compile_html(source.html), context))
                if source.html is not None
                else Markup("\n").join(Markup("<p>{}</p>").format(p) for p in paragraphs(body))
            )
            html = layout(subject, language, content)
        return Rendered(language, subject, body, html)
    body = run(compile_text(source.body), context).strip()
    if not body:
        raise TemplateFormatError(f"{kind} for {channel}: the text is empty")
    return Rendered(language, "", body + "\n")


def render(kind: str, language: str, context: dict[str, Any]) -> Rendered:
    """The file's long (email) text in `language`, no override (the plain-text rendering)."""
    language = resolve_language(language)
    name = file_name(kind, "email", language)
    text = run(text_env.get_template(name), context)
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
        title = one_line(run(compile_text(source.subject), context))
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
    except Exception as exc:
        if not overrides:
            raise
        # Checked when saved with the sample, an override may still meet a value the sample
        # lacks (e.g. None): the guest gets the file's text rather than no notice at all. Only
        # the error's type is logged: its message may quote the guest's values.
        log.error(
            "template override fails, the file serves",
            extra={"kind": kind, "channel": channel, "error": type(exc).__name__},
        )
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
