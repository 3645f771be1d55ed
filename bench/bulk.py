"""Loading a benchmark's rows fast: PostgreSQL's COPY (asyncpg's binary copy), SQLite's
executemany on the driver, both inside the caller's transaction.

A Core `insert(table)` with a list of rows spent more time in SQLAlchemy (parameters built and
processed per row, a multi-row statement per chunk) and, on PostgreSQL, in the server's parsing
of those statements than in storing the rows. Here each column's bind processor still runs, so
a sealed column (guest_service.crypto.Encrypted) is sealed and a JSON one serialised exactly as
the service would write them; a column a row leaves out takes the column's Python default (as a
Core insert does) or its server default.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

# SQLite keeps 2 MiB of pages by default: 100,000 rows with random (uuid, keyed hash) index
# keys then read pages back at every insert. 128 MiB (what the hot index pages of 100,000
# guests need) for the loading connection only, while it loads.
SQLITE_CACHE_KIB = 128 * 1024


def _default(table: Table, name: str) -> Any:
    default = table.c[name].default
    if default is None:
        return None
    arg = getattr(default, "arg", None)
    return arg(None) if callable(arg) else arg


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts keyed by column name) into `table` on `conn`, in its transaction."""
    if not rows:
        return
    names = list(rows[0])
    missing = [c.name for c in table.columns if c.name not in names and c.default is not None]
    dialect = conn.dialect
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type._cached_bind_processor(dialect) for name in names
    ]
    pairs = list(zip(names, processors, strict=True))
    records = [
        tuple(p(row[n]) if p else row[n] for n, p in pairs)
        + tuple(_default(table, n) for n in missing)
        for row in rows
    ]
    columns = names + missing
    raw: Any = (await conn.get_raw_connection()).driver_connection  # asyncpg's, or ours
    if dialect.name == "postgresql":
        await raw.copy_records_to_table(table.name, records=records, columns=columns)
        return
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    await conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        await raw.cursor().executemany(sql, records)
    finally:  # the pooled connection goes back with SQLite's default cache
        await conn.exec_driver_sql("PRAGMA cache_size=-2000")
