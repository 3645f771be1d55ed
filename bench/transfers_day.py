"""Issue 18, scheduling: a dispatcher's day of 500 transfer requests over 30 vehicles and 40
drivers, in process on SQLite or PostgreSQL. Reports the time to plan and assign the day
(target: under 2 s), the jobs covered (and why the others are not) and the driven minutes.

The day goes through the batch path: the places and travel times are read once (`Atlas`), the
500 jobs are planned and written in one transaction, then `coverage.retry_uncovered` assigns
them in pickup order with one `Planner` (fleet, shifts, live jobs read once, every crew rule
applied in memory, each assignment seen by the next) and writes each job, its audit line and
its `transfer.assigned` event. `--per-job` runs the same day through `assignment.assign` one job
at a time instead (each loading what it needs), for comparison.

    .venv/bin/python bench/transfers_day.py [sqlite|postgresql] [--requests 500] [--per-job]
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from hotel_common.db import drop_database, transaction
from hotel_common.events.outbox import add_event
from hotel_common.testing import running
from sqlmodel import col, select
from transfer_service import coverage, jobs
from transfer_service.announce import transfer_assigned
from transfer_service.assignment import assign
from transfer_service.config import Settings
from transfer_service.main import create_app
from transfer_service.models import Place, TransferJob, TransferKind, TransferStatus, TravelTime
from transfer_service.places import Atlas

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
ZONE = "Asia/Shanghai"
HOTEL = "Bund Garden Hotel"
# (code, name, kind, minutes from the hotel)
PLACES = [
    ("BUND", HOTEL, "property", 0),
    ("PVG", "Shanghai Pudong International Airport", "airport", 50),
    ("SHA", "Shanghai Hongqiao International Airport", "airport", 30),
    ("SHHQ", "Shanghai Hongqiao Railway Station", "station", 25),
    ("SHZ", "Shanghai Railway Station", "station", 15),
]


def fleet() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    vehicles = []
    for i in range(30):
        kind = ("sedan", 3, 3, 0, False)
        if i >= 16:
            kind = ("van", 6, 6, 2, False)
        if i >= 26:
            kind = ("minibus", 12, 14, 2, i >= 28)
        vehicles.append(
            {
                "plate": f"沪B·{i:05d}",
                "description": f"Bench {kind[0]} {i}",
                "vehicle_class": kind[0],
                "seats": kind[1],
                "luggage_capacity": kind[2],
                "child_seats": kind[3],
                "wheelchair_accessible": kind[4],
            }
        )
    shifts = [("05:00:00", "17:00:00"), ("11:00:00", "23:00:00"), ("15:00:00", "03:00:00")]
    languages = [["zh-Hans"], ["zh-Hans", "en"], ["zh-Hans", "en", "ja"], ["zh-Hans", "de"]]
    drivers = [
        {
            "name": f"Bench driver {i}",
            "phone": f"+86 139 0000 {i:04d}",
            "licence_number": f"BENCH-{i:06d}",
            "licence_expires_on": (date.today() + timedelta(days=5 * 365)).isoformat(),
            "languages": languages[i % 4],
            "shift_start": shifts[i % 3][0],
            "shift_end": shifts[i % 3][1],
        }
        for i in range(40)
    ]
    return vehicles, drivers


def requests(count: int, day: Any, seed: int = 18) -> list[dict[str, Any]]:
    """`count` rides spread over the day: arrivals and departures of bookings, a few ad hoc;
    a fifth on shared flights with guests who agreed to share."""
    rng = random.Random(seed)
    flights = [f"MU{5100 + i}" for i in range(60)]
    out = []
    for _ in range(count):
        minute = rng.randrange(6 * 60, 23 * 60, 5)
        at = datetime.combine(day, clock(minute // 60, minute % 60), tzinfo=UTC) - timedelta(
            hours=8
        )
        place = rng.choice(["Pudong T2", "PVG", "SHA", "Hongqiao", "SHZ", "Nowhere Pier"])
        shared = rng.random() < 0.2
        out.append(
            {
                "kind": rng.choice(["arrival", "arrival", "departure", "ad_hoc"]),
                "at": at.replace(minute=0) if shared else at,
                "place": "PVG" if shared else place,
                "flight": flights[minute // 60] if shared else rng.choice(flights),
                "share_ok": shared,
                "passengers": rng.choice([1, 1, 2, 2, 2, 3, 4, 5, 8]),
                "luggage": rng.choice([0, 1, 2, 3]),
                "child_seats": 1 if rng.random() < 0.05 else 0,
                "wheelchair": rng.random() < 0.01,
                "language": "ja" if rng.random() < 0.03 else None,
            }
        )
    return out


def job_for(request: dict[str, Any], atlas: Atlas, settings: Settings) -> TransferJob:
    common = {
        "guest_name": "Bench Guest",
        "guest_email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
        "guest_language": "en",
        "flight_number": request["flight"],
        "passengers": request["passengers"],
        "luggage": request["luggage"],
        "child_seats": request["child_seats"],
        "wheelchair": request["wheelchair"],
        "language": request["language"],
        "share_ok": request["share_ok"],
    }
    at = request["at"]
    if request["kind"] == "arrival":
        columns, unknown = jobs.plan_ad_hoc(at, request["place"], HOTEL, ZONE, settings, atlas)
        kind = TransferKind.ARRIVAL_PICKUP
    elif request["kind"] == "departure":
        home, there = atlas.resolve(HOTEL), atlas.resolve(request["place"])
        drive = atlas.minutes(
            home.id if home else None, there.id if there else None, settings.trip_minutes
        )
        leave = at - timedelta(minutes=settings.checkin_international_minutes + drive)
        columns, unknown = jobs.plan_ad_hoc(leave, HOTEL, request["place"], ZONE, settings, atlas)
        kind = TransferKind.DEPARTURE_DROPOFF
    else:
        columns, unknown = jobs.plan_ad_hoc(at, HOTEL, request["place"], ZONE, settings, atlas)
        kind = TransferKind.AD_HOC
    job = TransferJob(
        reservation_id=str(uuid.uuid4()) if kind != TransferKind.AD_HOC else None,
        kind=kind,
        source="booking" if kind != TransferKind.AD_HOC else "staff",
        **common,
        **columns,
    )
    jobs.flag(job, jobs.UNKNOWN_PLACE, unknown)
    return job


async def main(db: str, count: int, per_job: bool) -> None:
    url = (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
        if db == "sqlite"
        else f"{PG}/bench_{uuid.uuid4().hex}"
    )
    settings = Settings(database_url=url, log_json=False, log_level="ERROR", seed_demo=False)
    day = (datetime.now(UTC) + timedelta(days=30)).date()
    app = create_app(settings)
    try:
        async with running(app) as client:
            vehicles, drivers = fleet()
            for body in vehicles:
                assert (await client.post("/api/v1/vehicles", json=body)).status_code == 201
            for body in drivers:
                assert (await client.post("/api/v1/drivers", json=body)).status_code == 201
            sessions = app.state.runtime.sessions
            async with transaction(sessions) as session:
                rows = [Place(code=c, name=n, kind=k, aliases=[]) for c, n, k, _ in PLACES]
                session.add_all(rows)
                await session.flush()
                hotel = int(rows[0].id or 0)
                for row, (*_, minutes) in zip(rows[1:], PLACES[1:], strict=True):
                    session.add(
                        TravelTime(
                            from_place_id=hotel, to_place_id=int(row.id or 0), minutes=minutes
                        )
                    )
                rows[1].aliases = ["Pudong T2"]
                rows[3].aliases = ["Hongqiao"]
            wanted = requests(count, day)

            phases = ""
            profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
            if profile:
                profile.enable()
            began = time.perf_counter()
            async with transaction(sessions) as session:
                atlas = await Atlas.load(session)
                day_jobs = [job_for(r, atlas, settings) for r in wanted]
                if per_job:
                    for job in sorted(day_jobs, key=lambda j: (j.pickup_time, j.id)):
                        assignment = await assign(session, job, settings)
                        session.add(job)
                        if assignment is not None:
                            add_event(session, transfer_assigned(job, assignment))
                        await session.flush()
                else:
                    planned = time.perf_counter()
                    session.add_all(day_jobs)
                    await session.flush()
                    written = time.perf_counter()
                    await coverage.retry_uncovered(session, settings, day=None)
                    assigned = time.perf_counter()
                    phases = (
                        f"plan {planned - began:.2f} s, insert {written - planned:.2f} s, "
                        f"assign and write {assigned - written:.2f} s, "
                    )
            elapsed = time.perf_counter() - began
            if profile:
                profile.disable()
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)

            async with sessions() as session:
                done = list(
                    (await session.exec(select(TransferJob).order_by(col(TransferJob.id)))).all()
                )
    finally:
        if db != "sqlite":
            await drop_database(url)

    covered = [j for j in done if j.status == TransferStatus.ASSIGNED]
    rides: dict[str, int] = {}
    for j in covered:
        key = j.ride_id or j.id
        rides[key] = max(rides.get(key, 0), j.driven_minutes)
    driven = sum(rides.values())
    per_driver = Counter(j.driver_id for j in covered)
    reasons = Counter(j.uncovered_reason for j in done if j.status == TransferStatus.REQUESTED)
    shared = sum(1 for j in covered if j.ride_id)
    path = "per job" if per_job else "batch"
    print(f"transfers day ({db}, {path}): {count} requests, 30 vehicles, 40 drivers")
    print(f"  plan + assign + write: {elapsed:.2f} s (target < 2 s; {phases}commit included)")
    share = len(covered) / count
    print(f"  covered: {len(covered)}/{count} ({share:.0%}), {shared} in shared rides")
    print(f"  uncovered by reason: {dict(reasons.most_common())}")
    print(
        f"  driven: {driven} min ({driven / 60:.0f} h), per driver used: "
        f"{driven / max(len(per_driver), 1):.0f} min over {len(per_driver)} drivers"
    )
    flagged = sum(1 for j in done if "unknown_place" in j.flags)
    print(f"  flagged unknown_place: {flagged}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db", nargs="?", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--per-job", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.db, args.requests, args.per_job))
