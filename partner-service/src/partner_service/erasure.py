"""A guest's erasure in the feed (helper: feed): their name, email and phone blanked wherever an
entry of their bookings holds them (the `guest` object, a sign name, a note). Amounts, dates
and codes stay: the partner keeps its accounts."""

from typing import Any

from hotel_common.contracts.guests import GuestErased

ERASED = ""
PERSONAL_KEYS = {"name": ERASED, "email": ERASED, "phone": None}


def blank(payload: dict[str, Any], event: GuestErased) -> dict[str, Any]:
    """A copy of `payload` without the guest of `event`."""
    values = [v for v in [*event.names, *event.emails, *event.phones] if v]
    result = _walk(payload, values)
    assert isinstance(result, dict)
    return result


def _walk(value: Any, values: list[str], key: str | None = None) -> Any:
    if isinstance(value, dict):
        if key == "guest":
            value = {k: PERSONAL_KEYS.get(k, v) for k, v in value.items()}
        return {k: _walk(v, values, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, values) for v in value]
    if isinstance(value, str):
        return _scrub(value, values)
    return value


def _scrub(text: str, values: list[str]) -> str:
    lowered = text.lower()
    for erased in values:
        start = lowered.find(erased.lower())
        while start >= 0:
            text = text[:start] + ERASED + text[start + len(erased) :]
            lowered = text.lower()
            start = lowered.find(erased.lower())
    return text
