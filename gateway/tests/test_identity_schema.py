"""The identity store's models and its migrations agree, on SQLite and PostgreSQL (the services'
drift test, tests/test_schema_drift.py, covers the registry's services; the gateway is not one)."""

from pathlib import Path

import pytest
from gateway.identity.store import MIGRATIONS
from hotel_common.migrations import COMMON_OWNER, drift, owned_tables
from hotel_common.testing import scratch_url

OWNER = "gateway.identity"


def test_the_store_owns_its_tables_and_no_shared_one() -> None:
    mine = {t.name for t in owned_tables(OWNER)}
    assert mine == {
        "staff_users",
        "refresh_tokens",
        "partners",
        "partner_keys",
        "sign_in_codes",
        "audit_entries",
    }
    assert not mine & {t.name for t in owned_tables(COMMON_OWNER)}


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def test_the_migrations_at_head_match_the_models(db: str, tmp_path: Path) -> None:
    assert await drift(scratch_url(db, tmp_path, "gateway_drift"), MIGRATIONS, OWNER) == []
