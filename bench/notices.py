"""notification-service alone, embedded (SQLite, the in-memory broker, in this process as its
tests start it: hotel_common.testing.running), with a real SMTP server on loopback in a process
of its own (it stands for an external server: its CPU is not counted):

1. `--notices` `reservation.confirmed` events (distinct bookings; guests writing in en,
   zh-Hans and zh-Hant, with an email and a phone, so that the text message is rendered as the
   fallback, as a guest with both gets it) put on the bus at once: notices rendered and stored
   (queued) per second, until every confirmation's row is written; notices handed to SMTP per
   second, until the server accepted them all; this process's CPU ms per notice (the service:
   handlers, delivery, SQLite's threads; the events were built before), queueing and sending;
2. the rendering alone, to locate a regression: `rendering.render_with` (no database), then
   `rendering.render_for` of the confirmation for email (text + HTML) in English from the file
   and with a staff override in the database (one indexed read per call), `--renders` each.

    .venv/bin/python bench/notices.py [--notices 1000] [--renders 2000]
"""

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import free_port, guest_contact, reservation_confirmed, running
from notification_service import notices, rendering, templates
from notification_service.config import Settings
from notification_service.main import create_app
from stats import Summary

LANGUAGES = ("en", "zh-Hans", "zh-Hant")
KIND = "reservation_confirmed"
QUEUED = "SELECT count(*) FROM notifications WHERE kind = ?"


class Sink:
    """The SMTP server's side (its own process): says its port, then the arrival times once
    `expected` mails were accepted."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.arrived: list[float] = []
        self.done = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.append(time.time())
        if len(self.arrived) >= self.expected:
            self.done.set()
        return "250 OK"


def serve_sink(expected: int) -> None:
    sink = Sink(expected)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    sink.done.wait()
    print(json.dumps({"arrived": sink.arrived}), flush=True)
    sys.stdin.read()  # until the parent closes it
    controller.stop()


class Counter:
    """The confirmations' rows written so far and when the last count grew (time.time()), read
    from the service's SQLite file in a thread of its own (a read-only connection)."""

    def __init__(self, path: Path, expected: int) -> None:
        self.path, self.expected = path, expected
        self.count, self.at = 0, 0.0
        self.done = threading.Event()

    def watch(self) -> None:
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5) as connection:
            while self.count < self.expected:
                count = connection.execute(QUEUED, (KIND,)).fetchone()[0]
                if count > self.count:
                    self.count, self.at = count, time.time()
                time.sleep(0.01)
        self.done.set()


async def service_phase(args: argparse.Namespace, folder: Path) -> None:
    sink = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--smtp-sink",
        str(args.notices),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert sink.stdout is not None and sink.stdin is not None
    port = json.loads(await sink.stdout.readline())["port"]
    path = folder / "notifications.db"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}",
        smtp_url=f"smtp://127.0.0.1:{port}",
        log_level="WARNING",
    )
    broker = InMemoryBroker()
    events = [
        Envelope.wrap(
            reservation_confirmed(guest=guest_contact(LANGUAGES[n % len(LANGUAGES)])),
            "reservation-service",
        )
        for n in range(args.notices)
    ]
    try:
        async with running(create_app(settings, broker=broker)):
            counter = Counter(path, args.notices)
            watcher = threading.Thread(target=counter.watch, daemon=True)
            watcher.start()
            cpu0, began = time.process_time(), time.time()
            for envelope in events:
                broker.route(envelope)
            await asyncio.to_thread(counter.done.wait, 600)
            cpu_queued = time.process_time()
            line = await asyncio.wait_for(sink.stdout.readline(), 600)
            cpu_sent = time.process_time()
    finally:
        sink.stdin.close()
        await sink.wait()
    arrived: list[float] = json.loads(line)["arrived"]
    n = args.notices
    queue_s, send_s = counter.at - began, max(arrived) - began
    queue_ms, all_ms = (cpu_queued - cpu0) * 1000 / n, (cpu_sent - cpu0) * 1000 / n
    print(
        f"notification-service embedded (SQLite, in-memory bus, SMTP on loopback), {n} "
        f"reservation.confirmed at once, guests in {', '.join(LANGUAGES)} with email and phone:"
    )
    print(
        f"  rendered + stored (queued)   {n / queue_s:8.1f} notices/s  (last after {queue_s:.2f} s)"
    )
    print(
        f"  handed to SMTP (accepted)    {n / send_s:8.1f} notices/s  (last after {send_s:.2f} s)"
    )
    print(
        f"  CPU ms per notice: {all_ms:.2f} (queueing {queue_ms:.2f}, sending "
        f"{all_ms - queue_ms:.2f}; the SMTP server's not counted)"
    )


def timed(renders: int, call: Any) -> tuple[float, Summary]:
    times = []
    began = time.perf_counter()
    for _ in range(renders):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return renders / (time.perf_counter() - began), Summary.of(times)


async def timed_async(renders: int, call: Any) -> tuple[float, Summary]:
    times = []
    began = time.perf_counter()
    for _ in range(renders):
        t = time.perf_counter()
        await call()
        times.append(time.perf_counter() - t)
    return renders / (time.perf_counter() - began), Summary.of(times)


async def rendering_phase(args: argparse.Namespace, folder: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'render.db'}", log_level="WARNING"
    )
    event = reservation_confirmed(guest=guest_contact("en"))
    context = notices.confirmation(event, "en").context
    app = create_app(settings, broker=InMemoryBroker())
    print(f"rendering a confirmation for email (text + HTML), en, {args.renders} each:")

    def pure() -> None:
        rendering.render_with(KIND, "email", "en", context, {})

    rate, summary = timed(args.renders, pure)
    print(f"  {'render_with, no database':<34} {rate:8.0f}/s  {summary}")
    async with running(app):
        sessions = app.state.runtime.sessions
        for name in ("render_for, the file", "render_for, a database override"):
            if "override" in name:
                file = rendering.file_source(KIND, "email", "en")
                assert file is not None
                source = rendering.Source(body="Dear guest,\n\n" + file.body, subject=file.subject)
                async with sessions() as session, session.begin():
                    await templates.save(session, KIND, "email", "en", source, by="bench")
            async with sessions() as session:

                async def once(session: Any = session) -> None:
                    await rendering.render_for(session, KIND, "email", "en", context)

                rate, summary = await timed_async(args.renders, once)
            print(f"  {name:<34} {rate:8.0f}/s  {summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--smtp-sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smtp_sink:
        serve_sink(args.smtp_sink)
        return
    with tempfile.TemporaryDirectory(prefix="bench-notices-") as folder:
        asyncio.run(service_phase(args, Path(folder)))
        asyncio.run(rendering_phase(args, Path(folder)))


if __name__ == "__main__":
    main()
