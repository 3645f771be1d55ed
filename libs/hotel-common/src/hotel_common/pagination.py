"""Keyset pagination: one way for every list endpoint to take `limit` and `cursor`.

A list route takes `paging: PagingDep` and hands its filtered query to `keyset_page` with the
columns it is ordered by (the last one unique, e.g. `(created_at, id)` or `(id,)`):

    @router.get("")
    async def list_things(session: SessionDep, paging: PagingDep, status: S | None = None):
        query = select(Thing)
        if status is not None:
            query = query.where(Thing.status == status)
        page = await keyset_page(session, query, paging, col(Thing.id))
        return page.map(ThingPublic.model_validate)

`keyset_page` fetches `limit + 1` rows past the cursor's position; the extra row says whether
there is a next page, whose cursor names the last row kept.

A cursor is bound to where it was issued: it carries a short hash of the route's path and the
request's filters (its query parameters but `limit` and `cursor`). Sent to another endpoint, or
with other filters, it is a 400 `invalid_cursor`, never a silently wrong page. The hash is not
a secret (a client could forge a position); it only tells a misplaced cursor from a good one.
"""

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Integer,
    Row,
    SmallInteger,
    TypeDecorator,
    and_,
    or_,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from hotel_common.errors import ProblemError
from hotel_common.time import as_utc

T = TypeVar("T")
U = TypeVar("U")

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Cursor = Annotated[
    str | None,
    Query(description="next_cursor of the previous page, with the same filters"),
]
# Query parameters that are paging itself, not filters.
PAGING_PARAMETERS = frozenset({"limit", "cursor"})


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None

    def map(self, convert: Callable[[T], U]) -> "Page[U]":
        """The same page with each item converted, e.g. a row to its public schema."""
        return Page(items=[convert(item) for item in self.items], next_cursor=self.next_cursor)


def _invalid() -> ProblemError:
    return ProblemError(
        400,
        "invalid_cursor",
        "The cursor is not one this endpoint issued for these filters; "
        "start again without a cursor.",
    )


def encode_cursor(value: str) -> str:
    """Opaque text of `value` (URL-safe base64 without padding)."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The text `encode_cursor` made (None: no cursor); 400 invalid_cursor if it is not one."""
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid() from exc


def scope_of(path: str, filters: Sequence[tuple[str, str]]) -> str:
    """A short hash naming an endpoint (its route path) and its filters, in any order."""
    text = path + "?" + urlencode(sorted(filters))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()  # a naive instant is read as UTC
    if isinstance(value, int | str):
        return value
    return str(value)  # e.g. a UUID


# A forged position must still be one the database can compare: an integer within the widest
# integer column (int64), an instant that stays within years 1-9999 in UTC, text without NUL.
_INT_RANGE = range(-(2**63), 2**63)


