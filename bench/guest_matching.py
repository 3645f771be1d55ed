"""Issue 19, matching: 10,000 incoming bookings matched against 100,000 guest profiles, in process
on SQLite or PostgreSQL. Reports the time to match and link them (each booking in its own
transaction, as the consumer runs it), what became of them, and memory.

The profiles (names from a pool of common ones, a sealed email and phone each, one in fifty
with a phone only) are written first through Core, sealed by the column types as in service.
The bookings then go through `matching.link_booking` one by one: returning guests by email,
new guests, a known phone under the same name with a new email (a new profile and a merge
suggestion), phone-only bookings under the same or another name, and an OTA's call-centre
number on a tenth of them. Memory: the process's peak RSS, and the Python heap's peak
(tracemalloc) over 1,000 more bookings, traced apart so tracing does not slow the timed run.

    .venv/bin/python bench/guest_matching.py [sqlite|postgresql] [--profiles 100000]
        [--bookings 10000]
"""

import argparse
import asyncio
import random
import resource
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from bulk import insert_rows
from guest_service import matching
from guest_service.config import Settings
from guest_service.contact_book import contact_row
from guest_service.main import create_app
from guest_service.models import (
    ContactKind,
    Guest,
    GuestContact,
    GuestStay,
    MergeSuggestion,
    _new_id,
)
from hotel_common.db import drop_database, transaction
from hotel_common.testing import guest_contact, reservation_confirmed, running
from sqlalchemy import Table, func, select

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
SURNAMES = [
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Luo",
    "Gao",
]
GIVEN = [
    "Wei",
    "Fang",
    "Min",
    "Jing",
    "Li",
    "Qiang",
    "Lei",
    "Jun",
    "Yan",
    "Yong",
    "Jie",
    "Tao",
    "Ming",
    "Chao",
    "Xiu",
    "Ling",
    "Hua",
    "Ping",
    "Gang",
    "Hui",
    "Emma",
    "Lucas",
    "Mia",
    "Noah",
    "Anna",
    "Ben",
    "Sara",
    "Tom",
    "Eva",
    "Max",
]
SWITCHBOARD = "+862160000000"  # an OTA's call-centre number, sent on its guests' bookings
BATCH = 20_000  # profiles a round of rows built and copied (bounds the loader's memory)


def name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"


def phone_of(i: int) -> str:
    return f"+86138{i:08d}"


