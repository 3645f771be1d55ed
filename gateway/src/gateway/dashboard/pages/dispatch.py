"""The dispatch section (issue 22): see docs/dashboard.md, "Dispatch board".

The board region (`/dispatch/board`, a fragment) is what htmx polls every 10 s; the forms that
write (report a breakdown, reassign a job) live outside it, so a poll never replaces a form
being filled in nor the keyboard focus in it. Dispatcher actions are shown to dispatchers only
(a breakdown report to managers too: the API lets them; it refuses anyone else anyway).
"""

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from gateway.dashboard.api import Api, ApiError
from gateway.dashboard.pages import dispatch_board as layout
from gateway.dashboard.render import context, render
from gateway.dashboard.route import page_router
from gateway.dashboard.session import ApiDep, StaffDep

router = page_router()

BASE = "/dashboard/dispatch"
CHANGED = "dispatch-changed"  # the event that refreshes the board at once after an action
TRANSFER_NOTICES = (
    "transfer_assigned",
    "transfer_reassigned",
    "transfer_rescheduled",
    "transfer_cancelled",
    "transfer_no_show",
    "driver_on_site",
)


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else layout.today()
    except ValueError:
        return layout.today()


async def _optional(api: Api, path: str, params: dict[str, Any] | None = None) -> Any:
    """A list the caller's roles may not read (403: vehicles for the front desk, notices for a
    dispatcher, audit for the front desk) is None: the page says so instead of failing."""
    try:
        return await api.items(path, params)
    except ApiError as exc:
        if exc.status == 403:
            return None
        raise


async def _board(api: Api, day: date) -> dict[str, Any]:
    body = await api.get("/dispatch-board", {"date": day.isoformat()})
    vehicles = await _optional(api, "/vehicles", {"limit": 200})
    now = datetime.now(UTC)
    jobs = body["jobs"]
    return {
        "board_day": day,
        "board": body,
        "timeline": layout.timeline(day, jobs, vehicles or [], now),
        "rows": layout.rows(jobs, now),
        "zone": str(layout.ZONE),
        "fleet": vehicles,
    }


@router.get("/dispatch")
async def dispatch_page(
    request: Request, api: ApiDep, staff: StaffDep, date: str | None = None
) -> Response:
    day = _day(date)
    values = await _board(api, day)
    return render(
        request,
        "pages/dispatch.html",
        # The breakdown form's vehicles: dispatchers and managers may report an incident.
        vehicles=(values["fleet"] or []) if staff.has("dispatcher", "manager") else [],
        outcome=None,
        error=None,
        **values,
    )


@router.get("/dispatch/board")
async def dispatch_board(request: Request, api: ApiDep, date: str | None = None) -> Response:
    """The polled region alone."""
    return render(request, "pages/dispatch_board.html", **await _board(api, _day(date)))


def _done(request: Request, template: str, flash: str, redirect: str, **values: Any) -> Response:
    """An htmx form gets its panel back, the flash announced and the board told to refresh;
    a plain form post is sent on to `redirect` (post/redirect/get)."""
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(redirect, status_code=303)
    response = render(request, template, **values)
    response.headers["HX-Trigger"] = json.dumps({"flash": flash, CHANGED: True})
    return response


@router.post("/dispatch/incidents")
async def report_breakdown(
    request: Request,
    api: ApiDep,
    vehicle_id: Annotated[int, Form()],
    description: Annotated[str, Form()],
    idem: Annotated[str | None, Form()] = None,
) -> Response:
    vehicles = await api.items("/vehicles", {"limit": 200})
    values: dict[str, Any] = {"vehicles": vehicles, "outcome": None, "error": None}
    try:
        outcome = await api.post(
            "/incidents",
            {"kind": "vehicle_breakdown", "vehicle_id": vehicle_id, "description": description},
            idempotency_key=idem,
        )
    except ApiError as exc:
        if request.headers.get("hx-request") != "true":
            raise
        return render(request, "pages/dispatch_incident.html", **{**values, "error": exc})
    # The outcome names the jobs by id: fetched to say whose ride went where (a breakdown
    # hits a handful of jobs at most).
    values["outcome"] = {
        key: [await api.get(f"/transfers/{job_id}") for job_id in outcome.get(key, [])[:20]]
        for key in ("reassigned", "escalated")
    }
    flash = context(request)["t"](
        "dispatch.breakdown_done",
        moved=len(outcome.get("reassigned", [])),
        escalated=len(outcome.get("escalated", [])),
    )
    return _done(request, "pages/dispatch_incident.html", flash, BASE, **values)


