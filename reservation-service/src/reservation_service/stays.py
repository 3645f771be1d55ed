"""Dates of stay: what a valid stay is, and the nights it covers.

Dates are the property's local calendar dates, so "today" is taken in the property's time zone.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reservation_service.problems import invalid_field


def today_at(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def nights(check_in: date, check_out: date) -> list[date]:
    return [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]


def validate_stay(
    check_in: date, check_out: date, *, today: date, max_nights: int, where: str
) -> int:
    """Return the number of nights, or raise a 422 naming the field (`where`: body or query)."""
    if check_out <= check_in:
        raise invalid_field(
            "check_out_not_after_check_in",
            f"{where}.check_out",
            "check_out must be after check_in.",
        )
    count = (check_out - check_in).days
    if count > max_nights:
        raise invalid_field(
            "stay_too_long", f"{where}.check_out", f"A stay is at most {max_nights} nights."
        )
    if check_in < today:
        raise invalid_field(
            "check_in_in_past",
            f"{where}.check_in",
            f"check_in is before today ({today.isoformat()}) at the property.",
        )
    return count
