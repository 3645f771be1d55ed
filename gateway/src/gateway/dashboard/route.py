"""`DashboardRoute`: what every dashboard route does in one place.

It refuses an unsafe request without the session's CSRF token, sets the cookies the request
queued (new tokens, CSRF), keeps answers out of shared caches, and answers `SignInRequired` (or
an API 401) with the sign-in page (htmx requests get an HX-Redirect instead of a fragment of
it); any other API refusal becomes the error page with the problem's code and detail.
"""

import hmac
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from gateway.dashboard.api import ApiError, SessionEnded
from gateway.dashboard.render import render
from gateway.dashboard.session import BASE, CSRF, CSRF_SHAPE, SignInRequired, forget_tokens

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def safe_next(target: str | None) -> str:
    """Only a plain path inside the dashboard: never an open redirect, nor a dot segment or
    backslash that climbs out of it, nor a control character (CR/LF) for the header."""
    plain = unquote(target or "")
    if (
        target
        and target.startswith(BASE + "/")
        and "\\" not in plain
        and plain.isprintable()
        and not any(part in (".", "..") for part in plain.split("/"))
    ):
        return target
    return BASE


async def _csrf_ok(request: Request) -> bool:
    expected = request.cookies.get(CSRF)
    if not expected or not CSRF_SHAPE.fullmatch(expected):  # a planted value is no token
        return False
    sent = request.headers.get("x-csrf-token")
    if sent is None and "form" in request.headers.get("content-type", ""):
        sent = str((await request.form()).get("csrf", ""))
    return sent is not None and hmac.compare_digest(sent, expected)


def _sign_in_answer(request: Request) -> Response:
    target = BASE + "/sign-in?next=" + quote(request.url.path)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


class DashboardRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            if request.method not in SAFE and not await _csrf_ok(request):
                response: Response = render(request, "error.html", 403, problem_key="csrf")
            else:
                try:
                    response = await handler(request)
                except SignInRequired:
                    response = _sign_in_answer(request)
                except SessionEnded:  # the API refused the token: a forged or ended session
                    forget_tokens(request)
                    response = _sign_in_answer(request)
                except ApiError as exc:
                    if exc.status == 401:
                        forget_tokens(request)
                        response = _sign_in_answer(request)
                    else:
                        response = render(request, "error.html", exc.status, error=exc)
            secure = request.url.scheme == "https"
            for cookie in getattr(request.state, "dashboard_cookies", []):
                response.set_cookie(
                    cookie.name,
                    cookie.value,
                    max_age=cookie.max_age,
                    path=BASE,
                    httponly=cookie.http_only,
                    samesite="strict",
                    secure=secure,
                )
            response.headers.setdefault("cache-control", "no-store")
            return response

        return handle


def page_router() -> APIRouter:
    """A section's router: under /dashboard, every route a DashboardRoute."""
    return APIRouter(prefix=BASE, route_class=DashboardRoute, include_in_schema=False)
