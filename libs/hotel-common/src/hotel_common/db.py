"""Database engine and sessions: SQLite (WAL, IMMEDIATE transactions) or PostgreSQL (asyncpg)."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from hotel_common.sqlite import create_sqlite_engine

log = logging.getLogger(__name__)

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(url: str, pool_size: int = 10, pool_timeout: float | None = None) -> AsyncEngine:
    """`pool_timeout`: how long a request waits for a pooled connection (None: 30 s on
    PostgreSQL, 60 s on SQLite); past it the request answers 503 (see errors.py)."""
    # hide_parameters: a statement error (logged, or raised into a traceback) must not print
    # the bound values - guests' names, emails and phones (see hotel_common.logging).
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pool_pre_ping: on asyncpg it costs three round trips per checkout (BEGIN, ";",
        # ROLLBACK). A connection the server closed is caught at checkout for free instead
        # (_skip_closed), old ones are replaced (pool_recycle), and one that dies unnoticed fails
        # its request with a 503 while the pool drops every older connection (docs/DECISIONS.md,
        # Issue 16). LIFO: the few busy connections stay warm (their prepared-statement caches
        # hit) and the rest idle out through pool_recycle.
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_recycle=POOL_RECYCLE_SECONDS,
            pool_use_lifo=True,
            hide_parameters=True,
            pool_timeout=30 if pool_timeout is None else pool_timeout,
        )
        event.listen(engine.sync_engine, "checkout", _skip_closed)
        return engine

    return create_sqlite_engine(url, pool_timeout)


# A pooled PostgreSQL connection older than this is replaced at its next checkout (before any
# server- or firewall-side idle limit cuts it silently).
POOL_RECYCLE_SECONDS = 1800


def _skip_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection whose socket is already closed (server restart,
    pg_terminate_backend, idle timeout): the pool discards it and checks out another, before
    the request has run a statement. No round trip: asyncpg learns of the close from the
    event loop while the connection idles."""
    raw = getattr(dbapi_connection, "driver_connection", None)
    is_closed = getattr(raw, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("pooled connection closed by the server")


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """`engine` for sessions that only read (GET, HEAD): AUTOCOMMIT, so each SELECT is one
    round trip with no BEGIN/ROLLBACK around it on PostgreSQL, and SQLite reads the WAL
    without taking the write lock (sqlite.py skips BEGIN IMMEDIATE). Same pool as `engine`.
    Each statement sees its own snapshot: a read needing one consistent view of several
    statements must use a normal session."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def create_session_factory(engine: AsyncEngine, **info: Any) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, info=info)


# Callbacks run after a session commits, e.g. waking the outbox relay. Keyed in session.info.
AFTER_COMMIT = "after_commit_hooks"
# In a session that joined a RequestTransaction, its commit only releases a savepoint: the
# hooks are handed to the request transaction, which runs them after its real commit.
_DEFER_TO = "after_commit_deferred_to"


@event.listens_for(Session, "after_commit")
def _run_after_commit_hooks(session: Session) -> None:
    hooks: list[Callable[[], None]] = session.info.pop(AFTER_COMMIT, [])
    deferred: list[Callable[[], None]] | None = session.info.get(_DEFER_TO)
    if deferred is not None:
        deferred.extend(hooks)
        return
    run_hooks(hooks)


def run_hooks(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # a wake-up that fails must not turn a committed request into an error
            log.exception("after-commit hook failed")


def after_commit(session: AsyncSession, hook: Callable[[], None]) -> None:
    """Run `hook` once this session's transaction commits (never on rollback)."""
    session.sync_session.info.setdefault(AFTER_COMMIT, []).append(hook)


@event.listens_for(Session, "after_rollback")
def _drop_hooks_on_rollback(session: Session) -> None:
    session.info.pop(AFTER_COMMIT, None)


@dataclass
class RequestTransaction:
    """One connection in one open transaction that a whole request runs in (see
    idempotency.py): the sessions the request's routes get join it, and their commit() or
    rollback() only release or roll back a savepoint. Whoever opened it commits it, then calls
    `committed()` so the hooks staged by those sessions run after the real commit."""

    connection: AsyncConnection
    hooks: list[Callable[[], None]] = field(default_factory=list)

    def session(self, factory: SessionFactory) -> AsyncSession:
        """A session of `factory` joined to this transaction (SQLAlchemy's "joining a Session
        into an external transaction" recipe)."""
        return factory(
            bind=self.connection,
            join_transaction_mode="create_savepoint",
            info={_DEFER_TO: self.hooks},
        )

    def committed(self) -> None:
        hooks, self.hooks[:] = list(self.hooks), []
        run_hooks(hooks)


# Where an ASGI scope's "state" holds the request's RequestTransaction, if it has one.
REQUEST_TRANSACTION = "hotel.request_transaction"


def request_transaction(scope: Any) -> RequestTransaction | None:
    found = (scope.get("state") or {}).get(REQUEST_TRANSACTION)
    return found if isinstance(found, RequestTransaction) else None


@asynccontextmanager
async def transaction(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on any error."""
    async with factory() as session, session.begin():
        yield session


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


# First key of the two-key advisory locks the library takes (a keyspace apart from one-key locks).
LOCK_NAMESPACE = 0x484F54  # "HOT"
MIGRATION_LOCK = 1  # second key; advisory locks are per database, so a constant is enough


async def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist (SQLite: nothing).

    Replicas start together: an advisory lock keyed by the database name, taken on the admin
    connection, lets one create it while the others wait, then find it. "Already exists"
    (a process that does not take the lock) is tolerated by looking again.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    key = {"ns": LOCK_NAMESPACE, "n": parsed.database}
    exists_sql = text("SELECT 1 FROM pg_database WHERE datname = :n")
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:ns, hashtext(:n))"), key)
            try:
                if not await conn.scalar(exists_sql, {"n": parsed.database}):
                    try:
                        await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
                    except DBAPIError:
                        if not await conn.scalar(exists_sql, {"n": parsed.database}):
                            raise
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:ns, hashtext(:n))"), key)
    finally:
        await admin.dispose()


async def lock_for_migrations(conn: AsyncConnection) -> None:
    """Serialise schema upgrades of one database: call first in the upgrade's transaction.

    The lock is held to commit, so a replica that waited sees the schema at head and does
    nothing (PostgreSQL; SQLite's IMMEDIATE transaction already admits one writer).
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :k)"),
            {"ns": LOCK_NAMESPACE, "k": MIGRATION_LOCK},
        )


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        if parsed.database and parsed.database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)  # noqa: ASYNC240 (tiny, rare)
        return
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        await admin.dispose()
