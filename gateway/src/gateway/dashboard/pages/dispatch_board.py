"""The dispatch board's picture of a day: lanes (one per vehicle, an "unassigned" lane first),
each job a block placed by time, and the same jobs as table rows with what needs attention first.

Pure functions over the API's `GET /dispatch-board` jobs (and `GET /vehicles` when the caller
may list them): no I/O here, so the layout is easy to reason about and test.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")  # the demo hotel's zone: the board's day and clock
WIDTH = 1000  # the SVG's user units across the timeline (the lane labels sit left of it)
LABEL = 190  # units left of the timeline for a lane's vehicle and driver
LANE = 44  # a lane's height
HEAD = 28  # the hour ruler's height
ACTIVE = ("requested", "assigned")  # crew can still change: the dispatcher's to watch
RISK_FLAGS = ("uncovered", "escalated", "unknown_place")


def when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def alerts(job: dict[str, Any], now: datetime) -> list[str]:
    """Why a job needs a dispatcher: `unassigned` (no crew), `late` (the driver should be on
    site by now but has not set off), or a risk flag of the platform's (uncovered, escalated,
    unknown_place). `shared` is not an alert."""
    found: list[str] = []
    if job.get("vehicle") is None and job["status"] == "requested":
        found.append("unassigned")
    on_site = when(job.get("driver_on_site_at"))
    if job["status"] in ACTIVE and on_site is not None and now >= on_site:
        found.append("late")
    found += [f for f in job.get("flags") or [] if f in RISK_FLAGS and f != "uncovered"]
    return found


@dataclass
class Block:
    job: dict[str, Any]
    x: float
    width: float
    label: str
    alerts: list[str]


@dataclass
class Lane:
    key: str  # "unassigned" or the vehicle's id
    vehicle: dict[str, Any] | None
    drivers: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Timeline:
    start: datetime
    end: datetime
    hours: list[tuple[float, str]]  # an x and its "HH:00" mark
    lanes: list[Lane]
    height: int
    now_x: float | None


def window(day: date, jobs: list[dict[str, Any]]) -> tuple[datetime, datetime]:
    """Whole hours from the earliest on-site time to the latest end, at least six hours."""
    starts = [t for j in jobs if (t := when(j.get("driver_on_site_at")))]
    ends = [t for j in jobs if (t := when(j.get("ends_at")))]
    midnight = datetime.combine(day, time(0), ZONE)
    start = min(starts, default=midnight + timedelta(hours=6)).astimezone(ZONE)
    start = start.replace(minute=0, second=0, microsecond=0)
    end = max(ends, default=start).astimezone(ZONE)
    end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if end - start < timedelta(hours=6):
        end = start + timedelta(hours=6)
    return start, end


def _label(job: dict[str, Any], width: float) -> str:
    """As much of "pickup guest flight" as fits the block (about 7 units a character)."""
    text = " ".join(
        part
        for part in (
            (when(job["pickup_time"]) or datetime.now(UTC)).astimezone(ZONE).strftime("%H:%M"),
            job["guest_name"],
            job.get("flight_number") or "",
        )
        if part
    )
    room = max(int(width / 7), 0)
    return text if len(text) <= room else (text[: room - 1] + "…" if room > 1 else "")


def timeline(
    day: date, jobs: list[dict[str, Any]], vehicles: list[dict[str, Any]], now: datetime
) -> Timeline:
    start, end = window(day, jobs)
    scale = WIDTH / (end - start).total_seconds()

    def x_of(moment: datetime) -> float:
        return round(LABEL + (moment - start).total_seconds() * scale, 1)

    lanes: dict[str, Lane] = {"unassigned": Lane("unassigned", None)}
    for vehicle in vehicles:
        lanes[str(vehicle["id"])] = Lane(str(vehicle["id"]), vehicle)
    for job in jobs:
        crew_vehicle = job.get("vehicle")
        key = str(crew_vehicle["id"]) if crew_vehicle else "unassigned"
        lane = lanes.setdefault(key, Lane(key, crew_vehicle))
        driver = (job.get("driver") or {}).get("name")
        if driver and driver not in lane.drivers:
            lane.drivers.append(driver)
        begin = when(job["driver_on_site_at"]) or start
        finish = when(job["ends_at"]) or begin
        x = x_of(max(begin, start))
        width = max(x_of(min(finish, end)) - x, 6.0)
        lane.blocks.append(Block(job, x, round(width, 1), _label(job, width), alerts(job, now)))
    hours = []
    mark = start
    while mark <= end:
        hours.append((x_of(mark), mark.strftime("%H:00")))
        mark += timedelta(hours=1)
    ordered = list(lanes.values())
    now_x = x_of(now) if start <= now <= end else None
    return Timeline(start, end, hours, ordered, HEAD + LANE * len(ordered), now_x)


def rows(jobs: list[dict[str, Any]], now: datetime) -> list[tuple[dict[str, Any], list[str]]]:
    """The table: jobs needing attention first (unassigned before other alerts), then the
    rest, each group in pickup order (the API's order is kept: the sort is stable)."""
    tagged = [(job, alerts(job, now)) for job in jobs]
    return sorted(tagged, key=lambda pair: 0 if "unassigned" in pair[1] else 1 if pair[1] else 2)


def busy(jobs: list[dict[str, Any]], job: dict[str, Any]) -> tuple[set[int], set[int]]:
    """Vehicles and drivers with another live job of the board meeting this job's window: a
    hint on the reassign form (the API's crew rules, turnaround included, decide)."""
    begin, finish = when(job["driver_on_site_at"]), when(job["ends_at"])
    vehicles: set[int] = set()
    drivers: set[int] = set()
    for other in jobs:
        if other["id"] == job["id"] or other["status"] in ("completed", "no_show", "cancelled"):
            continue
        o_begin, o_finish = when(other["driver_on_site_at"]), when(other["ends_at"])
        if begin and finish and o_begin and o_finish and o_begin < finish and begin < o_finish:
            if other.get("vehicle"):
                vehicles.add(int(other["vehicle"]["id"]))
            if other.get("driver"):
                drivers.add(int(other["driver"]["id"]))
    return vehicles, drivers


def today() -> date:
    return datetime.now(ZONE).date()
