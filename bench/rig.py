"""What the booking benchmarks share: the SMTP server the notices reach, the load client in
its own process, the bare reference app, waiting for a load's events to be done, and the
per-process CPU table."""

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import asyncpg
import bare
from aiosmtpd.controller import Controller
from hotel_common.db import drop_database
from hotel_common.testing import free_port
from load import Result, Spec
from platform_procs import PG, Platform
from procs import Groups, Usage, cpu_delta, sample
from stats import Summary

HERE = Path(__file__).parent
MB = 1024 * 1024


# Mails per booking of the load (create + confirm with a pickup): since issue 20 the request
# received, the confirmation and the pickup arranged.
MAILS_PER_BOOKING = 3
# The confirmation's subject in English (the load's guests write in English): confirm -> mail
# is timed to this mail, not to the request's notice that went before it.
CONFIRMED_SUBJECT = "Booking confirmed:"


class Inbox:
    """An SMTP server noting when each recipient's mails arrived (time.time()), and the
    confirmations apart."""

    def __init__(self) -> None:
        self.arrived: dict[str, list[float]] = {}
        self.confirmed: dict[str, float] = {}  # recipient -> their confirmation's arrival
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        message = message_from_bytes(envelope.content)
        to = str(message["To"])
        self.arrived.setdefault(to, []).append(now)
        if str(message["Subject"]).startswith(CONFIRMED_SUBJECT):
            self.confirmed.setdefault(to, now)
        return "250 OK"

    def mails(self, tag: str) -> list[float]:
        """Arrival times of every mail to an address of this load (<tag><n>@...)."""
        return [t for to, times in list(self.arrived.items()) if to.startswith(tag) for t in times]


def run_load(spec: Spec) -> Result:
    """Run the load client in its own process and read its result."""
    out = subprocess.run(
        [sys.executable, str(HERE / "load.py"), json.dumps(asdict(spec))],
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    data = json.loads(out)
    data["confirmed"] = [tuple(c) for c in data["confirmed"]]
    return Result(**data)


def ops_done(result: Result) -> int:
    return sum(len(v) for v in result.latencies.values())


def error_count(result: Result) -> int:
    return sum(result.errors.values())


def rate(result: Result) -> float:
    return ops_done(result) / max(1e-9, result.ended - result.started)


def line(name: str, result: Result, op: str) -> str:
    return (
        f"  {name:<30} {rate(result):8.1f}/s  {Summary.of(result.latencies.get(op, []))}"
        f"  errors {error_count(result)}" + (f" {result.errors}" if result.errors else "")
    )


def paced_phase(
    platform: Platform, inbox: Inbox, offered: float, seconds: float, first: int
) -> None:
    """Confirmation -> its mail accepted by SMTP at a steady `offered` bookings/s (open loop:
    each delay counts from the confirmation's answer, bookings sent on schedule whatever the
    answers), bookings numbered from `first` (their dates: load.stay_offset)."""
    paced = run_load(
        Spec(
            platform.gateway_url,
            {"book": 1},
            64,
            rate=offered,
            duration=seconds,
            headers=platform.headers,
            tag="paced",
            first=first,
        )
    )
    booked = len(paced.confirmed)
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and sum(1 for email, _ in paced.confirmed if email in inbox.confirmed) < booked
    ):
        time.sleep(0.2)
    delays = [
        inbox.confirmed[email] - answered
        for email, answered in paced.confirmed
        if email in inbox.confirmed
    ]
    print(
        f"confirm -> mail accepted by SMTP, open loop at {offered:.0f} bookings/s "
        f"for {seconds:.0f} s:"
    )
    print(line("create + confirm (offered)", paced, "book"))
    if rate(paced) < 0.9 * offered:
        print(
            f"  the platform did not keep up with {offered:.0f}/s: the delays below are"
            " mostly queueing"
        )
    print(
        f"  confirm -> mail: {Summary.of(delays)}  ({len(delays)} of {booked} mailed;",
        "target p99 < 50 ms)",
    )


@dataclass
class Bare:
    """The bare reference app (bench/bare.py) in a uvicorn process on its own database."""

    url: str
    dsn: str
    process: "subprocess.Popen[bytes]"

    @classmethod
    def start(cls) -> "Bare":
        name = f"bench_bare_{uuid.uuid4().hex[:8]}"
        dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
        asyncio.run(_create_database(name))
        asyncio.run(bare.prepare(dsn))
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "bare:create_app",
                "--app-dir",
                str(HERE),
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env={**os.environ, "BARE_DSN": dsn},
            start_new_session=True,
        )
        server = cls(f"http://127.0.0.1:{port}", dsn, process)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{server.url}/health", timeout=2):
                    return server
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline or process.poll() is not None:
                    server.stop()
                    raise SystemExit("the bare reference app did not start") from None
                time.sleep(0.2)

    @property
    def database(self) -> str:
        return self.dsn.rsplit("/", 1)[1]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        asyncio.run(drop_database(f"{PG}/{self.database}"))


async def _create_database(name: str) -> None:
    connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _utc(value: Any) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


PICKUPS = "SELECT count(*), max(assigned_at) FROM transfer_jobs WHERE status = 'assigned'"


