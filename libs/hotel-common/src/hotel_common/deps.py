"""FastAPI dependencies every service uses, as `Annotated` aliases."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from hotel_common.db import request_transaction
from hotel_common.service import Runtime
from hotel_common.settings import ServiceSettings

# Requests that change nothing: their sessions run without a transaction (db.read_only).
READ_METHODS = frozenset({"GET", "HEAD"})


# Dependencies are `async def` even when they never await: FastAPI runs a plain `def` one in a
# worker thread, a hop that cost more than the function (issue 16's profile).


def _runtime(request: Request) -> Runtime[Any]:
    runtime: Runtime[Any] = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime[Any]:
    return _runtime(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The route's session. In a request that runs in one transaction (a POST with an
    Idempotency-Key, see idempotency.py) it joins that transaction: its commit() releases a
    savepoint, and what the route did commits with the request's stored answer, or not at all.
    A GET or HEAD gets a read-only session: each SELECT autocommits on its own.
    """
    runtime = _runtime(request)
    sessions = runtime.sessions
    if request.method in READ_METHODS and runtime.read_sessions is not None:
        sessions = runtime.read_sessions  # no BEGIN/ROLLBACK round trips (db.read_only)
    joined = request_transaction(request.scope)
    async with sessions() if joined is None else joined.session(sessions) as session:
        yield session


async def get_settings(request: Request) -> ServiceSettings:
    """The service's settings: an instance of its `ServiceSpec.settings_class` (checked when
    the app is built), so a service may alias it with its own class:
    `SettingsDep = Annotated[Settings, Depends(get_settings)]`."""
    return _runtime(request).settings


RuntimeDep = Annotated[Runtime[Any], Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
