"""Liveness, readiness and dead-letter operations, mounted on every service."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hotel_common.db import ping
from hotel_common.errors import problem

router = APIRouter(tags=["operations"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", response_model=None)
async def ready(request: Request) -> JSONResponse | dict[str, Any]:
    runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(ping(runtime.engine), timeout=3)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    checks["bus"] = "ok" if await runtime.bus.ready() else "down or queue without consumer"
    if all(v == "ok" for v in checks.values()):
        return {"status": "ready", "checks": checks}
    return problem(
        503, "not_ready", f"{runtime.settings.service_name} is not ready.", checks=checks
    )


@router.get("/admin/dead-letters")
async def dead_letters(request: Request) -> list[dict[str, Any]]:
    parked = await request.app.state.runtime.bus.dead_letters()
    return [e.model_dump(mode="json") for e in parked]


@router.post("/admin/dead-letters/replay")
async def replay_dead_letters(request: Request) -> dict[str, int]:
    return {"replayed": await request.app.state.runtime.bus.replay_dead_letters()}


@router.get("/admin/outbox")
async def outbox(request: Request) -> dict[str, int]:
    relay = request.app.state.runtime.relay
    return await relay.counts() | {"published_by_this_process": relay.published}
