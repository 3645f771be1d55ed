"""The reservations section (issue 22): see docs/dashboard.md ("Reservations").

Search (pages/reservations_search.py), one booking with its panels (each read on its own: a
panel the role may not read says so), and two writes, modify and cancel, each behind a
confirmation screen that shows the money first: the new price (`POST /quotes`) or the
expected cancellation fee (pages/reservations_fee.py). The confirming form carries the
Idempotency-Key of the form that started it, so a double click is one change.
"""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from gateway.dashboard import numbers
from gateway.dashboard.api import Api, ApiError
from gateway.dashboard.pages.reservations_fee import expected_fee
from gateway.dashboard.pages.reservations_search import (
    CHANNELS,
    STATUSES,
    Filters,
    search,
    valid_day,
)
from gateway.dashboard.render import render
from gateway.dashboard.route import page_router
from gateway.dashboard.session import BASE, ApiDep, StaffDep

router = page_router()

WRITERS = ("front_desk", "reservations", "manager")  # may modify and cancel (docs/access.md)
CHANGEABLE = ("requested", "confirmed")
DEFAULT_CHECK_IN = time(14, 0)
DEFAULT_ZONE = "Asia/Shanghai"


@dataclass
class Panel:
    """One panel's data, or why it is missing: `forbidden` (the role may not read it) or an
    API refusal shown in place."""

    data: Any = None
    forbidden: bool = False
    error: ApiError | None = None


async def panel(call: Awaitable[Any]) -> Panel:
    try:
        return Panel(await call)
    except ApiError as exc:
        return Panel(forbidden=exc.status == 403, error=None if exc.status == 403 else exc)


def _url(booking_id: str, **query: str) -> str:
    return f"{BASE}/reservations/{booking_id}" + ("?" + urlencode(query) if query else "")


@router.get("/reservations")
async def reservations_page(request: Request, api: ApiDep) -> Response:
    filters = Filters.of(dict(request.query_params))
    cursor = request.query_params.get("cursor") or None
    bad_days = [
        k
        for k in ("check_in_from", "check_in_to", "stay_on")
        if getattr(filters, k) and not valid_day(getattr(filters, k))
    ]
    results, error = None, None
    if filters.any() and not bad_days:
        try:
            results = await search(api, filters, cursor)
        except ApiError as exc:
            error = exc
    more = None
    if results and results.next_cursor:
        more = f"{BASE}/reservations?" + urlencode(
            {**filters.query(), "cursor": results.next_cursor}
        )
    return render(
        request,
        "pages/reservations.html",
        filters=filters,
        results=results,
        error=error,
        bad_days=bad_days,
        more=more,
        statuses=STATUSES,
        channels=CHANNELS,
    )


async def _room_types(api: Api) -> list[dict[str, Any]]:
    try:
        return await api.items("/room-types")
    except ApiError:
        return []


def _room_assigned(history: list[dict[str, Any]] | None) -> str | None:
    """The room the booking holds: the last `room_number` change in its history."""
    room = None
    for entry in history or []:
        change = (entry.get("changes") or {}).get("room_number")
        if isinstance(change, dict):
            room = change.get("to")
    return room


