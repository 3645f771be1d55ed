"""Revision d14e_notification on a database with notices: the address column becomes `email`
(kept, and still matched in any case by its index), and the second guard against two notices
of one kind for one event is gone: the inbox, keyed by stable handler names, is the guard
(SQLite and PostgreSQL)."""

from collections.abc import AsyncIterator
from pathlib import Path

import notification_service
import pytest
import sqlalchemy as sa
from hotel_common.testing import scratch_engine, upgrade_to

MIGRATIONS = Path(notification_service.__file__).parent / "migrations"
INSERT = sa.text(
    "INSERT INTO notifications (id, event_id, kind, reservation_id, confirmation_number,"
    " channel, {address}, language, subject, body, status, attempts, created_at)"
    " VALUES (:id, 'event-1', 'reservation_confirmed', 'res-1', 'HV-1', 'email', :address,"
    " 'en', 'Booked', 'Body', 'sent', 1, CURRENT_TIMESTAMP)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[sa.ext.asyncio.AsyncEngine]:
    async with scratch_engine(request.param, tmp_path, "notification") as engine:
        yield engine


def _upgrade(connection: sa.Connection, revision: str) -> None:
    upgrade_to(connection, MIGRATIONS, revision)


def _text(address_column: str) -> sa.TextClause:
    return sa.text(INSERT.text.replace("{address}", address_column))


async def test_d14e_renames_the_address_and_drops_the_second_guard(
    engine: sa.ext.asyncio.AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, "c13e_delivery")
        await conn.execute(_text("recipient"), {"id": "n-1", "address": "Li.Wei@Example.com"})
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, "head")
        # The same event and kind once more: refused before, the inbox's business now.
        await conn.execute(_text("email"), {"id": "n-2", "address": "li.wei@example.com"})
    async with engine.connect() as conn:
        found = await conn.execute(
            sa.text("SELECT id FROM notifications WHERE lower(email) = :a ORDER BY id"),
            {"a": "li.wei@example.com"},
        )
        assert list(found.scalars()) == ["n-1", "n-2"]
        indexes = await conn.run_sync(lambda c: sa.inspect(c).get_indexes("notifications"))
        uniques = await conn.run_sync(
            lambda c: sa.inspect(c).get_unique_constraints("notifications")
        )
        names = {i["name"] for i in indexes}
        if engine.dialect.name == "sqlite":  # whose reflection skips expression indexes
            listed = "SELECT name FROM sqlite_master WHERE type = 'index'"
            names = set((await conn.execute(sa.text(listed))).scalars())
    assert uniques == []
    assert "ix_notifications_email" in names and "ix_notifications_recipient" not in names


async def test_d15_adds_the_sign_in_columns_and_keeps_notices_and_index(
    engine: sa.ext.asyncio.AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, "d14e_notification")
        await conn.execute(_text("email"), {"id": "n-1", "address": "li.wei@example.com"})
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, "d15_notification")
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT id, email, phone, secret, expires_at FROM notifications")
            )
        ).one()
        names = {
            i["name"]
            for i in await conn.run_sync(lambda c: sa.inspect(c).get_indexes("notifications"))
        }
        if engine.dialect.name == "sqlite":  # whose reflection skips expression indexes
            listed = "SELECT name FROM sqlite_master WHERE type = 'index'"
            names = set((await conn.execute(sa.text(listed))).scalars())
    assert tuple(row) == ("n-1", "li.wei@example.com", None, None, None)
    assert "ix_notifications_email" in names
