"""The dashboard's own routes (sign-in, sign-out, language, account), its static files, and
each section's router (pages/)."""

from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Form, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from gateway.dashboard import i18n, sections
from gateway.dashboard.api import Api, ApiError
from gateway.dashboard.pages import (
    analytics,
    complaints,
    dispatch,
    guests,
    reservations,
    rooms,
    today,
)
from gateway.dashboard.render import render
from gateway.dashboard.route import page_router, safe_next
from gateway.dashboard.session import (
    BASE,
    LANG,
    REFRESH,
    Cookie,
    StaffDep,
    claims_of,
    csrf_token,
    forget_tokens,
    keep_tokens,
    queue_cookie,
)

STATIC = Path(__file__).parent / "static"

router = page_router()


@router.get("")
async def start(request: Request) -> Response:
    token = request.cookies.get("hotel_access") or ""
    if not token and not request.cookies.get(REFRESH):
        return RedirectResponse(BASE + "/sign-in", status_code=303)
    roles = frozenset(claims_of(token).get("roles") or ())
    return RedirectResponse(sections.home(roles), status_code=303)


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return render(request, "signin.html", next=safe_next(next), failed=None)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    api = Api(request, None)
    try:
        answer = await api.call(
            "POST", "/auth/token", data={"username": email, "password": password}
        )
    except ApiError as exc:
        return render(request, "signin.html", exc.status, next=safe_next(next), failed=exc)
    finally:
        await api.aclose()
    access = keep_tokens(request, answer)
    roles = frozenset(claims_of(access).get("roles") or ())
    target = safe_next(next)
    return RedirectResponse(sections.home(roles) if target == BASE else target, status_code=303)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    forget_tokens(request)
    return RedirectResponse(BASE + "/sign-in", status_code=303)


@router.get("/language")
async def choose_language(request: Request, lang: str, next: str | None = None) -> Response:
    """Switch the interface language (a plain link: works without scripts, by keyboard)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LANGUAGES:
        queue_cookie(request, Cookie(LANG, lang, 365 * 86400, http_only=False))
    csrf_token(request)
    return response


@router.get("/account")
async def account(request: Request, staff: StaffDep) -> Response:
    """Where a member whose roles see no section lands (a driver: the driver app)."""
    return render(request, "account.html")


def install(app: FastAPI) -> None:
    """Serve the dashboard at /dashboard on the gateway `app`."""
    app.mount(BASE + "/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(router)
    for page in (today, rooms, reservations, dispatch, guests, complaints, analytics):
        app.include_router(page.router)
