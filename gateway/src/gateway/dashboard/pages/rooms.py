"""The Room rack section (issue 22): rooms by floor with housekeeping status and occupant;
mark clean, dirty, out of order, and back in order. See docs/dashboard.md (## Room rack).

"Out of order" here is the room's housekeeping status (`PATCH /rooms/{id}`): the rack's
switch, open-ended, until the room gets another status. A dated out-of-order period
(`/out-of-order-periods`, planned works) that covers tonight is shown too, and "back in
order" ends it. Housekeeping may not read bookings (403): the rack then shows no occupants.
"""

import asyncio
import json
from datetime import timedelta
from itertools import groupby
from typing import Any

from fastapi import Form, Request, Response

from gateway.dashboard.api import Api, ApiError
from gateway.dashboard.i18n import translator
from gateway.dashboard.pages.today_api import all_items, business_day, room_numbers
from gateway.dashboard.render import language, render
from gateway.dashboard.route import page_router
from gateway.dashboard.session import ApiDep

router = page_router()

MARKS = ("clean", "dirty", "out_of_order")
BACK_IN_ORDER = "dirty"  # a room back from works is cleaned and checked before a guest


async def occupants(api: Api) -> dict[str, dict[str, Any]] | None:
    """Room number → the checked-in booking in it; None when the caller may not read bookings."""
    try:
        in_house = await all_items(api, "/reservations", {"status": "checked_in"})
    except ApiError as exc:
        if exc.status == 403:
            return None
        raise
    numbers = await room_numbers(api, [b["id"] for b in in_house])
    return {numbers[b["id"]] or "": b for b in in_house if numbers[b["id"]]}


async def periods_tonight(api: Api) -> dict[int, dict[str, Any]]:
    """Room id → the out-of-order period covering tonight (not ended)."""
    today = business_day()
    try:
        found = await all_items(
            api,
            "/out-of-order-periods",
            {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()},
        )
    except ApiError as exc:
        if exc.status == 403:
            return {}
        raise
    return {p["room_id"]: p for p in found if not p.get("ended_at")}


def _floors(rooms: list[dict[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    ordered = sorted(rooms, key=lambda r: (r["floor"], r["number"]))
    return [(floor, list(group)) for floor, group in groupby(ordered, key=lambda r: r["floor"])]


@router.get("/rooms")
async def rooms_page(request: Request, api: ApiDep) -> Response:
    # Three independent reads, at once.
    rooms, people, periods = await asyncio.gather(
        all_items(api, "/rooms"), occupants(api), periods_tonight(api)
    )
    counts = {
        s: sum(1 for r in rooms if r["housekeeping_status"] == s)
        for s in ("clean", "inspected", "dirty", "out_of_order")
    }
    return render(
        request,
        "pages/rooms.html",
        floors=_floors(rooms),
        occupants=people,
        periods=periods,
        counts=counts,
    )


def _row(
    request: Request,
    room: dict[str, Any],
    occupant: str,
    period: dict[str, Any] | None,
    *,
    hide: bool = False,
    error: ApiError | None = None,
    flash: str | None = None,
) -> Response:
    response = render(
        request,
        "pages/rooms_row.html",
        room=room,
        occupant_name=occupant,
        period=period,
        error=error,
        hide_occupants=hide,
    )
    if flash:
        response.headers["HX-Trigger"] = json.dumps({"flash": flash})
    return response


async def _room(api: Api, room_id: int) -> dict[str, Any]:
    """One room as the rack shows it (the API has no single-room read: the list, found)."""
    for room in await all_items(api, "/rooms"):
        if room["id"] == room_id:
            return dict(room)
    raise ApiError(404, {"code": "room_not_found", "detail": f"Room {room_id} not found."})


@router.post("/rooms/{room_id}/status")
async def mark(
    request: Request,
    api: ApiDep,
    room_id: int,
    status: str = Form(...),
    occupant: str = Form(""),
    hide: str = Form(""),
    idem: str = Form(""),
) -> Response:
    """Set the room's housekeeping status; the row again, with the result announced."""
    t = translator(language(request))
    try:
        room = await api.patch(f"/rooms/{room_id}", {"housekeeping_status": status})
    except ApiError as exc:
        return _row(
            request, await _room(api, room_id), occupant, None, hide=hide == "yes", error=exc
        )
    text = t("rooms.done.marked", room=room["number"], status=t(f"rooms.status.{status}"))
    return _row(
        request,
        room,
        occupant,
        (await periods_tonight(api)).get(room_id),
        hide=hide == "yes",
        flash=text,
    )


@router.post("/rooms/{room_id}/back-in-order")
async def back_in_order(
    request: Request,
    api: ApiDep,
    room_id: int,
    period_id: str = Form(""),
    occupant: str = Form(""),
    hide: str = Form(""),
    idem: str = Form(""),
) -> Response:
    """End tonight's out-of-order period (if any) and lift the out-of-order status."""
    t = translator(language(request))
    try:
        if period_id.isdigit():
            await api.post(f"/out-of-order-periods/{period_id}/end", idempotency_key=idem or None)
        room = await _room(api, room_id)
        if room["housekeeping_status"] == "out_of_order":
            room = await api.patch(f"/rooms/{room_id}", {"housekeeping_status": BACK_IN_ORDER})
    except ApiError as exc:
        return _row(
            request, await _room(api, room_id), occupant, None, hide=hide == "yes", error=exc
        )
    text = t("rooms.done.back", room=room["number"])
    return _row(
        request,
        room,
        occupant,
        (await periods_tonight(api)).get(room_id),
        hide=hide == "yes",
        flash=text,
    )
