"""The Today section (issue 22): the business day's arrivals, in-house guests and departures
with the desk's quick actions, and occupancy and revenue for today and the next 14 days.
See docs/dashboard.md (## Today).

Every action answers htmx with the whole board re-read (a checked-in arrival moves to
in-house); a refusal is shown in place, under the booking's row, with the board as it is.
"""

import asyncio
import contextlib
import json
from datetime import date, timedelta
from typing import Any

from fastapi import Form, Request, Response

from gateway.dashboard import numbers
from gateway.dashboard.api import Api, ApiError
from gateway.dashboard.i18n import translator
from gateway.dashboard.pages.today_api import ZONE, all_items, business_day, room_numbers
from gateway.dashboard.render import language, render
from gateway.dashboard.route import page_router
from gateway.dashboard.session import ApiDep

router = page_router()

AHEAD = 14  # nights shown after today
LIVE = ("requested", "confirmed", "checked_in")  # an arrival still on today's list
UNROOMED = ("requested",)  # no room can be assigned before the booking is confirmed


async def board(api: Api, today: date) -> dict[str, list[dict[str, Any]]]:
    """Today's arrivals, in-house guests and departures, each booking with its `room`."""
    # The three reads do not depend on each other: at once (in distributed mode the waits
    # overlap; embedded, they share one loop either way).
    arriving, in_house, left = await asyncio.gather(
        all_items(
            api,
            "/reservations",
            {"check_in_from": today.isoformat(), "check_in_to": today.isoformat()},
        ),
        all_items(api, "/reservations", {"status": "checked_in"}),
        # Checked out today: bookings that began in the last 60 days (a longer stay is rare
        # and still shows on the rack); no list filter on check-out or departure time exists.
        all_items(
            api,
            "/reservations",
            {
                "status": "checked_out",
                "check_in_from": (today - timedelta(days=60)).isoformat(),
                "check_in_to": today.isoformat(),
            },
        ),
    )
    arrivals = [b for b in arriving if b["status"] in LIVE]
    departures = [b for b in in_house if b["check_out"] <= today.isoformat()] + [
        b for b in left if b["check_out"] == today.isoformat()
    ]
    # One booking may be in two lists (two reads): each copy gets its room.
    every = [*arrivals, *in_house, *departures]
    # A history read per booking (the booking does not carry its room: docs/performance.md),
    # but none for a booking not yet confirmed: only a confirmed one is given a room.
    roomed = [b["id"] for b in every if b["status"] not in UNROOMED]
    rooms = await room_numbers(api, list(dict.fromkeys(roomed)))
    for booking in every:
        booking["room"] = rooms.get(booking["id"])  # None: not assigned

    def by_name(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda b: (b["guest"]["name"].casefold(), b["id"]))

    return {
        "arrivals": by_name(arrivals),
        "in_house": by_name(in_house),
        "departures": by_name(departures),
    }


async def figures(api: Api, today: date) -> dict[str, Any] | None:
    """Occupancy for today and the next AHEAD nights, and today's movements; None if the
    caller may not read analytics (a 403) or they cannot be had."""
    try:
        occupancy = await api.get(
            "/analytics/occupancy",
            {"from": today.isoformat(), "to": (today + timedelta(days=AHEAD + 1)).isoformat()},
        )
        movements = await api.get("/analytics/day", {"date": today.isoformat()})
    except ApiError as exc:
        if exc.status in (401,):
            raise
        return None
    nights = occupancy.get("nights") or []
    top = max([n["room_revenue"] for n in nights] + [1])
    return {
        "currency": occupancy.get("currency", "CNY"),
        "period": occupancy.get("period") or {},
        "tonight": nights[0] if nights else None,
        "nights": nights,
        "top_revenue": top,
        "day": movements,
    }


async def page(
    request: Request,
    api: Api,
    *,
    problems: dict[str, ApiError] | None = None,
    balances: dict[str, dict[str, Any]] | None = None,
    flash: str | None = None,
) -> Response:
    """The page, or (for htmx) the board alone, with any refusal under its booking's row."""
    today = business_day()
    htmx = request.headers.get("hx-request") == "true"
    if htmx:
        lists, numbers = await board(api, today), None
    else:  # the board and the figures at once
        lists, numbers = await asyncio.gather(board(api, today), figures(api, today))
    values: dict[str, Any] = {
        "today": today,
        "zone": ZONE,
        "board": lists,
        "problems": problems or {},
        "balances": balances or {},
    }
    if htmx:
        response = render(request, "pages/today_board.html", **values)
    else:
        response = render(request, "pages/today.html", figures=numbers, **values)
    if flash:
        response.headers["HX-Trigger"] = json.dumps({"flash": flash})
    return response