class Pickups:
    """Pickup jobs assigned so far, and when the last was (time.time()): read from
    transfer-service's database, so that watching costs the services nothing. One connection
    for the whole watch, opened again when lost: the server's connections may all be taken
    by other work on the machine, and a watch that cannot ask now asks again on the next poll.
    """

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.runner = asyncio.Runner()
        self.connection: asyncpg.Connection | None = None
        self.last_seen: tuple[int, float | None] = (0, None)

    def close(self) -> None:
        if self.connection is not None:
            self.runner.run(self.connection.close())
        self.runner.close()

    def now(self) -> tuple[int, float | None]:
        try:
            count, last = self._query()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error):
            self.connection = None
            return self.last_seen
        self.last_seen = count, (_utc(last) if last is not None else None)
        return self.last_seen

    def _query(self) -> tuple[int, Any]:
        if not self.platform.databases:
            assert self.platform.data_dir is not None
            path = self.platform.data_dir / "transfer-service.db"
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
                count, last = connection.execute(PICKUPS).fetchone()
                return count, last
        if self.connection is None:
            dsn = self.platform.databases["transfer"].replace("postgresql+asyncpg", "postgresql")
            self.connection = self.runner.run(asyncpg.connect(dsn))
        row = self.runner.run(self.connection.fetchrow(PICKUPS))
        return row[0], row[1]


@dataclass
class Drained:
    pickup_lag: float | None  # seconds from the last confirmation to the last pickup assigned
    notice_lag: float | None  # ... to the last mail accepted by SMTP
    pickups: int
    mails: int


def show_lags(drained: Drained) -> str:
    lines = []
    for what, lag in (
        ("last pickup assigned", drained.pickup_lag),
        ("last notice mailed", drained.notice_lag),
    ):
        shown = (
            f"{lag * 1000:.0f} ms"
            if lag is not None
            else f"not within the wait ({drained.pickups} pickups, {drained.mails} mails)"
        )
        lines.append(f"  {what} after the last confirm: {shown}")
    return "\n".join(lines)


def wait_drained(
    pickups: Pickups, inbox: Inbox, result: Result, tag: str, before: int, timeout: float = 120
) -> Drained:
    """Wait until every confirmed booking of `result` (guests <tag><n>@...) has its pickup
    assigned (`before` were assigned already) and its notices (MAILS_PER_BOOKING) mailed."""
    booked = len(result.confirmed)
    last_confirm = max((t for _, t in result.confirmed), default=result.ended)
    deadline = time.monotonic() + timeout
    count, last, mails = 0, None, []
    while time.monotonic() < deadline:
        count, last = pickups.now()
        mails = inbox.mails(tag)
        if count - before >= booked and len(mails) >= MAILS_PER_BOOKING * booked:
            break
        time.sleep(0.2)
    done = count - before >= booked and len(mails) >= MAILS_PER_BOOKING * booked
    return Drained(
        pickup_lag=(last - last_confirm) if done and last is not None else None,
        notice_lag=(max(mails) - last_confirm) if done and mails else None,
        pickups=count - before,
        mails=len(mails),
    )


def idle_cpu(groups: Groups, seconds: float = 5.0) -> dict[str, float]:
    """Each process's CPU (cores) with no load: the background loops (outbox relays, delivery
    polling, health checks) that a long, slow run would otherwise bill to its bookings."""
    before = sample(groups)
    time.sleep(seconds)
    return {k: v / seconds for k, v in cpu_delta(before, sample(groups)).items()}


def cpu_table(
    delta: Mapping[str, float],
    idle: Mapping[str, float],
    seconds: float,
    client_cpu: float,
    bookings: int,
    rest: Mapping[str, Usage],
    after: Mapping[str, Usage],
) -> str:
    """CPU ms per booking of each process over `seconds` (load and drain), less what it spends
    idle in that time; its RSS and its private memory (RssAnon; a sum of PostgreSQL's RSS
    counts its shared buffers once per backend) at rest and after the load."""
    net = {k: max(0.0, v - idle.get(k, 0.0) * seconds) * 1000 / bookings for k, v in delta.items()}
    lines = [
        f"  {'process':<22} {'CPU ms/booking':>14} {'idle ms/s':>9}"
        "   RSS MB rest / after   private MB rest / after"
    ]
    for name, ms in sorted(net.items(), key=lambda kv: -kv[1]):
        lines.append(
            f"  {name:<22} {ms:>14.2f} {idle.get(name, 0.0) * 1000:>9.1f}   "
            f"{rest[name].rss_bytes / MB:>7.1f} / {after[name].rss_bytes / MB:<7.1f}     "
            f"{rest[name].anon_bytes / MB:>7.1f} / {after[name].anon_bytes / MB:<7.1f}"
        )
    lines.append(f"  {'load client':<22} {client_cpu * 1000 / bookings:>14.2f}")
    lines.append(f"  {'total':<22} {sum(net.values()) + client_cpu * 1000 / bookings:>14.2f}")
    return "\n".join(lines)


def booking_costs(
    drained: Drained,
    delta: Mapping[str, float],
    idle: Mapping[str, float],
    seconds: float,
    client_cpu: float,
    bookings: int,
    rest: Mapping[str, Usage],
    after: Mapping[str, Usage],
) -> str:
    """What both modes print after their bookings: the events' lag, then `cpu_table`."""
    return "\n".join(
        [
            show_lags(drained),
            f"  CPU per booking (load + drain, {bookings} bookings) and RSS:",
            cpu_table(delta, idle, seconds, client_cpu, max(1, bookings), rest, after),
        ]
    )
