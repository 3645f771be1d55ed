"""Time: every instant the platform stores, compares or sends is timezone-aware UTC.

`UtcDateTime` is the one column type for instants: `TIMESTAMP WITH TIME ZONE` on PostgreSQL,
text on SQLite, written as UTC and read back aware (SQLite hands stored values back without
their offset; this type puts UTC back). Binding a naive datetime is an error: a naive value
is a bug upstream, not something to guess about. Use it as
`Field(default_factory=utcnow, sa_type=UtcDateTime)`. (SQLModel's own mapping of `datetime`
fields, `sqlmodel.sql.sqltypes.UTCDateTime`, is the same column; spelling this one keeps the
rule visible and independent of SQLModel's version.)
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from sqlalchemy import DateTime, Interval
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.types import TypeDecorator, TypeEngine


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(instant: datetime) -> datetime:
    """`instant` in UTC. A naive one is read as UTC: every instant the platform writes or sends
    is UTC, and SQLite hands timezone-aware columns back without their offset.
    """
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant stored as UTC and read back timezone-aware (UTC) on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def __repr__(self) -> str:
        # What autogenerate writes into a revision (whose template imports hotel_common.time).
        return "UtcDateTime()"

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def coerce_compared_value(self, op: OperatorType | None, value: Any) -> TypeEngine[Any]:
        # `column - timedelta(...)` binds an interval, not an instant.
        return Interval() if isinstance(value, timedelta) else self

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime takes a datetime, not {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime: instants are timezone-aware UTC (hotel_common.time)")
        instant = value.astimezone(UTC)
        # SQLite keeps text: one offset-free UTC spelling keeps its comparisons in order.
        return instant.replace(tzinfo=None) if dialect.name == "sqlite" else instant

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


# Calendar dates and wall-clock times as clients send them: ISO 8601 text only. Pydantic alone
# would also take a number as seconds since 1970 (`?check_in_to=0` is 1970-01-01), which no
# client means; and OpenAPI's `format: time` demands an offset a local time does not have.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


def _iso_text(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: object) -> object:
        if isinstance(value, str) and pattern.fullmatch(value):
            return value
        if isinstance(value, (date, time)) and not isinstance(value, datetime):
            return value  # built in code, not sent
        raise ValueError(f"{what}")

    return BeforeValidator(check)


IsoDate = Annotated[date, _iso_text(_ISO_DATE, "a date is written YYYY-MM-DD")]
LocalTime = Annotated[
    time,
    _iso_text(re.compile(_LOCAL_TIME), "a local time is written HH:MM or HH:MM:SS"),
    WithJsonSchema({"type": "string", "pattern": _LOCAL_TIME, "examples": ["14:00"]}),
]
