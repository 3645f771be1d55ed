"""The today section (issue 22): see docs/dashboard.md."""

from fastapi import Request, Response

from gateway.dashboard.render import render
from gateway.dashboard.route import page_router
from gateway.dashboard.session import ApiDep

router = page_router()


@router.get("/today")
async def today_page(request: Request, api: ApiDep) -> Response:
    return render(request, "pages/today.html")
