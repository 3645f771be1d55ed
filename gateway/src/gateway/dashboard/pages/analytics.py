"""The analytics section (issue 22): the property's figures over a date range, as charts each
with its table. See docs/dashboard.md (Analytics).

The range is of nights (or days), both ends included as the form shows them; the reservation
analytics take `to` exclusive, so they get the day after. Every panel is fetched on its own and
a refusal (403 for the caller's role, or any other problem) is said in that panel only.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response

from gateway.dashboard.api import Api, ApiError
from gateway.dashboard.pages import analytics_panels as panels
from gateway.dashboard.pages.analytics_transfers import on_time_from_jobs
from gateway.dashboard.render import language, render
from gateway.dashboard.route import page_router
from gateway.dashboard.session import ApiDep

router = page_router()

ZONE = ZoneInfo("Asia/Shanghai")  # the demo property's; the API answers in property time
BACK, AHEAD = 30, 14  # the default range: the last 30 days to the next 14
MAX_DAYS = 366  # the API's longest range


def default_range(today: date | None = None) -> tuple[date, date]:
    today = today or datetime.now(ZONE).date()
    return today - timedelta(days=BACK), today + timedelta(days=AHEAD)


def parse_range(first: str | None, last: str | None) -> tuple[date, date, str | None]:
    """The asked range, or the default with the reason it was not taken (a locales key)."""
    default_first, default_last = default_range()
    try:
        start = date.fromisoformat(first) if first else default_first
        end = date.fromisoformat(last) if last else default_last
    except ValueError:
        return default_first, default_last, "analytics.bad_date"
    if end >= date.max - timedelta(days=1):  # the reservation analytics are asked the day after
        return default_first, default_last, "analytics.bad_date"
    if end < start:
        return default_first, default_last, "analytics.bad_order"
    if (end - start).days + 1 > MAX_DAYS:
        return default_first, default_last, "analytics.too_long"
    return start, end, None


async def _attempt(call: Awaitable[Any]) -> Any:
    """The answer, or the ApiError itself (a panel says what was refused)."""
    try:
        return await call
    except ApiError as exc:
        return exc


async def _transfers(api: Api, start: date, end: date, today: date) -> Any:
    """Transfer analytics (managers); a dispatcher gets on-time figures from the jobs they may
    list instead (see analytics_transfers)."""
    answer = await _attempt(api.get("/analytics/transfers", {"from": start, "to": end}))
    if isinstance(answer, ApiError) and answer.status == 403:
        fallback = await _attempt(on_time_from_jobs(api, start, min(end, today)))
        return answer if isinstance(fallback, ApiError) else fallback
    return answer


@router.get("/analytics")
async def analytics_page(
    request: Request,
    api: ApiDep,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Response:
    start, end, problem = parse_range(date_from, date_to)
    today = datetime.now(ZONE).date()
    nights = {"from": start.isoformat(), "to": (end + timedelta(days=1)).isoformat()}
    days = {"from": start.isoformat(), "to": end.isoformat()}
    period = "day" if (end - start).days < 21 else "week"
    fetch: dict[str, Callable[[], Awaitable[Any]]] = {
        "occupancy": lambda: _attempt(api.get("/analytics/occupancy", nights)),
        "pickup": lambda: _attempt(api.get("/analytics/pickup", nights)),
        "channels": lambda: _attempt(api.get("/analytics/channel-mix", nights)),
        "cancellations": lambda: _attempt(api.get("/analytics/cancellations", nights)),
        "stays": lambda: _attempt(api.get("/analytics/stay-patterns", nights)),
        "transfers": lambda: _transfers(api, start, end, today),
        "surveys": lambda: _attempt(api.get("/surveys/results", {**days, "period": period})),
    }
    answers = dict(zip(fetch, await asyncio.gather(*(f() for f in fetch.values())), strict=True))
    built = panels.build(answers, language(request), start, end)
    template = "pages/analytics_panels.html" if request.headers.get("hx-request") else None
    return render(
        request,
        template or "pages/analytics.html",
        panels=built,
        date_from=start.isoformat(),
        date_to=end.isoformat(),
        range_problem=problem,
    )
