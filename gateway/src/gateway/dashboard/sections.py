"""The dashboard's sections: where each is, and which roles see it in the navigation.

The roles follow docs/access.md (admin sees everything); a section a role cannot use would only
answer 403s. Hiding is a convenience: the API refuses what a role may not do on every call.
"""

from dataclasses import dataclass

DESK = ("front_desk", "reservations", "manager")


@dataclass(frozen=True)
class Section:
    key: str  # the locales key under "nav." and the page's name
    path: str
    roles: tuple[str, ...]


SECTIONS = (
    Section("today", "/dashboard/today", DESK),
    Section("rooms", "/dashboard/rooms", (*DESK, "housekeeping")),
    Section("reservations", "/dashboard/reservations", (*DESK, "marketing")),
    Section("dispatch", "/dashboard/dispatch", ("dispatcher", "manager", "front_desk")),
    Section("guests", "/dashboard/guests", (*DESK, "marketing")),
    Section("complaints", "/dashboard/complaints", (*DESK, "marketing")),
    Section("analytics", "/dashboard/analytics", (*DESK, "marketing", "dispatcher")),
)


def visible(roles: frozenset[str]) -> list[Section]:
    return [s for s in SECTIONS if "admin" in roles or roles & set(s.roles)]


def home(roles: frozenset[str]) -> str:
    """Where a signed-in member lands: the first section their roles see."""
    sections = visible(roles)
    return sections[0].path if sections else "/dashboard/account"
