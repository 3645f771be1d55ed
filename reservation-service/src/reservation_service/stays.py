"""Dates of stay: what a valid stay is, and the nights it covers; when its pickup may be.

Dates are the property's local calendar dates, so "today" is taken in the property's time zone.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotel_common.errors import ProblemError
from hotel_common.time import utcnow

from reservation_service.problems import invalid_field


def today_at(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def nights(check_in: date, check_out: date) -> list[date]:
    return [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]


def validate_stay(
    check_in: date,
    check_out: date,
    *,
    today: date,
    max_nights: int,
    max_days_ahead: int,
    where: str,
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
    if (check_in - today).days > max_days_ahead:
        last = today + timedelta(days=max_days_ahead)
        raise invalid_field(
            "check_in_too_far",
            f"{where}.check_in",
            f"Bookings open {max_days_ahead} days ahead: check_in is at most {last.isoformat()}.",
        )
    return count


def validate_arrival(
    arrival: datetime,
    check_in: date,
    timezone: str,
    *,
    window: tuple[timedelta, timedelta],
    min_lead: timedelta,
) -> None:
    """Refuse (422 on body.transfer.arrival_time) a pickup that is past, too soon for dispatch
    to send a driver, or not around check-in: from the check-in day's start (property time)
    minus window[0] to its end plus window[1]."""
    field = "body.transfer.arrival_time"
    now = utcnow()
    if arrival <= now:
        raise invalid_field("arrival_in_past", field, "The arrival time has already passed.")
    zone = ZoneInfo(timezone)
    day_start = datetime.combine(check_in, time(0), zone)
    earliest = day_start - window[0]
    latest = datetime.combine(check_in + timedelta(days=1), time(0), zone) + window[1]
    if not earliest <= arrival < latest:
        raise invalid_field(
            "arrival_outside_stay",
            field,
            f"A pickup is for an arrival from {earliest.isoformat()} to before "
            f"{latest.isoformat()} (around check-in, property time).",
        )
    if arrival < now + min_lead:
        minutes = int(min_lead.total_seconds() // 60)
        raise invalid_field(
            "arrival_too_soon",
            field,
            f"A pickup is booked at least {minutes} minutes before the arrival, so a driver "
            "can be on site in time.",
        )


def check_in_passed(check_in: date, timezone: str) -> ProblemError | None:
    """A 409 for confirming a stay whose check-in day is over: its pickup would be past."""
    today = today_at(timezone)
    if check_in >= today:
        return None
    return ProblemError(
        409,
        "check_in_passed",
        f"The check-in date {check_in.isoformat()} has passed at the property "
        f"(today is {today.isoformat()}); the booking stays requested.",
    )
