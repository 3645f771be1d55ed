"""Keyset pagination: `limit` plus an opaque cursor naming the last row seen.

A list fetches `limit + 1` rows; `split_page` keeps `limit` of them and, when the extra row
says there is more, makes the next cursor from the last row kept. A cursor holds one of two
positions: an integer id (`int_cursor`, lists in id order) or an instant and an id
(`time_id_value` / `time_id_cursor` / `after_time_id`, lists ordered by a time, then an id).
"""

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, or_

from hotel_common.errors import ProblemError
from hotel_common.time import as_utc

T = TypeVar("T")

# The query parameters of every list endpoint: `limit: Limit = 50, cursor: Cursor = None`.
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _invalid() -> ProblemError:
    return ProblemError(400, "invalid_cursor", "The cursor is not one this API issued.")


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid() from exc


def split_page(
    rows: Sequence[T], limit: int, key: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """The page of `rows` (fetched with `limit + 1`) and the cursor of the next, if any.

    `key` gives the position of a row, e.g. `str(row.id)` or `time_id_value(...)`.
    """
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, None
    return page, encode_cursor(key(page[-1]))


def int_cursor(cursor: str | None) -> int | None:
    """The id a cursor of a list in id order names (None: first page)."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise _invalid() from exc


def time_id_value(instant: datetime, ident: str) -> str:
    """The position `<ISO instant>|<id>`, the instant in UTC (a naive one is read as UTC)."""
    return f"{as_utc(instant).isoformat()}|{ident}"


def time_id_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The (aware instant, id) a cursor made by `time_id_value` names (None: first page)."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    stamp, _, ident = raw.partition("|")
    try:
        instant = datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise _invalid() from exc
    if not ident or instant.tzinfo is None:
        raise _invalid()
    return instant, ident


def after_time_id(
    time_column: Any, id_column: Any, position: tuple[datetime, str], *, descending: bool
) -> ColumnElement[bool]:
    """The rows past `position` in a list ordered by (time_column, id_column), both ascending
    or both `descending` (newest first): a query's `where` for the next page.
    """
    instant, ident = position
    if descending:
        return or_(time_column < instant, and_(time_column == instant, id_column < ident))
    return or_(time_column > instant, and_(time_column == instant, id_column > ident))
