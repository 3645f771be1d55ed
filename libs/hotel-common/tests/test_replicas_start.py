"""Replicas of one service starting at the same moment against a database that does not exist
yet: every one starts (one creates the database, one migrates, the others find it done) and
the schema is at head once."""

import asyncio
import contextlib

import pytest
from alembic.script import ScriptDirectory
from hotel_common.db import drop_database, ensure_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.migrations import _config
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import running
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

REPLICAS = 4


@pytest.mark.parametrize("database", ["missing", "empty"])
async def test_replicas_starting_together_on_a_fresh_postgresql_database_all_start(
    toy_spec: ServiceSpec, pg_url: str, database: str
) -> None:
    if database == "empty":  # the upgrade alone is raced
        await ensure_database(pg_url)
    broker = InMemoryBroker()  # the bus is not what is raced here
    settings = ServiceSettings(service_name="toy-service", database_url=pg_url, log_json=False)
    apps = [create_service_app(toy_spec, settings, broker) for _ in range(REPLICAS)]
    try:
        async with contextlib.AsyncExitStack() as stack:
            # Entered concurrently: each lifespan creates the database and migrates at once.
            async with asyncio.timeout(60):  # without the locks they may also deadlock
                clients = await asyncio.gather(
                    *(stack.enter_async_context(running(app)) for app in apps)
                )
            answers = [await c.get("/health/ready") for c in clients]
            assert [a.status_code for a in answers] == [200] * REPLICAS
            written = await clients[0].post("/api/v1/notes", json={"text": "one"})
            assert written.status_code == 201
            for client in clients:  # one database behind them all
                assert "one" in [n["text"] for n in (await client.get("/api/v1/notes")).json()]
        engine = create_async_engine(pg_url)
        try:
            async with engine.connect() as conn:
                versions = (
                    await conn.execute(text("SELECT version_num FROM alembic_version"))
                ).all()
        finally:
            await engine.dispose()
        head = ScriptDirectory.from_config(_config(toy_spec.migrations_dir)).get_current_head()
        assert [v for (v,) in versions] == [head]
    finally:
        await drop_database(pg_url)
