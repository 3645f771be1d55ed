"""Notice templates: `templates/<language>/<kind>.txt`, first line the subject, then a blank
line, then the plain-text body. Missing variables are errors (StrictUndefined), never blanks.
"""

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

LANGUAGES = ("en", "zh-Hans", "zh-Hant")
DEFAULT_LANGUAGE = "en"

# Tags a guest's profile may hold that mean one of our languages.
_ALIASES = {
    "zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-my": "zh-Hans",
    "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant",
}  # fmt: skip

_env = Environment(
    loader=PackageLoader("notification_service", "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # plain text, not HTML
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body: str
    html: str | None = None  # email's HTML part (None: plain text only)


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


def render(kind: str, language: str, context: dict[str, Any]) -> Rendered:
    language = resolve_language(language)
    text = _env.get_template(f"{language}/{kind}.txt").render(context)
    subject, _, body = text.partition("\n")
    if not subject.strip() or body[:1] != "\n":
        raise ValueError(f"template {language}/{kind}.txt: subject line, blank line, then body")
    return Rendered(language, subject.strip(), body[1:].strip() + "\n")


def render_for(kind: str, channel: str, language: str, context: dict[str, Any]) -> Rendered:
    """The notice of `kind` for `channel` in `language` (issue 20: templates.py overrides,
    file defaults, the fallback language). Foundation stub: the file's email template."""
    return render(kind, language, context)
