"""Issue 17, rates: availability searches, quotes and ARI reads over one property with 20 room
types (each a BASE plan with a season and a year of pushed prices and restrictions, plus two
derived plans), in process on SQLite or PostgreSQL: median and p95 milliseconds per call.

    .venv/bin/python bench/rates_search.py [sqlite|postgresql] [calls]
"""

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotel_common.db import drop_database
from hotel_common.testing import running
from reservation_service.config import Settings
from reservation_service.main import create_app

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


async def main(db: str, calls: int) -> None:
    url = (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
        if db == "sqlite"
        else f"{PG}/bench_{uuid.uuid4().hex}"
    )
    settings = Settings(database_url=url, log_json=False, seed_demo=True, log_level="WARNING")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    try:
        async with running(create_app(settings)) as client:
            await seed(client, today)
            start = today + timedelta(days=30)
            searches = {
                "baseline: list room types (request overhead)": lambda i: client.get(
                    "/api/v1/room-types"
                ),
                "availability 3 nights": lambda i: client.get(
                    "/api/v1/availability",
                    params={"check_in": day(start, i), "check_out": day(start, i + 3)},
                ),
                "availability 30 nights": lambda i: client.get(
                    "/api/v1/availability",
                    params={"check_in": day(start, i), "check_out": day(start, i + 30)},
                ),
                "quote 7 nights (derived)": lambda i: client.post(
                    "/api/v1/quotes",
                    json={
                        "room_type_code": f"R{i % 20:02d}",
                        "rate_plan_code": "MEMBER",
                        "check_in": day(start, i),
                        "check_out": day(start, i + 7),
                    },
                ),
                "ARI read 365 nights, 20 room types": lambda i: client.get(
                    "/api/v1/ari", params={"from": day(today, 0), "to": day(today, 365)}
                ),
            }
            for name, call in searches.items():
                took, cpu = [], []
                for i in range(calls):
                    began, began_cpu = time.perf_counter(), time.process_time()
                    response = await call(i % 60)
                    took.append((time.perf_counter() - began) * 1000)
                    cpu.append((time.process_time() - began_cpu) * 1000)
                    assert response.status_code == 200, response.text
                took.sort()
                p95 = took[int(len(took) * 0.95) - 1]
                # CPU per call (client and server share the process): steadier than wall time
                # on a shared machine.
                name = f"{name} (cpu {statistics.median(cpu):5.1f} ms)"
                print(
                    f"{db:10} {name:52} median {statistics.median(took):6.1f} ms  p95 {p95:6.1f} ms"
                )
    finally:
        await drop_database(url)


def day(start: date, offset: int) -> str:
    return (start + timedelta(days=offset)).isoformat()


async def seed(client, today: date) -> None:
    for t in range(20):
        code = f"R{t:02d}"
        made = await client.post(
            "/api/v1/room-types",
            json={
                "code": code,
                "name": code,
                "capacity": 2,
                "bed_type": "king",
                "base_amount": 40000 + 1000 * t,
            },
        )
        assert made.status_code == 201, made.text
        for r in range(5):
            await client.post(
                "/api/v1/rooms", json={"number": f"{code}-{r}", "floor": 3, "room_type_code": code}
            )
        base = await client.post(
            "/api/v1/rate-plans",
            json={
                "room_type_code": code,
                "code": "BASE",
                "name": "Base",
                "weekend_amount": 60000,
                "seasons": [
                    {
                        "name": "Summer",
                        "start": day(today, 60),
                        "end": day(today, 120),
                        "weekday_amount": 70000,
                    }
                ],
            },
        )
        assert base.status_code == 201, base.text
        for plan, bp in (("MEMBER", 1000), ("GOLD", 2000)):
            derived = await client.post(
                "/api/v1/rate-plans",
                json={
                    "room_type_code": code,
                    "code": plan,
                    "name": plan,
                    "parent_code": "BASE",
                    "discount_bp": bp,
                },
            )
            assert derived.status_code == 201, derived.text
        plan_id = base.json()["id"]
        window = {"start": day(today, 1), "end": day(today, 366)}
        pushed = await client.put(
            f"/api/v1/rate-plans/{plan_id}/rates", json={"ranges": [window | {"amount": 55000}]}
        )
        assert pushed.status_code == 200, pushed.text
        restricted = await client.put(
            f"/api/v1/rate-plans/{plan_id}/restrictions",
            json={"ranges": [window | {"weekdays": [5], "min_stay": 2}]},
        )
        assert restricted.status_code == 200, restricted.text


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1] if len(sys.argv) > 1 else "sqlite",
            int(sys.argv[2]) if len(sys.argv) > 2 else 50,
        )
    )
