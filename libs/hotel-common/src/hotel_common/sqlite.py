"""SQLite engines for embedded mode and tests: WAL, several connections, one writer at a time.

How a statement runs (measured with bench/journey.py, docs/DECISIONS.md "Issue 16"):

- On the event loop's thread, not in a worker thread. aiosqlite ran each call in the
  connection's thread: cursor, execute, fetch and close were four thread hops per statement,
  each a wake-up of the loop, and the loop sat idle between them. A statement on a local WAL
  file takes microseconds; the hop cost more than the work.
- A statement that finds the database locked by another process (a migration, a second
  replica on the same file) would block the loop in SQLite's busy handler: the loop never
  waits, it gets SQLITE_BUSY at once (busy_timeout 0) and the statement is retried in a
  worker thread that may wait (`BUSY_TIMEOUT_MS`).
- Writes are one at a time per database, queued on an asyncio lock taken by the write
  transaction's BEGIN IMMEDIATE and released at its COMMIT or ROLLBACK: SQLite admits one
  writer, and an asyncio queue hands over at once where SQLite's busy handler sleeps in steps
  of up to 100 ms. Waiting longer than the pool timeout raises sqlalchemy's TimeoutError (a
  503, as a pool timeout is).
- Sessions opened with isolation_level "AUTOCOMMIT" (reads, db.read_only) run no BEGIN: each
  SELECT reads its own WAL snapshot, alongside an open write transaction, on another pooled
  connection.
"""

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_

T = TypeVar("T")

# How long a statement waits, in a worker thread, for another process's lock on the file.
BUSY_TIMEOUT_MS = 30_000
# Connections per database: a session holds its connection across awaits, so this many
# sessions (reads alongside the one writer, and writers queued for the write lock) run at once.
POOL_SIZE = 8


class WriteLock:
    """One write transaction at a time on one database file, in this process."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        # asyncio.timeout, not wait_for: a wait_for cancelled just as the lock was granted can
        # drop the grant and leave the lock held for ever (Python 3.11).
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise sa_exc.TimeoutError(
                f"no write turn on the SQLite database within {self.timeout} s"
            ) from None

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class Driver:
    """The driver-level connection SQLAlchemy's aiosqlite dialect adapts (it speaks
    aiosqlite's interface), running statements on the loop's thread (module docstring)."""

    def __init__(self, conn: sqlite3.Connection, writes: WriteLock) -> None:
        self._connection: sqlite3.Connection | None = conn
        self._writes = writes
        self._writing = False  # holds `_writes`

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._connection is not None and self._connection.in_transaction

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        try:
            return call(*args)
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        # Locked by another process: wait for it off the loop. The statement cannot be
        # stopped in its thread, so a cancelled caller waits for it to end before it goes:
        # otherwise its session would be rolled back and given back to the pool while the
        # statement (a BEGIN IMMEDIATE) still ran, and went on to hold the file's write lock
        # with no one to end it (the loop, too, would block on the connection's mutex).
        waiting = asyncio.ensure_future(asyncio.to_thread(self._patiently, call, *args))
        cancelled: asyncio.CancelledError | None = None
        while not waiting.done():
            try:
                await asyncio.wait({waiting})
            except asyncio.CancelledError as exc:
                cancelled = exc
        if cancelled is not None:
            if not waiting.cancelled():
                waiting.exception()  # retrieved: the caller is cancelled either way
            raise cancelled
        return waiting.result()

    def _patiently(self, call: Callable[..., T], *args: Any) -> T:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            return call(*args)
        finally:
            conn.execute("PRAGMA busy_timeout=0")

    async def begin_immediate(self) -> None:
        await self._writes.acquire()
        self._writing = True
        try:
            await self.run(self._conn.execute, "BEGIN IMMEDIATE")
        except BaseException:
            try:  # a BEGIN that ended after its caller was cancelled (run) is undone
                if self._connection is not None and self._connection.in_transaction:
                    self._connection.rollback()
            finally:
                self._release()
            raise

    def _release(self) -> None:
        if self._writing:
            self._writing = False
            self._writes.release()

    def cursor(self) -> "Cursor":
        return Cursor(self)

    async def commit(self) -> None:
        # Released even if COMMIT fails: the transaction then still holds SQLite's own lock,
        # and the next writer's BEGIN IMMEDIATE waits for it in a worker thread (run).
        try:
            if self._conn.in_transaction:
                await self.run(self._conn.commit)
        finally:
            self._release()

    async def rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                await self.run(self._conn.rollback)
        finally:
            self._release()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        try:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        finally:
            self._release()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


class Cursor:
    """A statement's whole result, read in the same call that ran it."""

    arraysize = 1

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> "Cursor":
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    def _take(self, cur: sqlite3.Cursor) -> "Cursor":
        try:
            self.description = cur.description
            self._rows = cur.fetchall() if cur.description else []
            self.rowcount = cur.rowcount
            self.lastrowid = cur.lastrowid
        finally:
            cur.close()
        return self

    def _execute(self, sql: str, parameters: Sequence[Any] | None) -> "Cursor":
        conn = self._driver._conn
        return self._take(
            conn.execute(sql) if parameters is None else conn.execute(sql, parameters)
        )

    def _executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> "Cursor":
        return self._take(self._driver._conn.executemany(sql, seq))

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> "Cursor":
        return await self._driver.run(self._execute, sql, parameters)

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> "Cursor":
        return await self._driver.run(self._executemany, sql, list(seq))

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        n = self.arraysize if size is None else size
        rows, self._rows = self._rows[:n], self._rows[n:]
        return rows

    async def close(self) -> None:
        self._rows = []


def create_sqlite_engine(url: str, pool_timeout: float | None = None) -> AsyncEngine:
    parsed = make_url(url)
    database = parsed.database or ":memory:"
    memory = database == ":memory:"
    if not memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    timeout = 60 if pool_timeout is None else pool_timeout
    writes = WriteLock(timeout)

    async def connect() -> Driver:
        # isolation_level None: SQLAlchemy, not the sqlite3 module, decides when a
        # transaction begins (see _on_begin). check_same_thread off: a statement that meets
        # another process's lock is retried in a worker thread (Driver.run), never two at once.
        conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        return Driver(conn, writes)

    engine = create_async_engine(
        url,
        async_creator=connect,
        # One connection for ":memory:" (each connection would be its own empty database).
        pool_size=1 if memory else POOL_SIZE,
        max_overflow=0,
        pool_timeout=timeout,
        hide_parameters=True,
    )
    dialect = engine.sync_engine.dialect
    # The driver connection stays in autocommit mode (isolation_level None) whatever the
    # session asks: "AUTOCOMMIT" only means _on_begin runs no BEGIN. Without these, each
    # AUTOCOMMIT checkout and check-in would set the driver's mode and run a PRAGMA.
    dialect.set_isolation_level = lambda dbapi_conn, level: None  # type: ignore[method-assign,assignment]
    dialect.get_isolation_level = lambda dbapi_conn: "SERIALIZABLE"  # type: ignore[method-assign,assignment]

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return  # a read: no transaction, no write lock
        # IMMEDIATE takes SQLite's write lock up front, so two read-then-write transactions
        # serialise instead of failing on lock upgrade; the asyncio lock queues them first.
        driver: Driver = conn.connection.driver_connection
        await_(driver.begin_immediate())

    return engine
