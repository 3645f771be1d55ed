"""Unique inserts: a row refused by a unique constraint is a 409, not a 500.

A route checks for the duplicate first (the usual case, with a helpful answer); the constraint
catches the concurrent insert that passed the same check. The insert runs in a savepoint, so a
refusal rolls back only that insert and the caller's transaction goes on. Nothing here commits:
the route or the consumer wrapper owns the transaction.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from hotel_common.errors import ProblemError

RowT = TypeVar("RowT")

# PostgreSQL's SQLSTATE for unique_violation.
_UNIQUE_VIOLATION = "23505"


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a unique constraint (or primary key) refused the statement, not a foreign key,
    check or not-null constraint."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str):
        return sqlstate == _UNIQUE_VIOLATION
    return "UNIQUE constraint failed" in str(orig)  # SQLite


async def try_insert(session: AsyncSession, *rows: Any) -> bool:
    """Insert `rows` in a savepoint; False (and the savepoint rolled back) when a unique
    constraint refuses them. Other integrity errors propagate."""
    try:
        async with session.begin_nested():
            session.add_all(rows)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        return False
    return True


async def insert_unique(session: AsyncSession, row: RowT, code: str, detail: str) -> RowT:
    """Insert `row`; a unique constraint refusing it is a 409 problem `code` with `detail`."""
    if not await try_insert(session, row):
        raise ProblemError(409, code, detail)
    return row


async def locked_or_inserted(
    session: AsyncSession, model: type[RowT], key: Any, new: Callable[[], RowT]
) -> tuple[RowT, bool]:
    """The row of `model` at primary key `key`, locked (FOR UPDATE), `new()` inserted when there
    is none; with whether it was inserted now. Two callers racing to create the first one (two
    replicas, the same PUT twice at once): one inserts, the other is refused by the key and
    reads the winner's row, locked, instead of failing with a 500."""
    row = await session.get(model, key, with_for_update=True)
    if row is not None:
        return row, False
    fresh = new()
    if await try_insert(session, fresh):
        return fresh, True
    row = await session.get(model, key, with_for_update=True, populate_existing=True)
    if row is None:  # refused by the key, yet gone: deleted in between
        raise ProblemError(409, "concurrent_change", "The record changed meanwhile; try again.")
    return row, False
