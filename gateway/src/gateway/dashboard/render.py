"""Pages from templates/: every page gets the language, texts, navigation and CSRF token."""

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gateway.dashboard import i18n, sections
from gateway.dashboard.session import LANG, csrf_token

TEMPLATES = Path(__file__).parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,  # a misspelt variable fails the page (and its test), not blank
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals.update(money=i18n.money, clock=i18n.clock, languages=i18n.LANGUAGES)
env.globals["language_names"] = i18n.NAMES


def language(request: Request) -> str:
    return i18n.choose(request.cookies.get(LANG), request.headers.get("accept-language"))


def context(request: Request) -> dict[str, Any]:
    """What every template may use."""
    lang = language(request)
    staff = getattr(request.state, "staff", None)
    return {
        "request": request,
        "lang": lang,
        "t": i18n.translator(lang),
        "day": lambda value: i18n.day(value, lang),
        "staff": staff,
        "nav": sections.visible(staff.roles) if staff else [],
        "csrf": csrf_token(request),
        "form_key": lambda: secrets.token_urlsafe(16),  # a form's Idempotency-Key
        "path": request.url.path,
        "htmx": request.headers.get("hx-request") == "true",
    }


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """`template` rendered with the common context and `values`."""
    html = env.get_template(template).render({**context(request), **values})
    return HTMLResponse(html, status_code=status_code)
