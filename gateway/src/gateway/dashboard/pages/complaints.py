"""The complaints section (issue 22): see docs/dashboard.md "Complaints".

The queue (`GET /complaints`) sorted by the running SLA deadline, one case with its steps and
the moves its status allows (`POST /complaints/{id}/transitions`), filing a case for a guest
at the desk (`POST /complaints`), and survey results (`GET /surveys/results`).
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from gateway.dashboard.api import ApiError
from gateway.dashboard.i18n import translator
from gateway.dashboard.pages.complaints_sla import (
    NEXT,
    OPEN_STATUSES,
    clock,
    transition_body,
)
from gateway.dashboard.render import language, render
from gateway.dashboard.route import page_router
from gateway.dashboard.session import BASE, ApiDep, StaffDep

router = page_router()

STATUSES = (*OPEN_STATUSES, "rejected", "guest_informed", "closed")
SEVERITIES = ("critical", "high", "medium", "low")
CATEGORIES = (
    "room", "cleanliness", "noise", "staff", "food", "billing", "booking", "transfer", "other",
)  # fmt: skip
CHANNELS = ("front_desk", "phone", "email", "online_chat", "other")
FILED = (  # the ComplaintCreate fields the desk's form sends
    "name", "email", "phone", "guest_id", "reservation_id", "channel", "category", "severity",
    "subject", "description", "demand",
)  # fmt: skip
COMPENSATIONS = ("none", "refund", "folio_credit", "points", "voucher", "free_transfer")


def _with_clocks(request: Request, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    t = translator(language(request))
    now = datetime.now(UTC)
    rows = [{**case, "clock": clock(case, now, t)} for case in cases]
    return sorted(rows, key=lambda row: row["clock"].sort_key)


def _choices() -> dict[str, Any]:
    return {
        "statuses": STATUSES,
        "severities": SEVERITIES,
        "categories": CATEGORIES,
        "channels": CHANNELS,
        "compensations": COMPENSATIONS,
    }


async def _queue(
    request: Request,
    api: ApiDep,
    status: str = "",
    severity: str = "",
    escalated: str = "",
    **extra: Any,
) -> Response:
    filters = {"status": status, "severity": severity, "escalated": escalated}
    cases: list[dict[str, Any]] = []
    refused: ApiError | None = None
    try:
        cases = await api.items("/complaints", {**filters, "limit": 200})
    except ApiError as exc:  # marketing reads survey results, not cases (403)
        if exc.status != 403:
            raise
        refused = exc
    if not status:  # the queue is what still runs; a status filter shows any
        cases = [c for c in cases if c.get("status") in OPEN_STATUSES]
    status_code = extra.pop("status_code", 200)
    return render(
        request,
        "pages/complaints.html",
        status_code=status_code,
        cases=_with_clocks(request, cases),
        refused=refused,
        filters=filters,
        **_choices(),
        **extra,
    )


@router.get("/complaints")
async def complaints_page(
    request: Request, api: ApiDep, status: str = "", severity: str = "", escalated: str = ""
) -> Response:
    return await _queue(request, api, status, severity, escalated, error=None, filed=None)


@router.post("/complaints")
async def file_complaint(request: Request, api: ApiDep) -> Response:
    """File a case as the desk records it; back to the queue with the problem if refused."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    body: dict[str, Any] = {k: form[k].strip() for k in FILED if form.get(k, "").strip()}
    try:
        case = await api.post("/complaints", body, idempotency_key=form.get("idem"))
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return await _queue(request, api, error=exc, filed=form, status_code=exc.status)
    return RedirectResponse(f"{BASE}/complaints/{case['id']}?filed=1", status_code=303)


@router.get("/complaints/surveys")
async def surveys_page(
    request: Request,
    api: ApiDep,
    staff: StaffDep,
    start: str = "",
    end: str = "",
    period: str = "week",
    about: str = "",
) -> Response:
    today = datetime.now(UTC).date()
    try:
        first = date.fromisoformat(start) if start else today - timedelta(days=90)
        last = date.fromisoformat(end) if end else today
    except ValueError:
        first, last = today - timedelta(days=90), today
    query = {"from": first.isoformat(), "to": last.isoformat(), "period": period, "about": about}
    results: dict[str, Any] | None = None
    error: ApiError | None = None
    try:
        results = await api.get("/surveys/results", query)
    except ApiError as exc:  # desk staff other than managers: 403, shown in place
        if exc.status >= 500:
            raise
        error = exc
    return render(
        request,
        "pages/complaints_surveys.html",
        results=results,
        error=error,
        query={**query, "start": first.isoformat(), "end": last.isoformat()},
    )


async def _case_page(
    request: Request,
    api: ApiDep,
    complaint_id: str,
    *,
    error: ApiError | None = None,
    status_code: int = 200,
    flash: str | None = None,
) -> Response:
    case = await api.get(f"/complaints/{complaint_id}")
    t = translator(language(request))
    return render(
        request,
        "pages/complaints_case.html",
        status_code=status_code,
        case=case,
        sla=clock(case, datetime.now(UTC), t),
        moves=NEXT.get(case["status"], ()),
        error=error,
        flash=flash,
        **_choices(),
    )


@router.get("/complaints/{complaint_id}")
async def complaint_page(
    request: Request, api: ApiDep, complaint_id: str, filed: str = "", moved: str = ""
) -> Response:
    flash = "filed" if filed else ("moved" if moved else None)
    return await _case_page(request, api, complaint_id, flash=flash)


@router.post("/complaints/{complaint_id}/transitions")
async def move_complaint(request: Request, api: ApiDep, complaint_id: str) -> Response:
    """Take one step; a refusal (off the machine, a missing field, a manager's step) is shown
    on the case page with the API's problem."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    body = transition_body(form.get("to", ""), form)
    try:
        await api.post(
            f"/complaints/{complaint_id}/transitions", body, idempotency_key=form.get("idem")
        )
    except ApiError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return await _case_page(request, api, complaint_id, error=exc, status_code=exc.status)
    return RedirectResponse(f"{BASE}/complaints/{complaint_id}?moved=1", status_code=303)


@router.post("/complaints/{complaint_id}/waiting")
async def set_waiting(request: Request, api: ApiDep, complaint_id: str) -> Response:
    """Pause or resume the SLA clock while the case waits on the guest."""
    form = await request.form()
    waiting = form.get("waiting") == "true"
    try:
        await api.put(f"/complaints/{complaint_id}/waiting-on-guest", {"waiting": waiting})
    except ApiError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return await _case_page(request, api, complaint_id, error=exc, status_code=exc.status)
    return RedirectResponse(f"{BASE}/complaints/{complaint_id}?moved=1", status_code=303)
