"""Finding bookings: the filters `GET /reservations` has, and the ones it lacks.

The API filters by status, confirmation number, email and check-in range. A guest's name, the
channel and "in the hotel on a day" it does not: those are applied here to the API's pages
(newest first), reading a few pages at most and handing on the cursor where the scan stopped,
so a "more" link goes on from there. Marketing reads masked contacts; names are not masked.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.dashboard.api import Api

PAGE = 50  # results shown at once
SCAN_PAGE = 200  # the API's largest page, when filtering here
SCAN_PAGES = 5  # pages read for one screen of locally filtered results

STATUSES = (
    "requested",
    "confirmed",
    "checked_in",
    "checked_out",
    "cancelled",
    "no_show",
    "expired",
)
CHANNELS = ("direct_web", "mobile_app", "front_desk")  # and each partner's own code


@dataclass
class Filters:
    name: str = ""
    confirmation_number: str = ""
    email: str = ""
    status: str = ""
    channel: str = ""
    check_in_from: str = ""
    check_in_to: str = ""
    stay_on: str = ""  # in the hotel that night: check_in <= day < check_out

    @classmethod
    def of(cls, query: dict[str, str]) -> "Filters":
        names = cls.__dataclass_fields__
        return cls(**{k: query.get(k, "").strip() for k in names})

    def any(self) -> bool:
        return any(vars(self).values())

    def query(self) -> dict[str, str]:
        """The non-empty filters, for the "more" link."""
        return {k: v for k, v in vars(self).items() if v}

    def api_params(self) -> dict[str, Any]:
        check_in_to = self.check_in_to
        if self.stay_on:  # a stay covering the day began on or before it
            check_in_to = min(filter(None, (check_in_to, self.stay_on)))
        return {
            "confirmation_number": self.confirmation_number or None,
            "email": self.email or None,
            "status": self.status or None,
            "check_in_from": self.check_in_from or None,
            "check_in_to": check_in_to or None,
        }

    def local(self) -> bool:
        return bool(self.name or self.channel or self.stay_on)

    def keeps(self, booking: dict[str, Any]) -> bool:
        """Whether a booking passes the filters the API does not have."""
        if self.name and self.name.casefold() not in str(booking["guest"]["name"]).casefold():
            return False
        if self.channel and booking.get("channel") != self.channel:
            return False
        if self.stay_on:
            day = date.fromisoformat(self.stay_on)
            arrive = date.fromisoformat(booking["check_in"])
            leave = date.fromisoformat(booking["check_out"])
            if not arrive <= day < leave and not (arrive == leave == day):
                return False
        return True


@dataclass
class Results:
    items: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None


async def search(api: Api, filters: Filters, cursor: str | None) -> Results:
    """One screen of bookings matching `filters`, from `cursor` on."""
    params = filters.api_params()
    if not filters.local():
        body = await api.get("/reservations", {**params, "limit": PAGE, "cursor": cursor})
        return Results(list(body.get("items", [])), body.get("next_cursor"))
    found: list[dict[str, Any]] = []
    for _ in range(SCAN_PAGES):
        body = await api.get("/reservations", {**params, "limit": SCAN_PAGE, "cursor": cursor})
        found += [b for b in body.get("items", []) if filters.keeps(b)]
        cursor = body.get("next_cursor")
        if not cursor or len(found) >= PAGE:
            break
    return Results(found, cursor)


def valid_day(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
