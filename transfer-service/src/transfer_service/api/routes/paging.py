"""Reading the keyset cursors this API issues (hotel_common.pagination encodes them)."""

from datetime import datetime

from hotel_common.errors import ProblemError


def _invalid() -> ProblemError:
    return ProblemError(400, "invalid_cursor", "The cursor is not one this API issued.")


def int_cursor(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise _invalid() from exc


def time_id_cursor(value: str | None) -> tuple[datetime, str] | None:
    """A `<ISO instant>|<id>` cursor, for lists ordered by a time then an id."""
    if value is None:
        return None
    instant, sep, ident = value.partition("|")
    try:
        parsed = datetime.fromisoformat(instant)
    except ValueError as exc:
        raise _invalid() from exc
    if not sep or not ident or parsed.tzinfo is None:
        raise _invalid()
    return parsed, ident


def time_id_value(instant: datetime, ident: str) -> str:
    return f"{instant.isoformat()}|{ident}"