async def write_profiles(sessions: Any, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` profiles with their contacts; (name, phone) of each, by index. One transaction,
    the rows copied in batches (bench/bulk.py), the contacts sealed by their column type."""
    guests = cast(Table, Guest.__table__)  # type: ignore[attr-defined]
    contacts = cast(Table, GuestContact.__table__)  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    people: list[tuple[str, str]] = []
    async with transaction(sessions) as session:
        conn = await session.connection()
        for start in range(0, count, BATCH):
            guest_rows, contact_rows = rows(start, min(start + BATCH, count), count, now, rng)
            people.extend((row["name"], phone_of(i)) for i, row in enumerate(guest_rows, start))
            await insert_rows(conn, guests, guest_rows)
            await insert_rows(conn, contacts, contact_rows)
    return people


def rows(
    start: int, stop: int, count: int, now: datetime, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Profiles `start` to `stop` and their contacts, as rows."""
    guest_rows: list[dict[str, Any]] = []
    contact_rows: list[dict[str, Any]] = []
    for i in range(start, stop):
        guest_id = _new_id()
        guest_rows.append(
            {
                "id": guest_id,
                "name": name(rng),
                "language": "zh-Hans",
                "source": "booking",
                "status": "active",
                "tags": [],
                "preferences": {},
                "vip_level": 0,
                "version": 1,
                "created_at": now - timedelta(seconds=count - i),
                "updated_at": now,
            }
        )
        held = [(ContactKind.PHONE, phone_of(i))]
        if i % 50:
            held.append((ContactKind.EMAIL, f"guest.{i}@example.com"))
        for kind, value in held:
            contact_rows.append(contact_row(guest_id, kind, value, "booking", primary=True))
    return guest_rows, contact_rows


def bookings(count: int, people: list[tuple[str, str]], rng: random.Random) -> list[Any]:
    """The incoming mix, shuffled; each booking's kind kept for the report."""
    day = date.today() + timedelta(days=60)
    made = []
    for n in range(count):
        i = rng.randrange(len(people))
        who, phone = people[i]
        roll = n % 20
        if roll < 10:  # a returning guest, by email (and the phone on file)
            kind, guest = (
                "returning by email",
                (who, f"guest.{i}@example.com" if i % 50 else "", phone),
            )
        elif roll < 14:  # a new guest
            kind, guest = "new guest", (name(rng), f"new.{n}@example.com", f"+86139{n:08d}")
        elif roll < 16:  # the phone and name on file, another email: new profile + suggestion
            kind, guest = "known phone, same name, new email", (who, f"work.{n}@example.com", phone)
        elif roll < 17:  # phone only, same name: links
            kind, guest = "phone only, same name", (who, "", phone)
        elif roll < 18:  # phone only, another name: new profile + suggestion
            kind, guest = "phone only, other name", (f"Other {n}", "", phone)
        else:  # the OTA's number and a relay address per booking
            kind, guest = (
                "OTA call-centre number",
                (name(rng), f"relay.{n}@ota.example", SWITCHBOARD),
            )
        booked = reservation_confirmed(
            check_in=day,
            check_out=day + timedelta(days=2),
            guest=guest_contact("zh-Hans", name=guest[0], email=guest[1], phone=guest[2]),
        )
        made.append((kind, booked))
    return made


async def link_all(sessions: Any, incoming: list[Any]) -> None:
    for _, booked in incoming:
        async with transaction(sessions) as session:
            await matching.link_booking(session, booked)


async def main(db: str, profiles: int, count: int) -> None:
    url = (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
        if db == "sqlite"
        else f"{PG}/bench_{uuid.uuid4().hex}"
    )
    settings = Settings(database_url=url, log_json=False, log_level="ERROR", seed_demo=False)
    rng = random.Random(19)
    app = create_app(settings)
    try:
        async with running(app):
            sessions = app.state.runtime.sessions
            began = time.perf_counter()
            people = await write_profiles(sessions, profiles, rng)
            written = time.perf_counter() - began
            incoming = bookings(count, people, rng)
            traced = bookings(1000, people, rng)

            began, cpu = time.perf_counter(), time.process_time()
            await link_all(sessions, incoming)
            elapsed = time.perf_counter() - began
            cpu = time.process_time() - cpu

            tracemalloc.start()
            await link_all(sessions, traced)
            _, heap_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()

            async with sessions() as session:
                conn = await session.connection()
                totals = {
                    table: (await conn.execute(select(func.count()).select_from(table))).scalar()
                    for table in (Guest.__table__, GuestStay.__table__, MergeSuggestion.__table__)  # type: ignore[attr-defined]
                }
    finally:
        if db != "sqlite":
            await drop_database(url)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"guest matching ({db}): {count} bookings against {profiles} profiles")
    print(f"  profiles written in {written:.1f} s (sealed contacts, keyed hashes)")
    print(
        f"  matched and linked: {elapsed:.2f} s, {elapsed / count * 1000:.2f} ms per booking, "
        f"{count / elapsed:.0f} bookings/s (a transaction each); this process's CPU "
        f"{cpu / count * 1000:.2f} ms per booking (SQLite's work included, not PostgreSQL's)"
    )
    print(f"  mix: {dict(Counter(kind for kind, _ in incoming).most_common())}")
    guests, stays, suggested = (v for v in totals.values())
    print(
        f"  after {count + 1000} bookings: {guests} profiles (+{guests - profiles}), "
        f"{stays} stays, {suggested} merge suggestions"
    )
    print(
        f"  memory: peak RSS {rss:.0f} MiB; Python heap peak over 1,000 bookings "
        f"{heap_peak / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db", nargs="?", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.profiles, args.bookings))
