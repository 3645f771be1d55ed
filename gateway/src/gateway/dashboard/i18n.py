"""The dashboard's languages: English, Simplified Chinese, Traditional Chinese.

Texts live in locales/*.toml, one file per page, each key with its three languages side by side
(a text cannot be added in one language and forgotten in another: `catalog()` refuses a key
without all three, and a key defined twice):

    [today]
    title = { en = "Today", zh-Hans = "今日", zh-Hant = "今日" }

In templates `t("today.title")`; placeholders are str.format fields: `t("x.count", n=3)`.
The language comes from the `hotel_lang` cookie (set by /dashboard/language), else the
browser's Accept-Language, else English.
"""

import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LANGUAGES = ("en", "zh-Hans", "zh-Hant")
NAMES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文"}
DEFAULT = "en"
LOCALES = Path(__file__).parent / "locales"


def _flatten(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and set(value) <= set(LANGUAGES) and value:
            yield name, value
        elif isinstance(value, dict):
            yield from _flatten(value, name + ".")
        else:
            raise ValueError(f"{name}: give the text in {', '.join(LANGUAGES)}")


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Every key's texts, from every locales/*.toml."""
    texts: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALES.glob("*.toml")):
        with path.open("rb") as file:
            for key, value in _flatten(tomllib.load(file)):
                if key in texts:
                    raise ValueError(f"{path.name}: {key} is defined twice")
                if missing := [lang for lang in LANGUAGES if not value.get(lang)]:
                    raise ValueError(f"{path.name}: {key} has no {', '.join(missing)}")
                texts[key] = value
    return texts


def translator(language: str) -> Callable[..., str]:
    texts = catalog()

    def t(key: str, **values: Any) -> str:
        entry = texts.get(key)
        if entry is None:
            raise KeyError(f"no dashboard text {key!r} (locales/*.toml)")
        text = entry[language]
        return text.format(**values) if values else text

    return t


def from_header(accept_language: str | None) -> str:
    """The best of LANGUAGES for an Accept-Language header (zh-TW, zh-HK, zh-MO: Traditional)."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            traditional = any(m in tag for m in ("hant", "-tw", "-hk", "-mo"))
            return "zh-Hant" if traditional else "zh-Hans"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


def choose(cookie: str | None, accept_language: str | None) -> str:
    return cookie if cookie in LANGUAGES else from_header(accept_language)


def money(minor: int | None, currency: str = "CNY") -> str:
    """An amount in minor units (fen) as the desk writes it: ¥1,288.00."""
    if minor is None:
        return "—"
    symbol = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}.get(currency, currency + " ")
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{abs(minor) / 100:,.2f}"


def day(value: date | str | None, language: str) -> str:
    """A date the way each language writes it (2026-12-02 / 2026年12月2日)."""
    if value is None or value == "":
        return "—"
    when = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    if language.startswith("zh"):
        return f"{when.year}年{when.month}月{when.day}日"
    return when.strftime("%d %b %Y")


def clock(value: datetime | str | None, zone: str = "Asia/Shanghai") -> str:
    """The time of day (HH:MM) of an instant (the API sends UTC) at the property (`zone`)."""
    if value is None or value == "":
        return "—"
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(ZoneInfo(zone)).strftime("%H:%M")
