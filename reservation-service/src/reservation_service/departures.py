"""The departure drop-off a booking asks for (issue 18): checked like the arrival pickup, around
the check-out day instead of the check-in day, and kept on the reservation as JSON."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotel_common.time import utcnow

from reservation_service.config import Settings
from reservation_service.models import DepartureIn
from reservation_service.problems import invalid_field

FIELD = "body.departure"


def validate_departure(
    departure: datetime, check_out: date, timezone: str, settings: Settings
) -> None:
    """Refuse (422 on body.departure.departure_time) a departure that is past, too soon for
    dispatch, or not around check-out: from the check-out day's start (property time) minus
    the arrival window's lead to that day's end plus its trail."""
    field = f"{FIELD}.departure_time"
    now = utcnow()
    if departure <= now:
        raise invalid_field("departure_in_past", field, "The departure time has already passed.")
    zone = ZoneInfo(timezone)
    before, after = settings.arrival_window
    earliest = datetime.combine(check_out, time(0), zone) - before
    latest = datetime.combine(check_out + timedelta(days=1), time(0), zone) + after
    if not earliest <= departure < latest:
        raise invalid_field(
            "departure_outside_stay",
            field,
            f"A drop-off is for a departure from {earliest.isoformat()} to before "
            f"{latest.isoformat()} (around check-out, property time).",
        )
    if departure < now + settings.transfer_min_lead:
        minutes = int(settings.transfer_min_lead.total_seconds() // 60)
        raise invalid_field(
            "departure_too_soon",
            field,
            f"A drop-off is booked at least {minutes} minutes before the departure.",
        )


def check_passengers(passengers: int, guests: int) -> None:
    if passengers > guests:
        raise invalid_field(
            "too_many_passengers",
            f"{FIELD}.passengers",
            "A transfer carries at most the booking's guests.",
        )


def departure_of(
    data: DepartureIn, check_out: date, guests: int, timezone: str, settings: Settings
) -> dict[str, Any]:
    """The checked departure as Reservation.departure keeps it."""
    validate_departure(data.departure_time, check_out, timezone, settings)
    stored = data.stored(guests)
    check_passengers(stored["passengers"], guests)
    return stored


def recheck(
    stored: dict[str, Any], check_out: date, guests: int, timezone: str, settings: Settings
) -> None:
    """A kept departure after the stay or the party changed."""
    departure = datetime.fromisoformat(stored["departure_time"])
    validate_departure(departure, check_out, timezone, settings)
    check_passengers(int(stored["passengers"]), guests)
