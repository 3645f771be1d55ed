"""`GET /api/v1/me/trips`: a signed-in guest's bookings with their transfers and latest notices,
in one call for the mobile app.

The three services are asked at once, each with the caller's own principal signed (so each
applies its own rules: a guest sees what is theirs, a booking holder its one booking). A service
that fails costs only its part: the answer says `partial: true` and names it.
"""

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from hotel_common import context
from hotel_common.errors import problems
from hotel_common.principal import HEADER, SCOPE_KEY, Kind, Principal, refused, sign
from pydantic import BaseModel, Field

from gateway.upstream import Upstream, UpstreamError

log = logging.getLogger(__name__)

RESERVATIONS = "reservation-service"
TRANSFERS = "transfer-service"
NOTIFICATIONS = "notification-service"
PAGE = 200  # the most a service lists at once: a guest's trips fit in one page
NOTICES_PER_TRIP = 3

router = APIRouter(tags=["me"])


class Trip(BaseModel):
    reservation_id: str
    reservation: dict[str, Any] | None = Field(
        description="The booking as reservation-service shows it; null if it was unavailable"
    )
    transfers: list[dict[str, Any]] = Field(description="Its airport transfers, in pickup order")
    notices: list[dict[str, Any]] = Field(description="Its latest notices, newest first")


class Trips(BaseModel):
    trips: list[Trip]
    partial: bool = Field(description="True when a service did not answer: its part is missing")
    unavailable: list[str] = Field(description="The services that did not answer")


class Unavailable(Exception):
    pass


async def _fetch(request: Request, caller: Principal, service: str, path: str) -> Any:
    """One service's JSON answer as the caller; `Unavailable` for anything else."""
    upstreams: dict[str, Upstream] = request.app.state.upstreams
    upstream = upstreams.get(service)
    if upstream is None:
        raise Unavailable(service)
    secret = request.app.state.settings.internal_secret
    headers = [
        (b"accept", b"application/json"),
        (HEADER.encode(), sign(caller, secret).encode("ascii")),
        (b"x-request-id", (context.request_id.get() or "").encode("latin-1")),
    ]
    try:
        answer = await upstream.forward("GET", path, headers, b"")
    except UpstreamError as exc:
        log.warning("trips: %s failed: %s", service, exc)
        raise Unavailable(service) from exc
    if answer.status == 404:  # nothing of the caller's there (a booking holder's missing job)
        return None
    if answer.status != 200:
        log.warning("trips: %s answered %s", service, answer.status)
        raise Unavailable(service)
    try:
        return json.loads(answer.body)
    except ValueError as exc:
        raise Unavailable(service) from exc


def _items(page: Any) -> list[dict[str, Any]]:
    items = page.get("items") if isinstance(page, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


@router.get(
    "/api/v1/me/trips",
    response_model=Trips,
    responses=problems(
        {401: "unauthenticated: sign in as a guest", 403: "forbidden: for guests only"}
    ),
)
async def my_trips(request: Request) -> Trips:
    """The caller's bookings, each with its transfers and latest notices.

    For a signed-in guest (all of theirs) or a booking access token holder (that one booking).
    When a service does not answer, what the others said is returned with `partial: true` and
    the service named in `unavailable`.
    """
    caller: Principal | None = request.scope.get(SCOPE_KEY)
    if caller is None:
        caller = await request.app.state.authenticator.authenticate(request)
    if caller.kind not in (Kind.GUEST, Kind.BOOKING):
        raise refused(caller)
    if caller.kind is Kind.BOOKING:
        one = caller.reservation_id or ""
        query = "?" + urlencode({"reservation_id": one, "limit": PAGE})
        calls = {
            RESERVATIONS: f"/api/v1/reservations/{one}",
            TRANSFERS: f"/api/v1/transfers{query}",
            NOTIFICATIONS: f"/api/v1/notifications{query}",
        }
    else:
        query = f"?limit={PAGE}"
        calls = {
            RESERVATIONS: f"/api/v1/reservations{query}",
            TRANSFERS: f"/api/v1/transfers{query}",
            NOTIFICATIONS: f"/api/v1/notifications{query}",
        }
    results = await asyncio.gather(
        *(_fetch(request, caller, service, path) for service, path in calls.items()),
        return_exceptions=True,
    )
    got: dict[str, Any] = {}
    unavailable: list[str] = []
    for service, result in zip(calls, results, strict=True):
        if isinstance(result, Unavailable):
            unavailable.append(service)
        elif isinstance(result, BaseException):
            raise result
        else:
            got[service] = result

    if caller.kind is Kind.BOOKING:
        booking = got.get(RESERVATIONS)
        reservations = [booking] if isinstance(booking, dict) else []
    else:
        reservations = _items(got.get(RESERVATIONS))
    trips: dict[str, Trip] = {}
    for reservation in reservations:
        rid = str(reservation.get("id"))
        trips[rid] = Trip(reservation_id=rid, reservation=reservation, transfers=[], notices=[])
    reservations_known = RESERVATIONS not in unavailable

    def trip_of(item: dict[str, Any]) -> Trip | None:
        rid = item.get("reservation_id")
        if not isinstance(rid, str):
            return None
        if rid not in trips:
            if reservations_known:  # not one of the caller's bookings: not shown
                return None
            trips[rid] = Trip(reservation_id=rid, reservation=None, transfers=[], notices=[])
        return trips[rid]

    for transfer in _items(got.get(TRANSFERS)):
        if (trip := trip_of(transfer)) is not None:
            trip.transfers.append(transfer)
    for notice in _items(got.get(NOTIFICATIONS)):  # newest first
        if (trip := trip_of(notice)) is not None and len(trip.notices) < NOTICES_PER_TRIP:
            trip.notices.append(notice)
    return Trips(trips=list(trips.values()), partial=bool(unavailable), unavailable=unavailable)
