"""Dates, instants and money as a guest reads them, in each notice language."""

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS_ZH = ("一", "二", "三", "四", "五", "六", "日")  # the same in simplified and traditional
# Chinese text takes full-width punctuation.
_ZH_OPEN, _ZH_CLOSE, _ZH_COMMA = "\uff08", "\uff09", "\uff0c"

# ISO 4217 minor-unit exponents that are not 2.
_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def money(minor: int, currency: str) -> str:
    """1280000 CNY -> 'CNY 12,800.00' (the ISO code reads the same in every language)."""
    currency = currency.upper()
    exponent = _EXPONENTS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exponent)
    amount = f"{whole:,}" + (f".{frac:0{exponent}d}" if exponent else "")
    return f"{currency} {sign}{amount}"


def day(value: date, language: str) -> str:
    """'Monday 12 May 2025', or in Chinese the year-month-day form with the weekday after it."""
    if language.startswith("zh"):
        weekday = f"星期{_WEEKDAYS_ZH[value.weekday()]}"
        return f"{value.year}年{value.month}月{value.day}日{_ZH_OPEN}{weekday}{_ZH_CLOSE}"
    return f"{_WEEKDAYS_EN[value.weekday()]} {value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def zone(name: str) -> ZoneInfo:
    """The property's zone; an unknown name falls back to UTC, which the notice then states."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone, showing UTC", extra={"time_zone": name})
        return ZoneInfo("UTC")


def zone_label(local: datetime, language: str) -> str:
    """'Asia/Shanghai, UTC+08:00': the zone's name, and its offset at that moment."""
    offset = local.strftime("%z")
    comma = _ZH_COMMA if language.startswith("zh") else ", "
    return f"{local.tzinfo}{comma}UTC{offset[:3]}:{offset[3:]}"


def local_time(instant: datetime, tz: ZoneInfo, language: str, *, with_date: bool = True) -> str:
    """An instant in the property's zone, with the zone named: the guest reads the hotel's clock."""
    local = instant.astimezone(tz)
    clock = f"{local:%H:%M}"
    label = zone_label(local, language)
    if language.startswith("zh"):
        text = f"{day(local.date(), language)}{clock}" if with_date else clock
        return f"{text}{_ZH_OPEN}{label}{_ZH_CLOSE}"
    text = f"{day(local.date(), language)}, {clock}" if with_date else clock
    return f"{text} ({label})"