def _from_json(value: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(value, str):
            raise _invalid()
        try:
            instant = datetime.fromisoformat(value)
            if instant.tzinfo is None:
                raise _invalid()
            return as_utc(instant)
        except (ValueError, OverflowError) as exc:
            raise _invalid() from exc
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or value not in _INT_RANGE:
            raise _invalid()
        return value
    if not isinstance(value, str) or "\x00" in value:
        raise _invalid()
    return value


@dataclass(frozen=True)
class Paging:
    """What a list request asked for: `limit`, `cursor`, and the scope a cursor must carry."""

    limit: int
    cursor: str | None
    scope: str

    def position(self, *kinds: type) -> tuple[Any, ...] | None:
        """The position the cursor names, one value per kind (`datetime`, `int`, else text);
        None on the first page. 400 invalid_cursor for a cursor issued elsewhere."""
        raw = decode_cursor(self.cursor)
        if raw is None:
            return None
        try:
            scope, *values = json.loads(raw)
        except (ValueError, TypeError) as exc:
            raise _invalid() from exc
        if scope != self.scope or len(values) != len(kinds):
            raise _invalid()
        return tuple(_from_json(v, k) for v, k in zip(values, kinds, strict=True))

    def cursor_at(self, *position: Any) -> str:
        """The cursor naming `position`, bound to this request's scope."""
        return encode_cursor(json.dumps([self.scope, *(_to_json(v) for v in position)]))

    def page(self, rows: Sequence[T], key: Callable[[T], tuple[Any, ...]]) -> Page[T]:
        """The page of `rows` (fetched with `limit + 1`) and the cursor of the next, if any;
        `key` gives a row's position."""
        items = list(rows[: self.limit])
        more = len(rows) > self.limit
        return Page(items=items, next_cursor=self.cursor_at(*key(items[-1])) if more else None)


async def paging(request: Request, limit: Limit = 50, cursor: Cursor = None) -> Paging:
    """The dependency behind `PagingDep`: the scope is the route's path and its filters."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    filters = [(k, v) for k, v in request.query_params.multi_items() if k not in PAGING_PARAMETERS]
    return Paging(limit=limit, cursor=cursor, scope=scope_of(path, filters))


PagingDep = Annotated[Paging, Depends(paging)]


def _column_kind(column: Any) -> type:
    """How a position in `column` is carried: `datetime`, `int`, else `str` (e.g. a UUID)."""
    sql_type = getattr(column, "expression", column).type
    if isinstance(sql_type, TypeDecorator):  # e.g. UtcDateTime: what it stores
        sql_type = sql_type.impl_instance
    if isinstance(sql_type, DateTime):
        return datetime
    if isinstance(sql_type, Integer | Boolean):  # bool is an int in Python too
        return int
    return str


def after(
    columns: Sequence[Any], position: Sequence[Any], *, descending: bool
) -> ColumnElement[bool]:
    """The rows past `position` in a list ordered by `columns` (all ascending or all
    `descending`): `(c1, c2, ...) > (v1, v2, ...)` spelled so every database reads it."""
    clauses = []
    for i, (column, value) in enumerate(zip(columns, position, strict=True)):
        past = column < value if descending else column > value
        same = (c == v for c, v in zip(columns[:i], position[:i], strict=True))
        clauses.append(and_(*same, past))
    return or_(*clauses)


def _within_postgres_integers(columns: Sequence[Any], position: Sequence[Any]) -> None:
    """400 invalid_cursor for a (forged) position beyond its PostgreSQL integer column."""
    for column, value in zip(columns, position, strict=True):
        kind = getattr(column, "expression", column).type
        if isinstance(kind, Integer) and not isinstance(kind, BigInteger):
            bits = 15 if isinstance(kind, SmallInteger) else 31
            if not -(2**bits) <= value < 2**bits:
                raise _invalid()


def _attribute_key(column: Any) -> str:
    key: str = getattr(column, "key", None) or column.name
    return key


async def keyset_page(
    session: AsyncSession,
    query: Any,
    paging: Paging,
    *order: Any,
    descending: bool = False,
    key: Callable[[Any], tuple[Any, ...]] | None = None,
) -> Page[Any]:
    """One page of `query` ordered by the columns `order` (the last unique), past the cursor.

    Rows are what the query yields (an entity, or a tuple of them when it selects several).
    `key` gives a row's position; by default the `order` attributes of the row's (first)
    entity. Items come back as rows: convert them with `Page.map`.
    """
    kinds = [_column_kind(c) for c in order]
    if (position := paging.position(*kinds)) is not None:
        bind = session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            _within_postgres_integers(order, position)
        query = query.where(after(order, position, descending=descending))
    query = query.order_by(*(c.desc() if descending else c for c in order)).limit(paging.limit + 1)
    rows = list((await session.exec(query)).all())
    if key is None:
        names = [_attribute_key(c) for c in order]

        def key(row: Any) -> tuple[Any, ...]:
            if isinstance(row, Row):  # several entities, or plain columns
                mapping = row._mapping
                return tuple(
                    mapping[name] if name in mapping else getattr(row[0], name) for name in names
                )
            return tuple(getattr(row, name) for name in names)

    return paging.page(rows, key)


# -- legacy: the unscoped helpers of issue 13, until transfer- and notification-service list
# -- through `keyset_page` (issue 14, helper E). Delete this block once nothing imports it.


def split_page(
    rows: Sequence[T], limit: int, key: Callable[[T], str]
) -> tuple[list[T], str | None]:
    page = list(rows[:limit])
    return page, encode_cursor(key(page[-1])) if len(rows) > limit else None


def int_cursor(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    try:
        return None if raw is None else int(raw)
    except ValueError as exc:
        raise _invalid() from exc


def time_id_value(instant: datetime, ident: str) -> str:
    return f"{as_utc(instant).isoformat()}|{ident}"


def time_id_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    stamp, _, ident = raw.partition("|")
    return _from_json(stamp, datetime), ident


def after_time_id(
    time_column: Any, id_column: Any, position: tuple[datetime, str], *, descending: bool
) -> ColumnElement[bool]:
    return after((time_column, id_column), position, descending=descending)
