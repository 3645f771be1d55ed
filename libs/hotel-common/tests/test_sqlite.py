"""The embedded SQLite engine: writes one at a time (nothing lost, never "database is
locked"), reads alongside an open write, a write turn that takes too long is a pool timeout,
and another process's lock is waited for off the event loop."""

import asyncio
import sqlite3
from pathlib import Path

import pytest
from hotel_common.sqlite import create_sqlite_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncEngine:
    engine = create_sqlite_engine(f"sqlite+aiosqlite:///{tmp_path}/e.db", pool_timeout=5)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        await conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    await engine.dispose()


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT n FROM counter"))).scalar_one())


async def test_concurrent_read_modify_writes_lose_nothing(engine: AsyncEngine) -> None:
    async def increment() -> None:
        async with engine.begin() as conn:
            n = (await conn.execute(text("SELECT n FROM counter"))).scalar_one()
            await asyncio.sleep(0)  # let the others try to interleave
            await conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(increment() for _ in range(50)))  # any "database is locked" raises
    assert await count(engine) == 50


async def test_a_read_runs_while_a_write_transaction_is_open(engine: AsyncEngine) -> None:
    reads = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.begin() as writer:
        await writer.execute(text("UPDATE counter SET n = 7"))
        async with reads.connect() as reader:
            # The last committed snapshot, at once: no BEGIN IMMEDIATE, no write turn.
            seen = await asyncio.wait_for(reader.scalar(text("SELECT n FROM counter")), 1)
        assert seen == 0
    assert await count(engine) == 7


async def test_a_write_turn_past_the_pool_timeout_is_a_timeout(tmp_path: Path) -> None:
    engine = create_sqlite_engine(f"sqlite+aiosqlite:///{tmp_path}/t.db", pool_timeout=0.2)
    try:
        async with engine.begin():
            with pytest.raises(sa_exc.TimeoutError):
                async with engine.begin() as second:
                    await second.execute(text("SELECT 1"))
        async with engine.begin() as conn:  # the turn was handed back
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_a_writer_cancelled_while_queued_does_not_keep_the_turn(engine: AsyncEngine) -> None:
    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE counter SET n = n + 1"))

    async with engine.begin():
        queued = asyncio.create_task(write())
        await asyncio.sleep(0.05)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
    await asyncio.wait_for(write(), 2)
    assert await count(engine) == 1


async def test_another_process_lock_is_waited_for_off_the_loop(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "e.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # as another process holding the write lock would

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE counter SET n = n + 1"))

    try:
        writing = asyncio.create_task(write())
        ticks = 0
        while ticks < 10:  # the loop keeps running while the write waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not writing.done()
        other.execute("UPDATE counter SET n = 100")
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
    finally:
        other.close()
    assert await count(engine) == 101
