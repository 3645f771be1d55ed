"""Complaint SLA clocks and the steps a case may take next (docs/domain.md "Complaints").

The API gives each case its two deadlines (`response_due_at`: a first answer, validated or
rejected; `resolution_due_at`: the guest told); which one runs depends on the status. The
steps mirror the service's machine so the page offers only moves that can succeed; the API
still decides (a manager-only approval is refused for others and shown as the problem).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.dashboard import numbers

NEXT: dict[str, tuple[str, ...]] = {
    "received": ("validated", "rejected"),
    "validated": ("assigned",),
    "assigned": ("investigating",),
    "investigating": ("remedy_proposed",),
    "remedy_proposed": ("approved", "remedied"),
    "approved": ("remedied",),
    "remedied": ("guest_informed",),
    "guest_informed": ("closed",),
}
# The clock stops once the guest has the answer (rejected) or the outcome (informed).
STOPPED = frozenset({"rejected", "guest_informed", "closed"})
OPEN_STATUSES = tuple(s for s in NEXT if s not in STOPPED)


@dataclass(frozen=True)
class Clock:
    """One case's SLA clock: which deadline runs, when it falls, and how it reads."""

    kind: str  # "response" | "resolution" | "stopped"
    due: datetime | None
    state: str  # "ok" | "warn" | "bad" | "paused" | "stopped"
    text: str

    @property
    def sort_key(self) -> float:
        return self.due.timestamp() if self.due else float("inf")


def instant(value: str | None) -> datetime | None:
    if not value:
        return None
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def duration(seconds: float, t: Callable[..., str]) -> str:
    """A span as the desk says it: "2 h 10 min", "3 d 4 h", "15 min"."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return t("complaints.span_dh", d=days, h=hours)
    if hours:
        return t("complaints.span_hm", h=hours, m=mins)
    return t("complaints.span_m", m=mins)


def clock(case: dict[str, Any], now: datetime, t: Callable[..., str]) -> Clock:
    status = str(case.get("status"))
    if status in STOPPED:
        return Clock("stopped", None, "stopped", t("complaints.sla_stopped"))
    kind = "response" if status == "received" else "resolution"
    due = instant(case.get(f"{kind}_due_at"))
    if due is None:
        return Clock(kind, None, "stopped", t("complaints.sla_stopped"))
    if case.get("waiting_on_guest"):
        return Clock(kind, due, "paused", t("complaints.sla_paused"))
    left = (due - now).total_seconds()
    if left < 0:
        return Clock(kind, due, "bad", t("complaints.sla_overdue", span=duration(-left, t)))
    state = "warn" if left < 3600 else "ok"
    return Clock(kind, due, state, t("complaints.sla_left", span=duration(left, t)))


def transition_body(to: str, form: dict[str, str]) -> dict[str, Any]:
    """The Transition body for step `to` from the form: only that step's fields, blanks out."""
    fields = {
        "validated": ("severity",),
        "rejected": ("reason",),
        "assigned": ("department", "owner"),
        "remedy_proposed": ("cause", "responsible", "remedy"),
        "guest_informed": ("guest_reaction",),
    }.get(to, ())
    body: dict[str, Any] = {"to": to}
    for name in ("note", *fields):
        if value := form.get(name, "").strip():
            body[name] = value
    if to == "remedy_proposed" and (kind := form.get("compensation_kind", "none")) != "none":
        compensation: dict[str, Any] = {"kind": kind}
        if kind == "points":
            compensation["points"] = _number(form.get("points"))
        elif kind != "free_transfer":
            compensation["amount"] = _fen(form.get("amount"))
            compensation["currency"] = "CNY"
        body["compensation"] = compensation
    return body


def _number(value: str | None) -> int | str | None:
    text = (value or "").strip()
    number = numbers.whole(text)
    return number if number is not None else (text or None)  # a bad value: the API's 422


def _fen(value: str | None) -> int | str | None:
    """Yuan typed by staff as fen (minor units), what the API takes."""
    text = (value or "").strip()
    amount = numbers.fen(text) if text else None
    return amount if amount is not None else (text or None)  # a bad value: the API's 422
