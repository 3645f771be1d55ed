"""Who is signed in to the dashboard, and the cookies that carry it.

The staff member's access and refresh tokens (from `POST /api/v1/auth/token`) live in HttpOnly,
SameSite=Strict cookies scoped to /dashboard: page scripts never see a token. An access token
near its end is exchanged for a new pair (`POST /api/v1/auth/refresh`) before the page's calls.
Every unsafe request carries the session's CSRF token (a form field or the X-CSRF-Token header
htmx sends), compared with its cookie (double submit) in `routes.DashboardRoute`.

The roles read from the token only choose what the navigation shows: the API decides what the
staff member may see and do, on every call.
"""

import asyncio
import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from gateway.dashboard.api import Api, ApiError

BASE = "/dashboard"
ACCESS = "hotel_access"
REFRESH = "hotel_refresh"
CSRF = "hotel_csrf"
LANG = "hotel_lang"
# What `secrets.token_urlsafe(24)` makes. The cookie's value is written into the page (the
# <body hx-headers> JSON, form fields): anything else (a cookie planted by a sibling host or
# over plain HTTP) is replaced, never reflected.
CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")
REFRESH_AHEAD = 30  # seconds: refresh a token this close to its end
REFRESH_MAX_AGE = 14 * 86400  # the gateway's refresh_token_days default
# A renewal's answer is shared, this long, with the other requests that present the same
# refresh cookie: requests a browser sent before it stored the new cookies (a double click,
# a page and its htmx poll, two tabs). Each refresh token is good for one use only, and the
# gateway takes a second use as theft and revokes the sign-in: without the sharing, the
# second request would sign the member out.
# Short: a refresh token presented again after this is a replay, and revokes the sign-in.
RENEWAL_SHARED_SECONDS = 10


class SignInRequired(Exception):
    """No session, or one that can no longer be refreshed: answered with the sign-in page."""


@dataclass
class Cookie:
    name: str
    value: str
    max_age: int | None
    http_only: bool = True


@dataclass
class Staff:
    """The signed-in staff member, as the token says (display only: the API enforces)."""

    token: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.claims.get("sub", ""))

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.claims.get("roles") or ())

    @property
    def properties(self) -> list[int] | None:
        return self.claims.get("properties")

    @property
    def driver_id(self) -> int | None:
        return self.claims.get("driver_id")

    def has(self, *roles: str) -> bool:
        """Whether the member holds one of `roles` (admin holds every role)."""
        return "admin" in self.roles or bool(self.roles & set(roles))


def claims_of(token: str) -> dict[str, Any]:
    """The token's claims, unverified: the gateway verifies it on every API call."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def queue_cookie(request: Request, cookie: Cookie) -> None:
    """Set on the answer by routes.DashboardRoute (dependencies cannot reach the response)."""
    request.state.dashboard_cookies = [*getattr(request.state, "dashboard_cookies", []), cookie]


def keep_tokens(request: Request, answer: dict[str, Any]) -> str:
    access = str(answer["access_token"])
    queue_cookie(request, Cookie(ACCESS, access, int(answer.get("expires_in", 900))))
    if answer.get("refresh_token"):
        queue_cookie(request, Cookie(REFRESH, str(answer["refresh_token"]), REFRESH_MAX_AGE))
    return access


def forget_tokens(request: Request) -> None:
    queue_cookie(request, Cookie(ACCESS, "", 0))
    queue_cookie(request, Cookie(REFRESH, "", 0))


async def current_staff(request: Request) -> Staff:
    """The signed-in staff member; refreshes a token near its end; `SignInRequired` if none."""
    token = request.cookies.get(ACCESS)
    claims = claims_of(token) if token else {}
    if not token or claims.get("exp", 0) < time.time() + REFRESH_AHEAD:
        refresh = request.cookies.get(REFRESH)
        if not refresh:
            raise SignInRequired
        try:
            answer = await _renewed(request, refresh)
        except ApiError as exc:
            forget_tokens(request)
            raise SignInRequired from exc
        token = keep_tokens(request, answer)
        claims = claims_of(token)
    if claims.get("kind") != "staff":
        raise SignInRequired
    staff = Staff(token, claims)
    request.state.staff = staff
    return staff


@dataclass
class _Renewal:
    """One refresh token's exchange: running, then its answer kept a while for latecomers."""

    answer: "asyncio.Future[dict[str, Any]]"
    started: float


async def _renewed(request: Request, refresh: str) -> dict[str, Any]:
    """`POST /auth/refresh` once per refresh token in this gateway process: requests that
    present the same token while (or shortly after) it is exchanged share the answer.
    (Gateways in several processes do not share it: a sticky session keeps a browser on one.)"""
    renewals: dict[str, _Renewal] | None = getattr(request.app.state, "dashboard_renewals", None)
    if renewals is None:
        renewals = request.app.state.dashboard_renewals = {}
    now = time.monotonic()
    for key in [k for k, r in renewals.items() if now - r.started > RENEWAL_SHARED_SECONDS]:
        del renewals[key]
    key = hashlib.sha256(refresh.encode()).hexdigest()
    if (shared := renewals.get(key)) is not None:
        return dict(await asyncio.shield(shared.answer))
    renewal = _Renewal(asyncio.get_running_loop().create_future(), now)
    renewals[key] = renewal
    api = Api(request, None)
    try:
        answer = await api.post("/auth/refresh", {"refresh_token": refresh})
    except BaseException as exc:
        renewals.pop(key, None)  # a refusal is not kept: the next request asks again
        # Those waiting get the refusal; if this request failed otherwise (its client went
        # away), the token may be spent with its answer lost: they sign in again.
        refusal = exc if isinstance(exc, ApiError) else ApiError(401, {"detail": "renewal lost"})
        renewal.answer.set_exception(refusal)
        renewal.answer.exception()  # retrieved: no "never retrieved" warning without waiters
        raise
    finally:
        await api.aclose()
    renewal.answer.set_result(answer)
    return dict(answer)


async def staff_api(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> Any:
    """The API as the signed-in staff member, closed when the request ends."""
    api = Api(request, staff.token)
    try:
        yield api
    finally:
        await api.aclose()


StaffDep = Annotated[Staff, Depends(current_staff)]
ApiDep = Annotated[Api, Depends(staff_api)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token: the cookie's, or a new one set on this answer."""
    token = request.cookies.get(CSRF)
    if not token or not CSRF_SHAPE.fullmatch(token):
        token = getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
        queue_cookie(request, Cookie(CSRF, token, None))
    return token
