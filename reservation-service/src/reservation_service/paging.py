"""Keyset paging over the shared cursor format: fetch limit + 1 rows, the extra says "more"."""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from hotel_common.errors import ProblemError
from hotel_common.pagination import decode_cursor, encode_cursor

T = TypeVar("T")

_BAD_CURSOR = "The cursor is not one this API issued."


def split_page(rows: list[T], limit: int, key: Callable[[T], str]) -> tuple[list[T], str | None]:
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1]))


def int_cursor(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ProblemError(400, "invalid_cursor", _BAD_CURSOR) from exc


def time_id_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """A cursor made of an instant and an id, for lists ordered newest first."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    stamp, _, ident = raw.partition("|")
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise ProblemError(400, "invalid_cursor", _BAD_CURSOR) from exc
    if not ident or when.tzinfo is None:
        raise ProblemError(400, "invalid_cursor", _BAD_CURSOR)
    return when, ident
