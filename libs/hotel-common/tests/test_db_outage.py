"""A database that goes away: every request answers 503 `database_unavailable` with Retry-After
(never 500), nothing is half-written, and the first request after it is back succeeds.

PostgreSQL is reached through a TcpProxy the test cuts; SQLite's outage is its one pooled
connection held elsewhere past the pool timeout.
"""

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Body
from hotel_common.db import drop_database
from hotel_common.deps import SessionDep
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import TcpProxy, running
from pydantic import BaseModel
from sqlalchemy import insert
from sqlmodel import SQLModel

PG_HOST, PG_PORT = "127.0.0.1", 5432

gated = APIRouter(prefix="/api/v1")
GATES: dict[str, asyncio.Event] = {}
ENTERED: dict[str, asyncio.Event] = {}


class NoteIn(BaseModel):
    text: str


@gated.post("/gated-notes", status_code=201)
async def write_when_let(note: Annotated[NoteIn, Body()], session: SessionDep) -> dict:
    """Writes two notes, waits for the test to open its gate, then commits."""
    notes = SQLModel.metadata.tables["toy_notes"]
    await session.exec(insert(notes).values(text=note.text))  # type: ignore[call-overload]
    ENTERED[note.text].set()
    await GATES[note.text].wait()
    await session.exec(insert(notes).values(text=note.text + " (2)"))  # type: ignore[call-overload]
    await session.commit()
    return {"text": note.text}


@pytest.fixture
def spec(toy_spec: ServiceSpec) -> ServiceSpec:
    return dataclasses.replace(toy_spec, routers=[*toy_spec.routers, gated])


def settings_for(url: str, **overrides: object) -> ServiceSettings:
    values: dict = {
        "service_name": "toy-service",
        "database_url": url,
        "retry_delays": [0.01],
        "log_json": False,
        **overrides,
    }
    return ServiceSettings(**values)


def assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "database_unavailable"
    assert int(r.headers["retry-after"]) >= 1


async def written(client: httpx.AsyncClient) -> list[str]:
    r = await client.get("/api/v1/notes")
    assert r.status_code == 200, r.text
    return [n["text"] for n in r.json() if not n["from_event"]]


@pytest.fixture
async def pg_behind_proxy(spec: ServiceSpec) -> AsyncIterator[tuple[httpx.AsyncClient, TcpProxy]]:
    proxy = await TcpProxy(PG_HOST, PG_PORT).start()
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/{name}"
    try:
        async with running(create_service_app(spec, settings_for(url), InMemoryBroker())) as c:
            yield c, proxy
    finally:
        await proxy.close()
        await drop_database(f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}")


async def test_postgresql_cut_answers_503_everywhere_then_recovers(pg_behind_proxy) -> None:
    client, proxy = pg_behind_proxy
    assert (await client.post("/api/v1/notes", json={"text": "before"})).status_code == 201
    proxy.cut()
    assert_unavailable(await client.get("/api/v1/notes"))
    assert_unavailable(await client.post("/api/v1/notes", json={"text": "during"}))
    key = {"Idempotency-Key": "through-the-outage"}
    assert_unavailable(await client.post("/api/v1/notes", json={"text": "keyed"}, headers=key))

    proxy.restore()
    # The first request after the outage succeeds (stale pooled connections are replaced)...
    assert await written(client) == ["before"]
    # ...and the key of a request that met the outage was never taken.
    again = await client.post("/api/v1/notes", json={"text": "keyed"}, headers=key)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert await written(client) == ["before", "keyed"]


@pytest.mark.parametrize("keyed", [True, False], ids=["with-key", "without-key"])
async def test_postgresql_lost_mid_request_answers_503_and_writes_nothing(
    pg_behind_proxy, keyed: bool
) -> None:
    client, proxy = pg_behind_proxy
    text = f"cut-{keyed}"
    GATES[text], ENTERED[text] = asyncio.Event(), asyncio.Event()
    headers = {"Idempotency-Key": text} if keyed else {}
    request = asyncio.create_task(
        client.post("/api/v1/gated-notes", json={"text": text}, headers=headers)
    )
    await asyncio.wait_for(ENTERED[text].wait(), timeout=10)
    proxy.cut()
    GATES[text].set()
    assert_unavailable(await request)

    proxy.restore()
    assert await written(client) == []  # neither of the two notes
    if keyed:
        ENTERED[text].clear()
        again = await client.post("/api/v1/gated-notes", json={"text": text}, headers=headers)
        assert again.status_code == 201 and "idempotent-replayed" not in again.headers
        assert await written(client) == [text, text + " (2)"]


async def test_sqlite_pool_timeout_answers_503_then_recovers(
    spec: ServiceSpec, sqlite_url: str
) -> None:
    app = create_service_app(
        spec, settings_for(sqlite_url, database_pool_timeout_seconds=0.2), InMemoryBroker()
    )
    try:
        async with running(app) as client:
            key = {"Idempotency-Key": "while-held"}
            # Something else holds every pooled SQLite connection past the pool timeout.
            engine = app.state.runtime.engine
            async with contextlib.AsyncExitStack() as held:
                for _ in range(engine.pool.size()):
                    await held.enter_async_context(engine.connect())
                assert_unavailable(await client.get("/api/v1/notes"))
                assert_unavailable(await client.post("/api/v1/notes", json={"text": "plain"}))
                assert_unavailable(
                    await client.post("/api/v1/notes", json={"text": "keyed"}, headers=key)
                )
            again = await client.post("/api/v1/notes", json={"text": "keyed"}, headers=key)
            assert again.status_code == 201 and "idempotent-replayed" not in again.headers
            assert await written(client) == ["keyed"]
    finally:
        await drop_database(sqlite_url)