async def _detail_values(api: Api, transfer_id: str) -> dict[str, Any]:
    job = await api.get(f"/transfers/{transfer_id}")
    audit: list[Any] | None
    try:
        audit = await api.get(f"/transfers/{transfer_id}/audit")
    except ApiError as exc:
        if exc.status != 403:
            raise
        audit = None
    if job.get("reservation_id"):
        params: dict[str, Any] = {"reservation_id": job["reservation_id"], "limit": 100}
    else:  # an ad-hoc ride: no booking, its guest's address
        params = {"email": job["guest"]["email"], "limit": 100}
    notices = await _optional(api, "/notifications", params)
    if notices is not None:
        notices = [n for n in notices if n["kind"] in TRANSFER_NOTICES]
    names: dict[str, dict[int, str]] = {"vehicle": {}, "driver": {}}
    if audit:  # the audit names crews by id: say which car and who (readers of it may list them)
        vehicles = await _optional(api, "/vehicles", {"limit": 200}) or []
        drivers = await _optional(api, "/drivers", {"limit": 200}) or []
        names = {
            "vehicle": {v["id"]: v["plate"] for v in vehicles},
            "driver": {d["id"]: d["name"] for d in drivers},
        }
    return {
        "job": job,
        "audit": audit,
        "names": names,
        "notices": notices,
        "zone": job["property_timezone"],
    }


async def _crew_choices(api: Api, job: dict[str, Any]) -> dict[str, Any]:
    """The fleet for the reassign form: available vehicles that seat the party and active
    drivers, each marked busy when the board shows it on a job meeting this one's window."""
    board = await api.get("/dispatch-board", {"date": job["pickup_date"]})
    taken_vehicles, taken_drivers = layout.busy(board["jobs"], job)
    vehicles = [
        {**v, "busy": v["id"] in taken_vehicles}
        for v in await api.items("/vehicles", {"status": "available", "limit": 200})
        if v["seats"] >= job["passengers"]
    ]
    drivers = [
        {**d, "busy": d["id"] in taken_drivers}
        for d in await api.items("/drivers", {"limit": 200})
        if d["status"] == "active"
    ]
    return {"vehicles": vehicles, "drivers": drivers}


@router.get("/dispatch/jobs/{transfer_id}")
async def job_page(request: Request, api: ApiDep, staff: StaffDep, transfer_id: str) -> Response:
    values = await _detail_values(api, transfer_id)
    crew: dict[str, Any] = {"vehicles": [], "drivers": []}
    if staff.has("dispatcher") and values["job"]["status"] in layout.ACTIVE:
        crew = await _crew_choices(api, values["job"])
    return render(request, "pages/dispatch_job.html", error=None, **crew, **values)


@router.post("/dispatch/jobs/{transfer_id}/assign")
async def reassign(
    request: Request,
    api: ApiDep,
    transfer_id: str,
    vehicle_id: Annotated[int, Form()],
    driver_id: Annotated[int, Form()],
    idem: Annotated[str | None, Form()] = None,
) -> Response:
    error: ApiError | None = None
    try:
        await api.post(
            f"/transfers/{transfer_id}/assign",
            {"vehicle_id": vehicle_id, "driver_id": driver_id},
            idempotency_key=idem,
        )
    except ApiError as exc:
        if request.headers.get("hx-request") != "true":
            raise
        error = exc
    values = await _detail_values(api, transfer_id)
    crew: dict[str, Any] = {"vehicles": [], "drivers": []}
    if values["job"]["status"] in layout.ACTIVE:
        crew = await _crew_choices(api, values["job"])
    page = f"{BASE}/jobs/{transfer_id}"
    if error is not None:
        return render(request, "pages/dispatch_job_main.html", error=error, **crew, **values)
    flash = context(request)["t"]("dispatch.reassigned")
    return _done(request, "pages/dispatch_job_main.html", flash, page, error=None, **crew, **values)
