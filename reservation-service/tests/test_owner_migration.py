"""Revision d15_reservation: bookings made before owners were recorded get owner "legacy",
which no principal id matches (partners do not reach them; staff and guests still do)."""

from pathlib import Path

import pytest
from hotel_common import migrations
from hotel_common.testing import scratch_engine, upgrade_to
from reservation_service.main import SPEC
from sqlalchemy import text

OLD_BOOKING = """
INSERT INTO reservations (id, confirmation_number, status, guest_name, guest_email,
    guest_language, room_type_id, check_in, check_out, guests, nightly_amount, total_amount,
    currency, channel, created_at, updated_at)
VALUES ('r-old', 'HVOLD00001', 'requested', 'Li Wei', 'li.wei@example.com', 'en', 1,
    '2030-06-01', '2030-06-04', 2, 52800, 158400, 'CNY', 'direct',
    '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00')
"""


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def test_existing_bookings_are_owned_by_legacy(db: str, tmp_path: Path) -> None:
    async with scratch_engine(db, tmp_path, "owner") as engine:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to, SPEC.migrations_dir, "d14d_reservation")
            await conn.execute(
                text(
                    "INSERT INTO properties (id, name, timezone, currency, check_in_time,"
                    " check_out_time, created_at) VALUES (1, 'Harbour View Hotel',"
                    " 'Asia/Shanghai', 'CNY', '14:00', '12:00', '2026-11-01 00:00:00+00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO room_types (id, code, name, description, capacity, bed_type,"
                    " base_amount, property_id) VALUES (1, 'KNG', 'King', '', 2, 'king',"
                    " 52800, 1)"
                )
            )
            await conn.execute(text(OLD_BOOKING))
        async with engine.begin() as conn:
            await conn.run_sync(migrations.upgrade, SPEC.migrations_dir)
            owners = (await conn.execute(text("SELECT id, owner FROM reservations"))).all()
        assert [tuple(row) for row in owners] == [("r-old", "legacy")]
