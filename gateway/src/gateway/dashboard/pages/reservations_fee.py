"""The cancellation fee a booking would be charged now, before asking the API to cancel.

The API has no preview of a cancellation (no quote or dry run; `cancellation_fee_amount` is
written only when it cancels), so the dashboard applies the rule of docs/domain.md
("Cancellation policy") to the booking's stored `policy` and shows it as the *expected* fee;
the fee the API then charges is shown from its answer.
"""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_FREE_HOURS = 24  # manual 000 §1.4.2: free until 24 h before arrival, then the first night


def night_amounts(booking: dict[str, Any]) -> list[int]:
    """Each night's room amount over all the booking's rooms (its lines)."""
    lines = booking.get("lines") or [booking]
    nights: list[int] = []
    for line in lines:
        for i, amount in enumerate(line.get("nightly_amounts") or []):
            if i < len(nights):
                nights[i] += int(amount)
            else:
                nights.append(int(amount))
    return nights


def expected_fee(
    booking: dict[str, Any], now: datetime, check_in_time: time, zone: str
) -> tuple[int, datetime]:
    """(fee, end of free cancellation) under the booking's policy if cancelled at `now`."""
    terms = (booking.get("policy") or {}).get("cancellation") or {}
    hours = int(terms.get("free_until_hours", DEFAULT_FREE_HOURS))
    arrival = datetime.combine(
        datetime.fromisoformat(booking["check_in"]).date(), check_in_time, ZoneInfo(zone)
    )
    free_until = arrival - timedelta(hours=hours)
    if booking.get("status") != "confirmed" or now < free_until:
        return 0, free_until
    nights = night_amounts(booking)
    if terms.get("fee") == "percent":
        fee = (sum(nights) * int(terms.get("fee_percent", 0)) + 50) // 100
    else:
        fee = nights[0] if nights else 0
    return max(0, min(fee, int(booking.get("total_amount", 0)))), free_until
