"""Issue 19, value: RFM and segments for 100,000 guests, in process on SQLite or PostgreSQL.

Loads 100,000 active profiles with about 2.5 completed stays each (some in USD, some long ago),
booking channels for them, five segments of the kinds marketing defines, then times:
- the periodic full refresh (`value.refresh_all`: every guest's value in one INSERT ... SELECT
  ... ON CONFLICT, then every segment's members in one INSERT ... SELECT each),
- the refresh of one guest as a check-out triggers it (`value.refresh_guest`, value + every
  segment), over 500 guests.
Memory: the process's peak Python allocations during the refresh (tracemalloc) and its peak RSS.

    .venv/bin/python bench/guest_rfm.py [sqlite|postgresql] [--guests 100000]
"""

import argparse
import asyncio
import os
import random
import resource
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bulk import insert_rows
from guest_service import segments, value
from guest_service.config import Settings
from guest_service.main import create_app
from guest_service.models import BookingChannel, Guest, GuestStay, GuestValue, SegmentMember
from guest_service.models.segments import SegmentCreate
from hotel_common.db import drop_database, transaction
from hotel_common.testing import running
from sqlalchemy import func, select

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
CHUNK = 50_000
CITIES = ["Shanghai", "Beijing", "Hangzhou", "Shenzhen", "Hong Kong", "Xi'an", "Chengdu"]
COMPANIES = ["Acme Trading", "Orient Logistics", None, None, None]
CHANNELS = [("direct_web", "web"), ("mobile_app", "app"), ("ctrip", "ota"), ("front_desk", "phone")]
SEGMENTS: list[dict[str, Any]] = [
    {
        "name": "Business guests from Shanghai, 2+ stays this year",
        "rule": {
            "companies": ["Acme Trading", "Orient Logistics"],
            "cities": ["Shanghai"],
            "stays": {"min": 2, "period": {"this_year": True}},
        },
    },
    {"name": "Key guests", "rule": {"value_classes": ["key"]}},
    {"name": "At risk, high spend", "rule": {"value_classes": ["at_risk"], "monetary": [3]}},
    {"name": "OTA bookers 26-40", "rule": {"channels": ["ota"], "age_bands": ["26_40"]}},
    {
        "name": "Spent 5,000+ in the last year",
        "rule": {"spend_cny": {"min": 5000, "period": {"last_days": 365}}},
    },
]


def rows(count: int, today: date) -> tuple[list[dict[str, Any]], ...]:
    rng = random.Random(19)
    now = datetime.now(UTC)
    guests: list[dict[str, Any]] = []
    stays: list[dict[str, Any]] = []
    channels: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    for i in range(count):
        guest_id = str(uuid.UUID(int=rng.getrandbits(128)))
        guests.append(
            {
                "id": guest_id,
                "name": f"Bench Guest {i}",
                "source": "booking",
                "status": "active",
                "tags": ["business"] if i % 3 == 0 else [],
                "preferences": {},
                "vip_level": 0,
                "version": 1,
                "company": rng.choice(COMPANIES),
                "nationality": "CN",
                "created_at": now,
                "updated_at": now,
            }
        )
        # What profiles tell the value row (city, birth year): set once, kept by refreshes.
        values.append(
            {
                "guest_id": guest_id,
                "city": rng.choice(CITIES),
                "birth_year": rng.randint(1950, 2008),
                "refreshed_at": now,
            }
        )
        for _ in range(rng.choice((0, 1, 1, 2, 3, 3, 4, 6))):
            left = today - timedelta(days=rng.randint(1, 1100))
            nights = rng.randint(1, 5)
            currency = "USD" if rng.random() < 0.1 else "CNY"
            spent = rng.randint(400, 4000) * nights * (14 if currency == "USD" else 100)
            reservation_id = str(uuid.UUID(int=rng.getrandbits(128)))
            stays.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "guest_id": guest_id,
                    "reservation_id": reservation_id,
                    "confirmation_number": f"B{len(stays):09d}",
                    "property_name": "Bund Garden Hotel",
                    "room_type_code": "KNG",
                    "check_in": left - timedelta(days=nights),
                    "check_out": left,
                    "status": "checked_out",
                    "total_amount": spent,
                    "currency": currency,
                    "nights": nights,
                    "amount_spent": spent,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            channel, source = rng.choice(CHANNELS)
            channels.append(
                {
                    "reservation_id": reservation_id,
                    "channel": channel,
                    "source": source,
                    "created_at": now,
                }
            )
    return guests, values, stays, channels