def _t(request: Request) -> Any:
    return translator(language(request))


@router.get("/today")
async def today_page(request: Request, api: ApiDep) -> Response:
    return await page(request, api)


async def _act(request: Request, api: Api, booking_id: str, done_key: str, call: Any) -> Response:
    """Run one write; the board with a flash, or with the refusal under the booking's row."""
    try:
        answer = await call
    except ApiError as exc:
        balances: dict[str, dict[str, Any]] = {}
        if exc.code == "folio_unsettled":
            with contextlib.suppress(ApiError):  # the refusal alone still says the balance
                balances[booking_id] = await api.get(f"/reservations/{booking_id}/folio")
        return await page(request, api, problems={booking_id: exc}, balances=balances)
    name = (answer or {}).get("guest", {}).get("name") if isinstance(answer, dict) else None
    room = (answer or {}).get("room_number", "") if isinstance(answer, dict) else ""
    text = _t(request)(done_key, name=name or "", room=room or "")
    return await page(request, api, flash=text)


@router.post("/today/{booking_id}/confirm")
async def confirm(request: Request, api: ApiDep, booking_id: str, idem: str = Form("")) -> Response:
    call = api.post(f"/reservations/{booking_id}/confirm", idempotency_key=idem or None)
    return await _act(request, api, booking_id, "today.done.confirmed", call)


@router.get("/today/{booking_id}/assign")
async def assign_form(request: Request, api: ApiDep, booking_id: str) -> Response:
    """The room suggestions for one booking, as a small form in its row."""
    try:
        suggestions = await api.items(f"/reservations/{booking_id}/room-suggestions", {"limit": 10})
        error = None
    except ApiError as exc:
        suggestions, error = [], exc
    return render(
        request,
        "pages/today_assign.html",
        booking_id=booking_id,
        suggestions=suggestions,
        error=error,
    )


@router.post("/today/{booking_id}/assign-room")
async def assign_room(
    request: Request,
    api: ApiDep,
    booking_id: str,
    room_id: str = Form(""),
    idem: str = Form(""),
) -> Response:
    # An empty choice (the "best room" button) lets the API pick its best suggestion.
    room = numbers.whole(room_id)
    body = {"room_id": room} if room is not None else {}
    try:
        assignment = await api.post(
            f"/reservations/{booking_id}/assign-room", body, idempotency_key=idem or None
        )
    except ApiError as exc:
        return await page(request, api, problems={booking_id: exc})
    text = _t(request)("today.done.assigned", room=assignment.get("room_number", ""))
    return await page(request, api, flash=text)


@router.get("/today/{booking_id}/check-in")
async def check_in_form(request: Request, api: ApiDep, booking_id: str) -> Response:
    """The desk's check-in form: the ID seen, and the deposit taken."""
    return render(request, "pages/today_check_in.html", booking_id=booking_id)


def _deposit_minor(text: str) -> int | None:
    """A deposit typed in yuan (e.g. 500 or 500.50) in fen; blank: the property's default."""
    if not text.strip():
        return None
    amount = numbers.fen(text)
    return -1 if amount is None else amount  # the API refuses a negative amount with its problem


@router.post("/today/{booking_id}/check-in")
async def check_in(
    request: Request,
    api: ApiDep,
    booking_id: str,
    document_type: str = Form("passport"),
    issuing_country: str = Form(""),
    last4: str = Form(""),
    attested: str = Form(""),
    deposit: str = Form(""),
    method: str = Form("card_terminal"),
    idem: str = Form(""),
) -> Response:
    body: dict[str, Any] = {
        "id_verification": {
            "document_type": document_type,
            "issuing_country": issuing_country.strip().upper() or None,
            "last4": last4.strip() or None,
            "attested": attested == "yes",
        },
        "deposit": {"amount": _deposit_minor(deposit), "method": method},
    }
    call = api.post(f"/reservations/{booking_id}/check-in", body, idempotency_key=idem or None)
    return await _act(request, api, booking_id, "today.done.checked_in", call)


@router.post("/today/{booking_id}/check-out")
async def check_out(
    request: Request, api: ApiDep, booking_id: str, idem: str = Form("")
) -> Response:
    call = api.post(f"/reservations/{booking_id}/check-out", idempotency_key=idem or None)
    return await _act(request, api, booking_id, "today.done.checked_out", call)