async def _detail(
    request: Request,
    api: Api,
    staff: Any,
    booking_id: str,
    *,
    modify_error: ApiError | None = None,
    cancel_error: ApiError | None = None,
    modify_form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    booking = await api.get(f"/reservations/{booking_id}")  # a 404 is the error page
    # The panels' reads are independent: at once (each panel() keeps its own refusal).
    history, folio, pickups, notices = await asyncio.gather(
        panel(api.get(f"/reservations/{booking_id}/history")),
        panel(api.get(f"/reservations/{booking_id}/folio")),
        panel(api.items("/transfers", {"reservation_id": booking_id})),
        panel(api.items("/notifications", {"reservation_id": booking_id})),
    )
    may_change = staff.has(*WRITERS) and booking["status"] in CHANGEABLE
    # A refused form is shown again as sent, the booking's values where a field was not sent
    # (a crafted post may send only some: the template must not fail on the others).
    form = {
        "check_in": booking["check_in"],
        "check_out": booking["check_out"],
        "room_type_code": booking["room_type_code"],
        "guests": str(booking["guests"]),
        **(modify_form or {}),
    }
    return render(
        request,
        "pages/reservations_booking.html",
        status_code=status_code,
        booking=booking,
        history=history,
        folio=folio,
        pickups=pickups,
        notices=notices,
        room=_room_assigned(history.data),
        may_change=may_change,
        room_types=await _room_types(api) if may_change else [],
        form=form,
        modify_error=modify_error,
        cancel_error=cancel_error,
        done=request.query_params.get("done", ""),
        zone=DEFAULT_ZONE,
    )


@router.get("/reservations/{booking_id}")
async def booking_page(request: Request, api: ApiDep, staff: StaffDep, booking_id: str) -> Response:
    return await _detail(request, api, staff, booking_id)


def _changes(booking: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The PATCH body: only the fields the form changed."""
    body: dict[str, Any] = {}
    for key in ("check_in", "check_out", "room_type_code"):
        if form.get(key) and form[key] != str(booking[key]):
            body[key] = form[key]
    if form.get("guests") and form["guests"] != str(booking["guests"]):
        guests = numbers.whole(form["guests"])
        body["guests"] = guests if guests is not None else form["guests"]  # bad: the API's 422
    return body


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


@router.post("/reservations/{booking_id}/modify")
async def modify_preview(
    request: Request, api: ApiDep, staff: StaffDep, booking_id: str
) -> Response:
    """The confirmation screen: the new stay priced by `POST /quotes` beside the old price."""
    form = await _form(request)
    booking = await api.get(f"/reservations/{booking_id}")
    changes = _changes(booking, form)
    if not changes:
        return RedirectResponse(_url(booking_id, done="unchanged"), status_code=303)
    stay = {**{k: booking[k] for k in ("check_in", "check_out", "room_type_code")}, **changes}
    try:
        quote = await api.post(
            "/quotes",
            {
                "property_id": booking["property_id"],
                "room_type_code": stay["room_type_code"],
                "rate_plan_code": booking.get("rate_plan_code"),
                "check_in": stay["check_in"],
                "check_out": stay["check_out"],
                "guests": changes.get("guests", booking["guests"]),
            },
        )
    except ApiError as exc:
        return await _detail(
            request,
            api,
            staff,
            booking_id,
            modify_error=exc,
            modify_form=form,
            status_code=exc.status,
        )
    return render(
        request,
        "pages/reservations_modify.html",
        booking=booking,
        changes=changes,
        quote=quote,
        idem=form.get("idem", ""),
    )


@router.post("/reservations/{booking_id}/modify/confirm")
async def modify_confirm(
    request: Request, api: ApiDep, staff: StaffDep, booking_id: str
) -> Response:
    form = await _form(request)
    booking = await api.get(f"/reservations/{booking_id}")
    changes = _changes(booking, form)
    try:
        await api.patch(
            f"/reservations/{booking_id}", changes, idempotency_key=form.get("idem") or None
        )
    except ApiError as exc:
        return await _detail(
            request,
            api,
            staff,
            booking_id,
            modify_error=exc,
            modify_form=form,
            status_code=exc.status,
        )
    return RedirectResponse(_url(booking_id, done="modified"), status_code=303)


async def _property_terms(api: Api, property_id: int) -> tuple[time, str]:
    """The property's check-in time and time zone (arrival, for the policy); the demo
    hotel's if the role may not read the property."""
    try:
        prop = await api.get(f"/properties/{property_id}")
    except ApiError:
        return DEFAULT_CHECK_IN, DEFAULT_ZONE
    return time.fromisoformat(str(prop["check_in_time"])), str(prop["timezone"])


@router.post("/reservations/{booking_id}/cancel")
async def cancel_preview(
    request: Request, api: ApiDep, staff: StaffDep, booking_id: str
) -> Response:
    """The confirmation screen: the fee the booking's policy charges if cancelled now."""
    form = await _form(request)
    booking = await api.get(f"/reservations/{booking_id}")
    check_in_time, zone = await _property_terms(api, booking["property_id"])
    fee, free_until = expected_fee(booking, datetime.now(UTC), check_in_time, zone)
    return render(
        request,
        "pages/reservations_cancel.html",
        booking=booking,
        fee=fee,
        free_until=free_until,
        zone=zone,
        reason=form.get("reason", ""),
        idem=form.get("idem", ""),
    )


@router.post("/reservations/{booking_id}/cancel/confirm")
async def cancel_confirm(
    request: Request, api: ApiDep, staff: StaffDep, booking_id: str
) -> Response:
    form = await _form(request)
    body = {"reason": form["reason"]} if form.get("reason") else None
    try:
        await api.post(
            f"/reservations/{booking_id}/cancel", body, idempotency_key=form.get("idem") or None
        )
    except ApiError as exc:
        return await _detail(
            request, api, staff, booking_id, cancel_error=exc, status_code=exc.status
        )
    return RedirectResponse(_url(booking_id, done="cancelled"), status_code=303)
