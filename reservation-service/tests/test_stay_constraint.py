"""The database itself refuses a room to two overlapping stays (PostgreSQL's exclusion
constraint), whatever code writes the rows: the API's checked insert is not the only guard."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from hotel_common.migrations import upgrade
from hotel_common.testing import scratch_engine
from reservation_service.main import SPEC
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

INSERT = text(
    "INSERT INTO room_assignments (reservation_id, room_id, starts_on, ends_on, assigned_at,"
    " assigned_by) VALUES (:rid, :room, :start, :end, now(), 'test')"
)
DAY = date(2030, 6, 1)


def row(rid: str, room: int, start: int, nights: int) -> dict[str, object]:
    return {
        "rid": rid,
        "room": room,
        "start": DAY + timedelta(days=start),
        "end": DAY + timedelta(days=start + nights),
    }


@pytest.mark.infra
async def test_postgresql_refuses_overlapping_rows_for_one_room(tmp_path: Path) -> None:
    async with scratch_engine("postgresql", tmp_path, "overlap") as engine:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade, Path(SPEC.migrations_dir))
        async with engine.begin() as conn:
            # Only the exclusion constraint is under test: no bookings or rooms behind the rows.
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(INSERT, row("a", 1, 0, 3))
            await conn.execute(INSERT, row("b", 2, 0, 3))  # another room: fine
            await conn.execute(INSERT, row("c", 1, 3, 2))  # arrives the day "a" leaves: fine
        for overlapping in (row("d", 1, 2, 2), row("e", 1, -1, 2), row("f", 1, 1, 1)):
            with pytest.raises(IntegrityError, match="ex_room_assignments_no_overlap"):
                async with engine.begin() as conn:
                    await conn.execute(text("SET LOCAL session_replication_role = replica"))
                    await conn.execute(INSERT, overlapping)
