"""The platform as `make up` runs it (one process per service, PostgreSQL, RabbitMQ), measured
from outside through the gateway:

- throughput and latency of create + confirm with several clients;
- how soon after a confirmation the guest's mail reaches the SMTP server (a real one, run
  here), i.e. outbox -> RabbitMQ -> notification-service -> SMTP.

Runs in its own databases and queue namespace and removes them afterwards. Loopback only.

    .venv/bin/python bench/distributed.py [--bookings 400] [--concurrency 16] [--latency-samples 50]
"""

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from email import message_from_bytes
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from gateway.config import Settings as GatewaySettings
from gateway.identity.testing import bearer, staff_token
from gateway.registry import GATEWAY_PORT, SERVICES
from hotel_common.db import drop_database
from hotel_common.events.rabbit import delete_namespace
from hotel_common.settings import ServiceSettings
from hotel_common.testing import free_port

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
RABBIT = "amqp://guest:guest@127.0.0.1:5672/"


class Inbox:
    """SMTP server noting when each recipient's mail arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, list[float]] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        to = str(message_from_bytes(envelope.content)["To"])
        self.arrived.setdefault(to, []).append(time.perf_counter())
        return "250 OK"


def booking(n: int, email: str) -> dict[str, Any]:
    check_in = date.today() + timedelta(days=40 + n % 300)
    return {
        "guest": {"name": f"Guest {n}", "email": email, "language": "en"},
        "room_type_code": ["STD", "KNG", "BUS", "DLX", "STE"][n % 5],
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=1)).isoformat(),
        "guests": 1,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(args: argparse.Namespace, inbox: Inbox, token_secret: str) -> None:
    admin = staff_token(GatewaySettings(_env_file=None, token_secret=token_secret))
    async with httpx.AsyncClient(
        headers=bearer(admin),
        base_url=f"http://127.0.0.1:{GATEWAY_PORT}",
        timeout=30,
        limits=httpx.Limits(max_connections=args.concurrency),
    ) as client:
        deadline = time.monotonic() + 90
        while True:
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the platform did not become ready in 90 s")
            await asyncio.sleep(0.5)

        async def book(n: int, email: str) -> float:
            created = await client.post("/api/v1/reservations", json=booking(n, email))
            rid = created.json()["id"]
            confirmed = await client.post(f"/api/v1/reservations/{rid}/confirm")
            assert confirmed.status_code == 200, confirmed.text
            return time.perf_counter()

        # Latency: one booking at a time, from the confirmation's answer to the mail's arrival.
        delays = []
        for n in range(args.latency_samples):
            email = f"latency{n}@bench.example"
            answered = await book(n, email)
            while email not in inbox.arrived:  # noqa: ASYNC110 (SMTP runs in its own thread)
                await asyncio.sleep(0.001)
            delays.append(inbox.arrived[email][0] - answered)

        # Throughput: many clients at once.
        latencies: list[float] = []
        numbers = iter(range(args.latency_samples, args.latency_samples + args.bookings))

        async def client_loop() -> None:
            for n in numbers:
                started = time.perf_counter()
                await book(n, f"load{n}@bench.example")
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(client_loop() for _ in range(args.concurrency)))
        took = time.perf_counter() - began

    print(f"distributed (make up: PostgreSQL, RabbitMQ), {args.concurrency} clients")
    print(f"  create+confirm:        {args.bookings / took:8.1f} bookings/s")
    print(
        f"  create+confirm ms:     p50 {percentile(latencies, 0.5):.1f}"
        f"  p99 {percentile(latencies, 0.99):.1f}"
    )
    print(
        f"  confirm -> mail ms:    p50 {percentile(delays, 0.5):.1f}"
        f"  p99 {percentile(delays, 0.99):.1f}  ({len(delays)} sequential samples)"
    )


async def clean_up(namespace: str, databases: list[str]) -> None:
    retries = ServiceSettings().retry_delays  # what the services ran with: the defaults
    await delete_namespace(RABBIT, namespace, [s.name for s in SERVICES], retries)
    for url in databases:
        await drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-samples", type=int, default=50)
    args = parser.parse_args()

    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    run = uuid.uuid4().hex[:8]
    namespace = f"bench-{run}."
    # Each service's database and the gateway's (its identity store): GATEWAY_DATABASE_URL.
    shorts = [s.short for s in SERVICES] + ["gateway"]
    databases = {short: f"{PG}/bench_{run}_{short}" for short in shorts}
    token_secret = secrets.token_urlsafe(32)  # the run's: the benchmark signs in as an admin
    env = {
        **os.environ,
        "TOKEN_SECRET": token_secret,
        "BUS_NAMESPACE": namespace,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENABLED": "false",  # one staff member's load: throughput, not limits
        **{f"{short.upper()}_DATABASE_URL": url for short, url in databases.items()},
    }
    launcher = subprocess.Popen(
        [sys.executable, "-m", "launcher", "up"],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        asyncio.run(measure(args, inbox, token_secret))
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
        smtp.stop()
        asyncio.run(clean_up(namespace, list(databases.values())))


if __name__ == "__main__":
    main()
