"""Revision e17d_intake: bookings made before it keep working: every guest counted an adult,
no children, no typed requests, one room, and a source read from their channel."""

from pathlib import Path

import pytest
from hotel_common import migrations
from hotel_common.testing import scratch_engine, upgrade_to
from reservation_service.main import SPEC
from sqlalchemy import text

BOOKING = """
INSERT INTO reservations (id, confirmation_number, status, guest_name, guest_email,
    guest_language, room_type_id, check_in, check_out, guests, nightly_amount, total_amount,
    currency, channel, owner, created_at, updated_at)
VALUES (:id, :number, 'requested', 'Li Wei', 'li.wei@example.com', 'en', 1,
    '2030-06-01', '2030-06-04', :guests, 52800, 158400, 'CNY', :channel, 'legacy',
    '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00')
"""
CHANNELS = [
    ("direct", "web"),
    ("direct_web", "web"),
    ("mobile_app", "app"),
    ("front_desk", "walk_in"),
    ("ctrip", "ota"),
]


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def test_bookings_made_before_get_their_party_and_source(db: str, tmp_path: Path) -> None:
    async with scratch_engine(db, tmp_path, "intake") as engine:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to, SPEC.migrations_dir, "e17a_history")
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
                    " base_amount, property_id) VALUES (1, 'KNG', 'King', '', 3, 'king',"
                    " 52800, 1)"
                )
            )
            for i, (channel, _) in enumerate(CHANNELS):
                number = f"HVOLD0000{i}"
                await conn.execute(
                    text(BOOKING),
                    {"id": f"r-{i}", "number": number, "guests": i % 3 + 1, "channel": channel},
                )
        async with engine.begin() as conn:
            await conn.run_sync(migrations.upgrade, SPEC.migrations_dir)
            rows = (
                await conn.execute(
                    text(
                        "SELECT id, guests, adults, source, room_count, external_id"
                        " FROM reservations ORDER BY id"
                    )
                )
            ).all()
    assert [tuple(row) for row in rows] == [
        (f"r-{i}", i % 3 + 1, i % 3 + 1, source, 1, None) for i, (_, source) in enumerate(CHANNELS)
    ]