async def load(runtime: Any, count: int, today: date) -> tuple[list[str], int]:
    """Every row in one transaction, copied (COPY on PostgreSQL, the driver's executemany on
    SQLite: bench/bulk.py) in chunks."""
    guests, values, stays, channels = rows(count, today)
    async with runtime.engine.begin() as conn:
        for model, batch in (
            (Guest, guests),
            (GuestValue, values),
            (GuestStay, stays),
            (BookingChannel, channels),
        ):
            table = getattr(model, "__table__")  # noqa: B009 (SQLModel's table, untyped)
            for start in range(0, len(batch), CHUNK):
                await insert_rows(conn, table, batch[start : start + CHUNK])
    return [g["id"] for g in guests], len(stays)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(kind: str, count: int) -> None:
    if kind == "postgresql":
        url = f"{PG}/bench_rfm_{uuid.uuid4().hex[:8]}"
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/rfm.db"
    settings = Settings(
        database_url=url, log_json=False, log_level="WARNING", value_refresh_seconds=86_400
    )
    today = date.today()
    try:
        app = create_app(settings)
        async with running(app):
            runtime = app.state.runtime
            began = time.perf_counter()
            guest_ids, stays = await load(runtime, count, today)
            print(
                f"{kind}: loaded {count:,} guests, {stays:,} stays "
                f"in {time.perf_counter() - began:.1f} s"
            )
            async with transaction(runtime.sessions) as session:
                for spec in SEGMENTS:
                    await segments.create_segment(
                        session, SegmentCreate.model_validate(spec), "staff:bench"
                    )

            loaded_rss = peak_rss_mb()
            tracemalloc.start()
            began = time.perf_counter()
            async with transaction(runtime.sessions) as session:
                await value._upsert(session, value.rules(), today, None)
            values_only = time.perf_counter() - began
            async with transaction(runtime.sessions) as session:
                await value.refresh_all(session, today)
            full = time.perf_counter() - began - values_only
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()

            async with transaction(runtime.sessions) as session:
                classes: dict[Any, Any] = dict(
                    (
                        await session.execute(
                            select(GuestValue.value_class, func.count()).group_by(  # type: ignore[call-overload]
                                GuestValue.value_class
                            )
                        )
                    ).all()
                )
                members = (
                    await session.execute(select(func.count()).select_from(SegmentMember))
                ).scalar_one()

            sample = random.Random(7).sample(guest_ids, 500)
            began = time.perf_counter()
            for guest_id in sample:
                async with transaction(runtime.sessions) as session:
                    await value.refresh_guest(session, guest_id, today)
            one = (time.perf_counter() - began) / len(sample)

            print(
                f"{kind}: values alone {values_only:.2f} s; full refresh (values and "
                f"{len(SEGMENTS)} segments) {full:.2f} s; Python peak {peak / 2**20:.1f} MiB; "
                f"process peak RSS {peak_rss_mb():.0f} MiB (after loading {loaded_rss:.0f})"
            )
            print(f"{kind}: value classes {classes}; {members:,} memberships")
            print(
                f"{kind}: one guest on a check-out (value + {len(SEGMENTS)} segments) "
                f"{one * 1000:.1f} ms"
            )
    finally:
        if kind == "postgresql":
            await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["sqlite", "postgresql"], nargs="?", default="sqlite")
    parser.add_argument("--guests", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(args.kind, args.guests))
