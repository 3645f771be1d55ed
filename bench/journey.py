"""The first journey under load, embedded mode (in-memory bus, SQLite): how many bookings per
second the gateway takes through create + confirm, and how soon the events have done their
work (transfer assigned, both notices recorded) after the last confirmation.

    .venv/bin/python bench/journey.py [--bookings 300] [--concurrency 8]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from gateway.identity.testing import bearer, staff_token
from gateway.registry import BY_NAME as SERVICES
from launcher.embedded import create_embedded_app


def booking(n: int) -> dict[str, Any]:
    # Spread over many dates and room types so inventory never runs out.
    check_in = date.today() + timedelta(days=30 + n % 200)
    return {
        "guest": {"name": f"Guest {n}", "email": f"guest{n}@bench.example", "language": "en"},
        "room_type_code": ["STD", "KNG", "BUS", "DLX", "STE"][n % 5],
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=1)).isoformat(),
        "guests": 1,
        "transfer": {
            "arrival_time": f"{check_in.isoformat()}T{(n % 12) + 8:02d}:{n % 60:02d}:00+08:00",
            "pickup_place": "Pudong Airport T2",
            "passengers": 1,
        },
    }


async def main(bookings: int, concurrency: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="bench-journey-"))
    quiet: dict[str, object] = {"log_level": "WARNING"}
    overrides: dict[str, dict[str, object]] = {name: quiet for name in SERVICES}
    # The load is one staff member's: the platform's throughput is measured, not its limits.
    overrides["gateway"] = quiet | {"rate_limit_enabled": False}
    app = create_embedded_app(data, overrides=overrides)
    transport = httpx.ASGITransport(app=app)
    admin = bearer(staff_token(app.state.settings))  # the services answer staff
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://gw", timeout=30, headers=admin
        ) as client,
    ):
        latencies: list[float] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(bookings):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                started = time.perf_counter()
                created = await client.post("/api/v1/reservations", json=booking(n))
                rid = created.json()["id"]
                confirmed = await client.post(f"/api/v1/reservations/{rid}/confirm")
                assert confirmed.status_code == 200, confirmed.text
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        took = time.perf_counter() - began

        async def pickup_notices() -> int:
            """Notices of assigned transfers so far: the last step of each booking's events."""
            count, cursor = 0, None
            while True:
                params: dict[str, str | int] = {"limit": 200, "kind": "transfer_assigned"}
                if cursor:
                    params["cursor"] = cursor
                page = (await client.get("/api/v1/notifications", params=params)).json()
                count += len(page["items"])
                if not (cursor := page["next_cursor"]):
                    return count

        drained_at = None
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            if await pickup_notices() >= bookings:
                drained_at = time.perf_counter()
                break
            await asyncio.sleep(0.05)

    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"journey (embedded, SQLite, in-memory bus), {bookings} bookings, {concurrency} clients")
    print(f"  create+confirm: {bookings / took:8.1f} bookings/s")
    mean = statistics.mean(latencies) * 1000
    print(f"  latency ms:     p50 {p(0.5):.1f}  p99 {p(0.99):.1f}  mean {mean:.1f}")
    if drained_at is not None:
        print(
            f"  events drained: {(drained_at - began - took) * 1000:.0f} ms after the last confirm"
        )
    else:
        print("  events drained: not within 120 s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.bookings, args.concurrency))
