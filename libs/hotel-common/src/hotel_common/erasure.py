"""A guest's right to be forgotten, in the tables every service shares.

When guest-service publishes `guest.erased`, each service anonymises its own tables and then
calls `scrub` with the values it was given (emails, phones, names): the copies of the person
that the platform's plumbing keeps are redacted too, in the caller's transaction:

- outbox rows (`outbox.envelope`): published rows are kept a while for inspection, and a row
  still waiting carries the value to the other services. Every string of the envelope is
  rewritten with each value replaced by `REDACTED`, published or not: a waiting event then
  goes out without the person (consumers take it as any other change), and the row's id, type
  and order stay, so nothing is published twice or lost;
- Idempotency-Key records (`idempotency_keys.body`, `.headers`): the stored answer a retry
  would replay; the same redaction, so a retry still gets its answer, without the person.

Values are compared case-insensitively. A value of fewer than `MIN_BYTES` bytes (UTF-8) is
skipped: a short Latin name ("Li") occurs inside unrelated words, while "王芳" (6 bytes) is a
whole name, and an email or an E.164 phone is always longer.

Rows are found in SQL by a LIKE on the column's text (in the value's plain and JSON-escaped
spellings: a JSON column may store "王" as "\\u738b"), then rewritten here. The scan is over
tables that retention keeps small (hotel_common.retention), and erasures are rare.
"""

import json
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from hotel_common.events.outbox import OutboxMessage
from hotel_common.idempotency import IdempotencyRecord

REDACTED = "[erased]"
MIN_BYTES = 3
# What a forgotten guest's name becomes in a service's own rows.
ERASED_NAME = "Erased guest"

T = TypeVar("T")

_outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
_keys = IdempotencyRecord.__table__  # type: ignore[attr-defined]


async def scrub(session: Any, values: Sequence[str]) -> dict[str, int]:
    """Redact `values` wherever the shared tables hold them; return how many rows changed per
    table (`outbox`, `idempotency_keys`). Runs in the caller's transaction (AsyncSession)."""
    wanted = _wanted(values)
    counts = {"outbox": 0, "idempotency_keys": 0}
    if not wanted:
        return counts
    pattern = _pattern(wanted)
    conn = await session.connection()

    found = await conn.execute(
        select(_outbox.c.seq, _outbox.c.envelope).where(_contains(_outbox.c.envelope, wanted))
    )
    for seq, envelope in found.all():
        cleaned = _redact(envelope, pattern)
        if cleaned != envelope:
            await conn.execute(update(_outbox).where(_outbox.c.seq == seq).values(envelope=cleaned))
            counts["outbox"] += 1

    found = await conn.execute(
        select(_keys.c.key, _keys.c.body, _keys.c.headers).where(
            or_(_contains(_keys.c.body, wanted), _contains(_keys.c.headers, wanted))
        )
    )
    for key, body, headers in found.all():
        changes = {
            name: _redact_text(stored, pattern)
            for name, stored in (("body", body), ("headers", headers))
            if stored is not None and pattern.search(_unescaped(stored))
        }
        if changes:
            await conn.execute(update(_keys).where(_keys.c.key == key).values(**changes))
            counts["idempotency_keys"] += 1
    return counts


def erased_email(row_id: str) -> str:
    """The address of no one that replaces a forgotten guest's email on the row `row_id`."""
    return f"erased-{row_id}@erased.invalid"


async def reached_rows(
    session: Any,
    model: type[T],
    key: Any,
    ids: Sequence[str],
    email: Any,
    emails: Sequence[str],
) -> list[T]:
    """The rows of `model` an erasure reaches: those whose `key` column is among `ids`, and
    those whose `email` column is one of `emails` (case-insensitively). A phone alone reaches
    none. AsyncSession (sqlmodel)."""
    reached = [col(key).in_(ids)] if ids else []
    if emails:
        reached.append(func.lower(col(email)).in_([e.lower() for e in emails]))
    if not reached:
        return []
    return list((await session.exec(sqlmodel_select(model).where(or_(*reached)))).all())


async def redact_rows(
    session: Any, model: type[Any], key: Any, ids: Sequence[str], field: str, values: Sequence[str]
) -> None:
    """In the rows of `model` whose `key` column is among `ids`, `field` (JSON-ready) redacted
    of `values`; a row is added back to the session only when it changed."""
    if not ids:
        return
    rows = await session.exec(sqlmodel_select(model).where(col(key).in_(ids)))
    for row in rows.all():
        stored = getattr(row, field)
        cleaned = redact(stored, values)
        if cleaned != stored:
            setattr(row, field, cleaned)
            session.add(row)


def redact(data: Any, values: Sequence[str]) -> Any:
    """`data` (JSON-ready: a service's own JSON column, a note) with `values` redacted in every
    string, by the same rules as `scrub`."""
    wanted = _wanted(values)
    return _redact(data, _pattern(wanted)) if wanted else data


def _wanted(values: Sequence[str]) -> list[str]:
    return sorted({v.strip() for v in values if v and _long_enough(v.strip())}, key=len)


def _pattern(wanted: list[str]) -> re.Pattern[str]:
    # Longest first, so a name inside an email ("li" in "li.wei@...") never splits it.
    return re.compile("|".join(re.escape(v) for v in reversed(wanted)), re.IGNORECASE)


def _long_enough(value: str) -> bool:
    return len(value.encode()) >= MIN_BYTES


def _spellings(value: str) -> set[str]:
    """How `value` may appear in stored text: as it is, and JSON-escaped (ASCII only)."""
    return {value.lower(), json.dumps(value)[1:-1].lower()}


def _contains(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    lowered = func.lower(cast(column, String))
    return or_(
        *(
            lowered.like(f"%{_escape_like(spelling)}%", escape="\\")
            for value in values
            for spelling in _spellings(value)
        )
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _redact(data: Any, pattern: re.Pattern[str]) -> Any:
    """`data` (JSON-ready) with every match in every string (keys included) redacted."""
    if isinstance(data, str):
        return pattern.sub(REDACTED, data)
    if isinstance(data, list):
        return [_redact(item, pattern) for item in data]
    if isinstance(data, dict):
        return {_redact(k, pattern): _redact(v, pattern) for k, v in data.items()}
    return data


def _unescaped(stored: str) -> str:
    try:
        return json.dumps(json.loads(stored), ensure_ascii=False)
    except ValueError:
        return stored


def _redact_text(stored: str, pattern: re.Pattern[str]) -> str:
    """A stored text: JSON is redacted value by value (and written back as JSON), other text
    as it is."""
    try:
        parsed = json.loads(stored)
    except ValueError:
        return pattern.sub(REDACTED, stored)
    return json.dumps(_redact(parsed, pattern), ensure_ascii=False, separators=(",", ":"))
