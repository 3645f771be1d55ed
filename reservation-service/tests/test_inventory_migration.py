"""Revision e17c_inventory: existing rooms get their room type's property, numbers become
unique per property, room types default to non-smoking, not accessible, any floor."""

from pathlib import Path

import pytest
from hotel_common import migrations
from hotel_common.testing import scratch_engine, upgrade_to
from reservation_service.main import SPEC
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def test_existing_rooms_belong_to_their_types_property(db: str, tmp_path: Path) -> None:
    async with scratch_engine(db, tmp_path, "inventory") as engine:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to, SPEC.migrations_dir, "e17a_history")
            for pid, name in ((1, "Harbour View Hotel"), (2, "Second Hotel")):
                await conn.execute(
                    text(
                        "INSERT INTO properties (id, name, timezone, currency, check_in_time,"
                        " check_out_time, created_at) VALUES (:id, :name, 'Asia/Shanghai',"
                        " 'CNY', '14:00', '12:00', '2026-11-01 00:00:00+00')"
                    ),
                    {"id": pid, "name": name},
                )
                await conn.execute(
                    text(
                        "INSERT INTO room_types (id, code, name, description, capacity,"
                        " bed_type, base_amount, property_id) VALUES (:id, 'KNG', 'King', '', 2,"
                        " 'king', 52800, :id)"
                    ),
                    {"id": pid},
                )
            await conn.execute(
                text(
                    "INSERT INTO rooms (id, number, floor, features, room_type_id,"
                    " housekeeping_status) VALUES (1, '101', 1, '[]', 1, 'clean')"
                )
            )
        async with engine.begin() as conn:
            await conn.run_sync(migrations.upgrade, SPEC.migrations_dir)
            rooms = (await conn.execute(text("SELECT id, property_id FROM rooms"))).all()
            types = (
                await conn.execute(
                    text("SELECT smoking, accessible, min_floor, max_floor FROM room_types")
                )
            ).all()
        assert [tuple(r) for r in rooms] == [(1, 1)]
        assert {(bool(s), bool(a), lo, hi) for s, a, lo, hi in types} == {
            (False, False, None, None)
        }
        insert = text(
            "INSERT INTO rooms (id, number, floor, features, room_type_id, housekeeping_status,"
            " property_id) VALUES (:id, '101', 1, '[]', :type, 'clean', :prop)"
        )
        async with engine.begin() as conn:  # the same number at another hotel
            await conn.execute(insert, {"id": 2, "type": 2, "prop": 2})
        with pytest.raises(IntegrityError, match=r"uq_rooms_property_number|UNIQUE"):
            async with engine.begin() as conn:  # twice at one hotel
                await conn.execute(insert, {"id": 3, "type": 1, "prop": 1})
