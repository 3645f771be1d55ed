"""Gateway health: alive by itself, ready when every service it proxies is ready."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from hotel_common.errors import problem

from gateway.upstream import Upstream

router = APIRouter(tags=["operations"], include_in_schema=False)


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", response_model=None)
async def ready(request: Request) -> JSONResponse | dict[str, Any]:
    upstreams: dict[str, Upstream] = request.app.state.upstreams
    if not upstreams:
        return problem(503, "not_ready", "No services behind this gateway.", services={})
    states = await asyncio.gather(*(u.ready() for u in upstreams.values()))
    services = dict(zip(upstreams, states, strict=True))
    failing = [name for name, state in services.items() if state != "ready"]
    if failing:
        return problem(
            503,
            "not_ready",
            f"Not ready: {', '.join(failing)}.",
            failing=failing,
            services=services,
        )
    return {"status": "ready", "services": services}
