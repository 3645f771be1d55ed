"""partner-service's migrations: at head they match the models (a model changed without its
revision fails here), and p21a_feed adds the feed's projections to a database whose feed
already has entries, keeping them (SQLite and PostgreSQL)."""

from collections.abc import AsyncIterator
from pathlib import Path

import partner_service
import partner_service.models
import pytest
import sqlalchemy as sa
from hotel_common.migrations import drift
from hotel_common.testing import scratch_engine, scratch_url, upgrade_to

MIGRATIONS = Path(partner_service.__file__).parent / "migrations"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)]


@pytest.fixture(params=BACKENDS)
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[sa.ext.asyncio.AsyncEngine]:
    async with scratch_engine(request.param, tmp_path, "partner") as engine:
        yield engine


@pytest.mark.parametrize("db", BACKENDS)
async def test_the_migrations_at_head_match_the_models(db: str, tmp_path: Path) -> None:
    url = scratch_url(db, tmp_path, "partner_drift")
    assert await drift(url, MIGRATIONS, "partner_service") == []


def _upgrade(connection: sa.Connection, revision: str) -> None:
    upgrade_to(connection, MIGRATIONS, revision)


async def test_p21a_adds_the_projections_and_keeps_the_feed(
    engine: sa.ext.asyncio.AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, "p21_initial")
        await conn.execute(
            sa.text(
                "INSERT INTO feed_entries (partner_id, seq, event_id, event_type, occurred_at,"
                " recorded_at, payload) VALUES ('p1', 1, 'e-1', 'reservation.created',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '{}')"
            )
        )
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, "p21a_feed")
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
        kept = (await conn.execute(sa.text("SELECT event_id FROM feed_entries"))).scalars()
        assert list(kept) == ["e-1"]
    assert {"partner_bookings", "parked_events", "mapped_properties"} <= tables
