"""On-time pickups from the jobs themselves, for a caller who may list transfers but not read
`GET /analytics/transfers` (managers only): a dispatcher.

Same definition as the transfer service's (docs/access.md, transfer_analytics): a job is
measured when the driver's arrival on site was recorded (`on_site_at`), on time when that was no
later than the pickup time. Each day's jobs are one `GET /transfers?date=` (up to PAGES pages);
days still to come have nothing measured and are not asked.
"""

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from gateway.dashboard.api import Api

PAGE = 200
PAGES = 5  # per day: 1,000 jobs, far beyond a hotel's day
AT_ONCE = 1  # one day at a time: concurrent lists have hung the embedded platform


async def _day_jobs(api: Api, day: date) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    cursor = None
    for _ in range(PAGES):
        body = await api.get(
            "/transfers", {"date": day.isoformat(), "limit": PAGE, "cursor": cursor}
        )
        jobs += body.get("items", []) if isinstance(body, dict) else []
        cursor = body.get("next_cursor") if isinstance(body, dict) else None
        if not cursor:
            break
    return jobs


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def summarise(jobs: list[dict[str, Any]], start: date, end: date) -> dict[str, Any]:
    """The jobs' figures in the shape of the TransferAnalytics answer (its first fields)."""
    measured = on_time = 0
    for job in jobs:
        if job.get("on_site_at") and job.get("pickup_time"):
            measured += 1
            on_time += _instant(job["on_site_at"]) <= _instant(job["pickup_time"])
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "jobs": len(jobs),
        "by_status": dict(Counter(str(job.get("status")) for job in jobs)),
        "on_time": {
            "measured": measured,
            "on_time": on_time,
            "rate": round(on_time / measured, 4) if measured else None,
        },
        "from_jobs": True,  # the panel says these were counted from the job list
    }


async def on_time_from_jobs(api: Api, start: date, end: date) -> dict[str, Any]:
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(day: date) -> list[dict[str, Any]]:
        async with gate:
            return await _day_jobs(api, day)

    found = await asyncio.gather(*(one(day) for day in days))
    return summarise([job for jobs in found for job in jobs], start, end)
