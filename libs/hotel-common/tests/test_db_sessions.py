"""Issue 16: read-only request sessions, and pooled connections without a pre-ping.

A GET's SELECTs run without BEGIN/ROLLBACK (PostgreSQL: AUTOCOMMIT), a POST still runs in a
transaction, and a pooled connection the server has closed is skipped at checkout.
"""

import asyncio
import gc
from typing import Any

import asyncpg
import pytest
from hotel_common import context, db
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import eventually, running
from sqlalchemy import event, text
from sqlalchemy.engine import make_url


def toy_app(spec: ServiceSpec, url: str) -> Any:
    settings = ServiceSettings(service_name="toy-service", database_url=url, log_json=False)
    return create_service_app(spec, settings, InMemoryBroker())


class DriverLog:
    """What asyncpg is asked to run as simple queries (BEGIN, COMMIT, ROLLBACK, the pre-ping
    ";") on behalf of a request (not the relay's or a consumer's): prepared statements go
    another way."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries: list[str] = []
        execute, fetchrow = asyncpg.Connection.execute, asyncpg.Connection.fetchrow

        def note(query: str) -> None:
            if context.request_id.get() is not None:
                self.queries.append(query.strip().rstrip(";").upper())

        async def logged_execute(conn: Any, query: str, *args: Any, **kw: Any) -> Any:
            note(query)
            return await execute(conn, query, *args, **kw)

        async def logged_fetchrow(conn: Any, query: str, *args: Any, **kw: Any) -> Any:
            note(query)
            return await fetchrow(conn, query, *args, **kw)

        monkeypatch.setattr(asyncpg.Connection, "execute", logged_execute)
        monkeypatch.setattr(asyncpg.Connection, "fetchrow", logged_fetchrow)


async def test_a_get_runs_its_selects_without_a_transaction_on_postgresql(
    toy_spec: ServiceSpec, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        async with running(toy_app(toy_spec, pg_url)) as client:
            assert (await client.post("/api/v1/notes", json={"text": "a"})).status_code == 201
            log = DriverLog(monkeypatch)
            for _ in range(3):  # the first checkouts, and reused connections
                response = await client.get("/api/v1/notes")
                assert response.status_code == 200
                assert [n["text"] for n in response.json()][:1] == ["a"]
            assert log.queries == []  # no BEGIN, ROLLBACK, nor pre-ping ";"

            assert (await client.post("/api/v1/notes", json={"text": "b"})).status_code == 201
            assert log.queries[0].startswith("BEGIN") and "COMMIT" in log.queries  # a transaction
            assert ";" not in log.queries and "" not in log.queries  # and no pre-ping
    finally:
        await drop_database(pg_url)


async def test_a_get_session_is_autocommit_and_a_post_session_is_not_on_sqlite(
    toy_spec: ServiceSpec, sqlite_url: str
) -> None:
    """SQLite: the GET's connection is AUTOCOMMIT (sqlite.py then skips BEGIN IMMEDIATE), and
    the pooled connection goes back to transactions for the next write."""
    app = toy_app(toy_spec, sqlite_url)
    async with running(app) as client:
        levels: list[str] = []
        engine = app.state.runtime.engine

        @event.listens_for(engine.sync_engine, "begin")
        def _seen(conn: Any) -> None:
            if context.request_id.get() is not None:  # a request's, not the relay's
                levels.append(conn.get_execution_options().get("isolation_level", "default"))

        assert (await client.post("/api/v1/notes", json={"text": "a"})).status_code == 201
        assert (await client.get("/api/v1/notes")).status_code == 200
        assert (await client.post("/api/v1/notes", json={"text": "b"})).status_code == 201
        texts = [n["text"] for n in (await client.get("/api/v1/notes")).json()]
        assert {"a", "b"} <= set(texts)
        event.remove(engine.sync_engine, "begin", _seen)
        assert levels == ["default", "AUTOCOMMIT", "default", "AUTOCOMMIT"]


async def test_no_pre_ping_and_a_connection_the_server_closed_is_skipped_at_checkout(
    toy_spec: ServiceSpec, pg_url: str
) -> None:
    app = toy_app(toy_spec, pg_url)
    try:
        async with running(app) as client:
            engine = app.state.runtime.engine
            assert engine.pool._pre_ping is False
            # Several connections pooled, then every one of them killed by the server.
            await asyncio.gather(*(client.get("/api/v1/notes") for _ in range(4)))
            assert engine.pool.checkedin() >= 1
            await terminate_all(make_url(pg_url).database)

            checked: list[str] = []
            event.listen(engine.sync_engine, "checkout", lambda *a: checked.append("out"))
            for _ in range(3):
                assert (await client.get("/api/v1/notes")).status_code == 200
            assert (await client.post("/api/v1/notes", json={"text": "after"})).status_code == 201
            assert checked  # the pool really handed out connections (new ones)
    finally:
        await drop_database(pg_url)


async def terminate_all(database: str | None) -> None:
    """Have PostgreSQL end every session of `database`, and wait until they are gone."""
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1"
        assert await admin.fetch(sql, database)

        async def alive() -> int:
            sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
            return int(await admin.fetchval(sql, database))

        def none_left(count: int) -> bool:
            return count == 0

        await eventually(alive, none_left)
    finally:
        await admin.close()
    await asyncio.sleep(0.05)  # the event loop reads the closed sockets


async def test_the_first_statement_on_a_pool_whose_connections_were_killed_succeeds(
    pg_url: str,
) -> None:
    """No request in between to fail and invalidate the pool: the checkout alone must skip
    the dead connections (without a pre-ping, the statement would fail: "connection is
    closed")."""
    await db.ensure_database(pg_url)
    engine = db.create_engine(pg_url, pool_size=3)

    async def backend_pid() -> int:
        async with db.read_only(engine).connect() as conn:
            return int(await conn.scalar(text("SELECT pg_backend_pid()")))

    try:
        before = set(await asyncio.gather(*(backend_pid() for _ in range(3))))
        await terminate_all(make_url(pg_url).database)
        assert await backend_pid() not in before
        async with engine.begin() as conn:  # a write transaction too
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()
        await drop_database(pg_url)


async def test_skip_closed_refuses_only_a_closed_driver_connection() -> None:
    class Raw:
        def __init__(self, closed: bool) -> None:
            self.closed = closed

        def is_closed(self) -> bool:
            return self.closed

    class Adapted:
        def __init__(self, closed: bool) -> None:
            self.driver_connection = Raw(closed)

    db._skip_closed(Adapted(False), None, None)
    with pytest.raises(db.DisconnectionError):
        db._skip_closed(Adapted(True), None, None)


async def test_start_up_leaves_its_objects_frozen_out_of_the_collector(
    toy_spec: ServiceSpec, sqlite_url: str
) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    async with running(toy_app(toy_spec, sqlite_url)) as client:
        assert gc.get_freeze_count() > 0
        assert (await client.get("/api/v1/notes")).status_code == 200
    gc.unfreeze()
