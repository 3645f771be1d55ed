"""hotel_common.time.UtcDateTime: aware UTC in, aware UTC out, on SQLite and PostgreSQL."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from hotel_common import db
from hotel_common.time import IsoDate, LocalTime, UtcDateTime
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import StatementError

metadata = sa.MetaData()
instants = sa.Table(
    "toy_instants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UtcDateTime, nullable=True),
)
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def engine(
    request: pytest.FixtureRequest, sqlite_url: str, pg_url: str
) -> AsyncIterator[sa.ext.asyncio.AsyncEngine]:
    url = sqlite_url if request.param == "sqlite" else pg_url
    await db.ensure_database(url)
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield engine
    finally:
        await engine.dispose()
        await db.drop_database(url)


async def test_instants_come_back_aware_utc_whatever_offset_they_were_written_with(
    engine: sa.ext.asyncio.AsyncEngine,
) -> None:
    written = datetime(2026, 5, 1, 20, 30, tzinfo=SHANGHAI)
    async with engine.begin() as conn:
        await conn.execute(instants.insert(), [{"id": 1, "at": written}, {"id": 2, "at": None}])
    async with engine.connect() as conn:
        rows = dict((await conn.execute(sa.select(instants.c.id, instants.c.at))).all())
    assert rows[1] == written and rows[1].tzinfo == UTC
    assert rows[1].hour == 12
    assert rows[2] is None


async def test_comparisons_order_instants_not_their_spelling(
    engine: sa.ext.asyncio.AsyncEngine,
) -> None:
    # 12:00 UTC written as Shanghai time sorts after 11:00 UTC, though "20:00" > "11:00" anyway
    # and "10:00+08" (02:00 UTC) would sort wrongly as text.
    early = datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI)  # 02:00 UTC
    late = datetime(2026, 5, 1, 11, 0, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(instants.insert(), [{"id": 1, "at": late}, {"id": 2, "at": early}])
    async with engine.connect() as conn:
        order = (await conn.execute(sa.select(instants.c.id).order_by(instants.c.at))).scalars()
        assert list(order) == [2, 1]
        cutoff = datetime(2026, 5, 1, 12, 0, tzinfo=SHANGHAI)  # 04:00 UTC
        found = await conn.execute(sa.select(instants.c.id).where(instants.c.at < cutoff))
        assert list(found.scalars()) == [2]


async def test_a_naive_datetime_is_refused(engine: sa.ext.asyncio.AsyncEngine) -> None:
    async with engine.begin() as conn:
        with pytest.raises(StatementError, match="naive datetime"):
            await conn.execute(instants.insert(), [{"id": 1, "at": datetime(2026, 5, 1, 12)}])


@pytest.mark.parametrize("bad", ["0", 0, 1.5, "2026-1-2", "2026-01-02T00:00", "02/01/2026", ""])
def test_a_date_is_iso_text_never_a_number(bad: object) -> None:
    dates = TypeAdapter(IsoDate)
    assert dates.validate_python("2026-01-02") == date(2026, 1, 2)
    with pytest.raises(ValidationError):
        dates.validate_python(bad)


@pytest.mark.parametrize("bad", ["24:00", "14", 3600, "14:00:00Z", "14:00+08:00", "9:00"])
def test_a_local_time_is_documented_as_what_it_accepts(bad: object) -> None:
    times = TypeAdapter(LocalTime)
    assert times.validate_python("14:00") == time(14, 0) == times.validate_python("14:00:00")
    schema = times.json_schema()
    assert "format" not in schema  # OpenAPI's "time" needs an offset a local time has not
    assert re.fullmatch(schema["pattern"].strip("^$"), times.dump_python(time(14, 0), mode="json"))
    with pytest.raises(ValidationError):
        times.validate_python(bad)
