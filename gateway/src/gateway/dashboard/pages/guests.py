"""The guests section (issue 22): see docs/dashboard.md "Guests".

Search (`GET /guests`), one profile as the API masks it for the caller's role with its stays
(`GET /guests/{id}/history`), loyalty membership (`GET /loyalty/members?guest_id=`), segments
(`GET /segments`) and complaints (`GET /complaints?guest_id=`); merge suggestions
(`GET /guests/merge-suggestions`) merged (`POST /guest-merges`) or dismissed. A part the role
may not read (a 403) is left out of the page rather than failing it.
"""

from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from gateway.dashboard.api import Api, ApiError
from gateway.dashboard.render import render
from gateway.dashboard.route import page_router
from gateway.dashboard.session import BASE, ApiDep

router = page_router()

SEARCH_FIELDS = ("name", "email", "phone", "document")


async def optional(api: Api, path: str, params: dict[str, Any] | None = None) -> Any:
    """A read this role may not make (403) or that finds nothing (404): None, not an error."""
    try:
        return await api.get(path, params)
    except ApiError as exc:
        if exc.status in (403, 404):
            return None
        raise


async def _search_page(
    request: Request, api: ApiDep, query: dict[str, str], **extra: Any
) -> Response:
    guests: list[dict[str, Any]] | None = None
    error: ApiError | None = extra.pop("error", None)
    if any(query.values()):
        try:
            guests = await api.items("/guests", {**query, "limit": 50})
        except ApiError as exc:  # e.g. marketing searching by document: 403, said in place
            if exc.status >= 500:
                raise
            error = exc
    suggestions = await optional(api, "/guests/merge-suggestions", {"limit": 50})
    status_code = extra.pop("status_code", 200)
    return render(
        request,
        "pages/guests.html",
        status_code=status_code,
        query=query,
        guests=guests,
        error=error,
        suggestions=None if suggestions is None else suggestions.get("items", []),
        flash=extra.pop("flash", None),
        **extra,
    )


@router.get("/guests")
async def guests_page(
    request: Request,
    api: ApiDep,
    name: str = "",
    email: str = "",
    phone: str = "",
    document: str = "",
    done: str = "",
) -> Response:
    query = {"name": name.strip(), "email": email.strip(), "phone": phone.strip()}
    if document.strip():
        query["document"] = document.strip()
    flash = done if done in ("dismissed", "merged") else None
    return await _search_page(request, api, query, flash=flash)


@router.post("/guests/merge-suggestions/{suggestion_id}/merge")
async def merge(request: Request, api: ApiDep, suggestion_id: str) -> Response:
    """Merge the absorbed profile into the survivor the staff member chose."""
    form = await request.form()
    body = {
        "survivor_id": str(form.get("survivor_id", "")),
        "absorbed_id": str(form.get("absorbed_id", "")),
        "suggestion_id": suggestion_id,
    }
    try:
        await api.post("/guest-merges", body, idempotency_key=str(form.get("idem") or "") or None)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return await _search_page(request, api, {}, error=exc, status_code=exc.status)
    return RedirectResponse(f"{BASE}/guests/{body['survivor_id']}?merged=1", status_code=303)


@router.post("/guests/merge-suggestions/{suggestion_id}/dismiss")
async def dismiss(request: Request, api: ApiDep, suggestion_id: str) -> Response:
    form = await request.form()
    try:
        await api.post(
            f"/guests/merge-suggestions/{suggestion_id}/dismiss",
            idempotency_key=str(form.get("idem") or "") or None,
        )
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return await _search_page(request, api, {}, error=exc, status_code=exc.status)
    return RedirectResponse(f"{BASE}/guests?done=dismissed", status_code=303)


@router.get("/guests/{guest_id}")
async def guest_page(request: Request, api: ApiDep, guest_id: str, merged: str = "") -> Response:
    guest = await api.get(f"/guests/{guest_id}")
    history = await optional(api, f"/guests/{guest_id}/history")
    members = await optional(api, "/loyalty/members", {"guest_id": guest_id})
    member_items = (members or {}).get("items") or []
    member = member_items[0] if member_items else None
    segments = await optional(api, "/segments", {"limit": 200})
    complaints = await optional(api, "/complaints", {"guest_id": guest_id, "limit": 50})
    return render(
        request,
        "pages/guests_profile.html",
        guest=guest,
        history=history,
        member=member,
        segments=None if segments is None else segments.get("items", []),
        complaints=None if complaints is None else complaints.get("items", []),
        merged=bool(merged),
    )
