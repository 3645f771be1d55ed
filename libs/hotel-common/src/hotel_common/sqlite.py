"""SQLite engines for embedded mode and tests: WAL, IMMEDIATE write transactions."""

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_sqlite_engine(url: str, pool_timeout: float | None = None) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite has one writer at a time, and every transaction here begins IMMEDIATE. One pooled
    # connection per service makes sessions queue in asyncio (a fast hand-off) rather than in
    # SQLite's busy handler, which sleeps in steps of up to 100 ms: measured with
    # bench/journey.py, p99 fell from ~1.3 s to the figures in the README. The busy timeout
    # still covers other processes (a second replica or a migration) on the same file.
    engine = create_async_engine(
        url,
        connect_args={"timeout": 30},
        pool_size=1,
        max_overflow=0,
        pool_timeout=60 if pool_timeout is None else pool_timeout,
        hide_parameters=True,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two read-then-write transactions
        # serialise instead of deadlocking on lock upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
