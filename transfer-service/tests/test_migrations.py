"""Revision d14e_transfer on a database with data: drivers' phones stored without "+" get it,
and a long BCP-47 language tag fits (SQLite and PostgreSQL)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import transfer_service
from hotel_common.testing import scratch_engine, upgrade_to

MIGRATIONS = Path(transfer_service.__file__).parent / "migrations"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[sa.ext.asyncio.AsyncEngine]:
    async with scratch_engine(request.param, tmp_path, "transfer") as engine:
        yield engine


def _upgrade(connection: sa.Connection, revision: str) -> None:
    upgrade_to(connection, MIGRATIONS, revision)


async def test_d14e_gives_stored_phones_their_plus(engine: sa.ext.asyncio.AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, "c13b_versions")
        await conn.execute(
            sa.text(
                "INSERT INTO drivers (name, phone, status, languages, licence_number, created_at)"
                " VALUES ('Wang Wei', :phone, 'active', '[\"zh-Hans\"]', :licence,"
                " CURRENT_TIMESTAMP)"
            ),
            [
                {"phone": "8613800138000", "licence": "A"},
                {"phone": "+447700900123", "licence": "B"},
            ],
        )
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, "head")
    async with engine.connect() as conn:
        phones = await conn.execute(sa.text("SELECT phone FROM drivers ORDER BY licence_number"))
        assert list(phones.scalars()) == ["+8613800138000", "+447700900123"]
        columns = await conn.run_sync(lambda c: sa.inspect(c).get_columns("transfer_jobs"))
    [language] = [c for c in columns if c["name"] == "guest_language"]
    assert language["type"].length == 35
