"""The floor of the platform's architecture, measured with bare components (no platform code
but the gateway's HTTP client, `gateway.wire`): what a booking must cost at least in CPU,
given FastAPI services behind a gateway hop, RabbitMQ with publisher confirms, a durable
outbox and an idempotent inbox, and SMTP. Issue 16 asks for bookings at >= 0.20 of the bare
confirm's rate (bench/bare.py); this prints the best ratio those parts allow.

One run, four steps, each step's CPU per operation from /proc (utime + stime of every process
involved, less what each spends idle; the run's PostgreSQL backends by their database; RabbitMQ's
`beam.smp`; the load client's own CPU) and its rate:

1. bare confirm: bench/bare.py `POST /confirm` (one transaction) driven by bench/load.py,
   `--concurrency` clients, `--seconds`;
2. the same confirm through a minimal proxy: a raw ASGI app on uvicorn (uvloop, httptools)
   forwarding each request over the gateway's own keep-alive client (`gateway.wire.Pool`);
   the proxy process's CPU per request is one gateway hop's floor;
3. the event hop: a publisher (aio-pika, publisher confirms, persistent messages of ~0.7 kB,
   `--batch` publishes in flight at once and each confirm awaited, as the outbox relay does)
   and a consumer (aio-pika, prefetch 32; per message ONE asyncpg transaction: the inbox
   INSERT ... ON CONFLICT DO NOTHING and one effect row INSERT, then the ack), `--events`;
4. mail: one kept-open aiosmtplib connection sending minimal messages (From, To, Subject,
   Message-ID, a line of text), built as an EmailMessage (4a, as the platform's mailer) and
   as bytes from a template (4b; the floor takes the cheaper), to bench/rig.py's SMTP inbox
   in its own process, `--seconds` each; the client's CPU counts toward the floor, the
   inbox (an external mail server) is shown apart.

    .venv/bin/python bench/floor.py [--seconds 10] [--events 5000] [--concurrency 16]
"""

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aio_pika
import asyncpg
import rig
from aio_pika.abc import AbstractIncomingMessage
from hotel_common.db import drop_database
from hotel_common.testing import free_port
from load import Spec
from platform_procs import PG, RABBIT
from procs import Groups, Named, cpu_delta, postgres, sample
from rig import Bare, error_count, ops_done, run_load
from stats import Summary

HERE = os.path.dirname(os.path.abspath(__file__))
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFETCH = 32
POOL_SIZE = 10  # the consumer's asyncpg pool, as a service's DATABASE_POOL_SIZE
READ_TIMEOUT = 120.0  # a child's next word (ready, done)
IDLE_SECONDS = 2.0  # each step's processes at rest, to take their background CPU off
# A booking, as the issue counts it: two requests through the gateway (create, confirm),
# five event deliveries from two published events (reservation.confirmed, transfer.assigned),
# two notices mailed.
REQUESTS, DELIVERIES, PUBLISHES, MAILS = 2, 5, 2, 2

INBOX_SCHEMA = """
CREATE TABLE inbox (message_id uuid PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE effects (id uuid PRIMARY KEY, message_id uuid NOT NULL, routing_key text NOT NULL,
    body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
"""
CLAIM = "INSERT INTO inbox (message_id) VALUES ($1) ON CONFLICT DO NOTHING"
EFFECT = "INSERT INTO effects (id, message_id, routing_key, body) VALUES ($1, $2, $3, $4)"
ROUTING_KEY = "reservation.confirmed"
# About the size of a reservation.confirmed envelope.
PAYLOAD = {
    "id": "",
    "type": ROUTING_KEY,
    "occurred_at": "2025-01-01T00:00:00+00:00",
    "source": "reservation-service",
    "data": {
        "reservation_id": str(uuid.UUID(int=1)),
        "guest": {"name": "Guest 1", "email": "guest1@bench.example", "language": "en"},
        "room_type_code": "STD",
        "check_in": "2025-02-10",
        "check_out": "2025-02-12",
        "guests": 1,
        "transfer": {
            "flight_number": "MU5101",
            "arrival_time": "2025-02-10T08:00:00+08:00",
            "pickup_place": "Shanghai Pudong International Airport T1",
            "passengers": 1,
            "luggage": 1,
        },
        "total": {"amount": 100000, "currency": "CNY"},
        "hotel": {"name": "Bench Hotel", "timezone": "Asia/Shanghai"},
    },
}


# -- child processes -------------------------------------------------------------------------


def run_loop(coroutine: Any) -> Any:
    import uvloop

    return uvloop.run(coroutine)


async def read_line() -> str:
    """A line from stdin without blocking the event loop (heartbeats go on meanwhile)."""
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"date", b"server"})


def proxy_app(upstream: str) -> Callable[..., Any]:
    """A raw ASGI app sending every request on to `upstream` over `gateway.wire.Pool` (the
    gateway's client) and its answer back: the least a gateway hop can do."""
    from gateway import wire

    pool: wire.Pool | None = None

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal pool
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if pool is not None:
                        pool.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if pool is None:
            pool = wire.Pool(upstream, limit=100, connect_timeout=2.0)
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        status, answer_headers, content = await pool.request(scope["method"], target, headers, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k, v) for k, v in answer_headers if k.lower() not in HOP_BY_HOP],
            }
        )
        await send({"type": "http.response.body", "body": content})

    return app


def serve_proxy(port: int, upstream: str) -> None:
    import uvicorn

    uvicorn.run(
        proxy_app(upstream),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
    )


def serve_inbox() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    inbox = rig.Inbox()
    inbox.controller.start()
    say(port=inbox.port)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    inbox.controller.stop()


async def publisher(exchange_name: str, events: int, batch: int) -> None:
    connection = await aio_pika.connect(RABBIT)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(exchange_name)
        payloads = []
        for _ in range(events):
            message_id = str(uuid.uuid4())
            payloads.append((message_id, json.dumps({**PAYLOAD, "id": message_id}).encode()))
        say(ready=True)
        await read_line()
        started = time.perf_counter()
        for first in range(0, events, batch):
            # One relay pass: the batch in flight at once, each publish awaiting its confirm.
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            body,
                            content_type="application/json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            message_id=message_id,
                        ),
                        routing_key=ROUTING_KEY,
                    )
                    for message_id, body in payloads[first : first + batch]
                )
            )
        say(published=events, seconds=time.perf_counter() - started)
        await read_line()


async def consumer(queue_name: str, dsn: str, events: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
    connection = await aio_pika.connect(RABBIT)
    done = asyncio.Event()
    handled = 0
    tasks: set[asyncio.Task[None]] = set()
    failures: list[str] = []

    async def handle(message: AbstractIncomingMessage) -> None:
        nonlocal handled
        message_id = uuid.UUID(message.message_id)
        async with pool.acquire() as db, db.transaction():
            if await db.execute(CLAIM, message_id) == "INSERT 0 1":  # not seen before
                body = message.body.decode()
                await db.execute(EFFECT, uuid.uuid4(), message_id, ROUTING_KEY, body)
        await message.ack()
        handled += 1
        if handled >= events:
            done.set()

    async def on_message(message: AbstractIncomingMessage) -> None:
        task = asyncio.create_task(handle(message))
        tasks.add(task)
        task.add_done_callback(finished)

    def finished(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            failures.append(repr(error))
            done.set()

    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await channel.get_queue(queue_name)
        await queue.consume(on_message, no_ack=False)
        say(ready=True)
        await done.wait()
        if failures:
            say(error=f"the consumer failed: {failures[0]}")
            return
        say(handled=handled, at=time.time())
        await read_line()
    await pool.close()


def mail_message(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Bench Hotel <hotel@bench.example>"
    message["To"] = f"floor{n}@bench.example"
    message["Subject"] = "Your booking is confirmed"
    message["Message-ID"] = f"<{uuid.uuid4()}@bench.example>"
    message.set_content(f"Dear guest {n}, your stay is confirmed.\n")
    return message


def raw_mail(n: int) -> tuple[str, str, bytes]:
    """The same message as bytes from a template: no email package on the way."""
    to = f"floor{n}@bench.example"
    data = (
        f"From: Bench Hotel <hotel@bench.example>\r\nTo: {to}\r\n"
        f"Subject: Your booking is confirmed\r\nMessage-ID: <{uuid.uuid4()}@bench.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Dear guest {n}, your stay is confirmed.\r\n"
    )
    return "hotel@bench.example", to, data.encode()


async def mailer(port: int, seconds: float, raw: bool) -> None:
    import aiosmtplib

    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)

    async def send(n: int) -> None:
        if raw:
            sender, to, data = raw_mail(n)
            await smtp.sendmail(sender, [to], data)
        else:
            await smtp.send_message(mail_message(n))

    await smtp.connect()
    await send(0)  # warm
    say(ready=True)
    await read_line()
    sent, started = 0, time.perf_counter()
    stop = started + seconds
    while time.perf_counter() < stop:
        await send(sent)
        sent += 1
    say(sent=sent, seconds=time.perf_counter() - started)
    await read_line()
    await smtp.quit()


# -- the run ---------------------------------------------------------------------------------


class Child:
    """This script in another role, spoken to by JSON lines (stdout) and lines (stdin)."""

    def __init__(self, role: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", role, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            text=True,
        )
        self.role = role

    @property
    def pid(self) -> int:
        return self.process.pid

    def read(self, timeout: float = READ_TIMEOUT) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise SystemExit(f"{self.role}: no word in {timeout:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"{self.role} exited (status {self.process.wait()})")
        data: dict[str, Any] = json.loads(line)
        if "error" in data:
            raise SystemExit(f"{self.role}: {data['error']}")
        return data

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def child(role: str, *args: str) -> Iterator[Child]:
    started = Child(role, *args)
    try:
        yield started
    finally:
        started.stop()


def wait_listening(port: int, process: Child, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if process.process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{process.role} did not start")
        time.sleep(0.1)


@dataclass
class Step:
    name: str
    includes: str
    ops: int
    seconds: float  # the load's own time (rate = ops / seconds)
    window: float  # from the first CPU sample to the last
    cpu: dict[str, float]  # process group -> CPU seconds in the window, idle taken off
    errors: int = 0
    note: str = ""

    @property
    def rate(self) -> float:
        return self.ops / max(1e-9, self.seconds)

    def ms(self, *groups: str) -> float:
        """CPU ms per operation of these groups (all when none is named)."""
        names = groups or tuple(self.cpu)
        return sum(self.cpu[g] for g in names) * 1000 / max(1, self.ops)


def net_cpu(
    before: Mapping[str, Any], after: Mapping[str, Any], idle: Mapping[str, float], window: float
) -> dict[str, float]:
    return {k: max(0.0, v - idle.get(k, 0.0) * window) for k, v in cpu_delta(before, after).items()}


def http_step(name: str, includes: str, url: str, groups: Groups, args: argparse.Namespace) -> Step:
    spec = Spec(base_url=url, ops={"post:/confirm": 1.0}, concurrency=args.concurrency)
    warm = dataclasses.replace(spec, duration=1.0)
    run_load(warm)  # fills the pools, opens the connections
    idle = rig.idle_cpu(groups, IDLE_SECONDS)
    spec.duration = args.seconds
    before, t0 = sample(groups), time.monotonic()
    result = run_load(spec)
    after, window = sample(groups), time.monotonic() - t0
    cpu = net_cpu(before, after, idle, window)
    cpu["load client"] = result.cpu_seconds
    latency = Summary.of(result.latencies.get("post:/confirm", []))
    return Step(
        name,
        includes,
        ops_done(result),
        result.ended - result.started,
        window,
        cpu,
        error_count(result),
        f"latency {latency}",
    )


async def declare(namespace: str) -> tuple[str, str]:
    exchange_name, queue_name = f"{namespace}events", f"{namespace}inbox"
    connection = await aio_pika.connect(RABBIT)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(queue_name, durable=True)
        await queue.bind(exchange, routing_key=ROUTING_KEY)
    return exchange_name, queue_name


async def undeclare(namespace: str) -> None:
    connection = await aio_pika.connect(RABBIT)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(f"{namespace}inbox")
        await channel.exchange_delete(f"{namespace}events")


async def create_inbox_database(name: str) -> str:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(INBOX_SCHEMA)
    finally:
        await connection.close()
    return dsn


def event_step(
    exchange_name: str, queue_name: str, dsn: str, database: str, args: argparse.Namespace
) -> Step:
    events = args.events
    with (
        child("consumer", "--queue", queue_name, "--dsn", dsn, "--events", str(events)) as cons,
        child(
            "publisher",
            "--exchange",
            exchange_name,
            "--events",
            str(events),
            "--batch",
            str(args.batch),
        ) as pub,
    ):
        cons.read()
        pub.read()
        groups: dict[str, int | Named] = {
            "publisher": pub.pid,
            "consumer": cons.pid,
            "rabbitmq": Named("beam.smp"),
            "postgresql": postgres([database]),
        }
        idle = rig.idle_cpu(groups, IDLE_SECONDS)
        before, t0, wall = sample(groups), time.monotonic(), time.time()
        pub.go()
        published = pub.read()
        consumed = cons.read()
        after, window = sample(groups), time.monotonic() - t0
        pub.go()
        cons.go()
    return Step(
        "3. event hop",
        "publisher (confirms, persistent, batches of "
        f"{args.batch}) + broker + consumer (prefetch {PREFETCH}, inbox + effect in one "
        "transaction, ack) + their PostgreSQL backends",
        consumed["handled"],
        consumed["at"] - wall,
        window,
        net_cpu(before, after, idle, window),
        note=f"all {published['published']} published (confirmed) in {published['seconds']:.2f} s",
    )


def mail_step(args: argparse.Namespace, inbox: Child, port: int, raw: bool) -> Step:
    options = ["--raw"] if raw else []
    with child("mailer", "--port", str(port), "--seconds", str(args.seconds), *options) as mail:
        mail.read()
        groups = {"mail client": mail.pid, "smtp inbox": inbox.pid}
        idle = rig.idle_cpu(groups, IDLE_SECONDS)
        before, t0 = sample(groups), time.monotonic()
        mail.go()
        done = mail.read()
        after, window = sample(groups), time.monotonic() - t0
        mail.go()
    how = (
        "message bytes from a string template, SMTP.sendmail"
        if raw
        else "an EmailMessage built per mail, SMTP.send_message (as the platform's mailer)"
    )
    return Step(
        "4b. mail, raw" if raw else "4a. mail, EmailMessage",
        f"aiosmtplib client on one kept-open connection, {how} "
        "(the SMTP inbox shown apart: it stands for an external server)",
        done["sent"],
        done["seconds"],
        window,
        net_cpu(before, after, idle, window),
    )


def show(step: Step) -> str:
    lines = [
        f"{step.name}: {step.ops} in {step.seconds:.2f} s = {step.rate:.0f}/s, "
        f"{step.ms():.3f} CPU ms each (all processes)"
        + (f", {step.errors} errors" if step.errors else ""),
        f"   includes: {step.includes}",
    ]
    if step.note:
        lines.append(f"   {step.note}")
    for group, seconds in sorted(step.cpu.items(), key=lambda kv: -kv[1]):
        lines.append(
            f"     {group:<14} {seconds * 1000 / max(1, step.ops):8.3f} ms/op"
            f"  ({seconds / max(1e-9, step.window):.2f} cores)"
        )
    return "\n".join(lines)


def report(bare: Step, proxied: Step, event: Step, built: Step, raw: Step) -> str:
    """The floor takes the cheaper way of mailing (the other is shown)."""
    mail = min(built, raw, key=lambda step: step.ms("mail client"))
    cores = os.cpu_count() or 1
    bare_ms = bare.ms()
    hop_ms = proxied.ms("proxy")
    delivery_ms = event.ms("consumer", "rabbitmq", "postgresql")
    publish_ms = event.ms("publisher")
    mail_ms = mail.ms("mail client")
    requests = REQUESTS * (bare_ms + hop_ms)
    floor = requests + DELIVERIES * delivery_ms + PUBLISHES * publish_ms + MAILS * mail_ms
    literal = requests + DELIVERIES * event.ms() + MAILS * mail_ms
    as_built = floor + MAILS * (built.ms("mail client") - mail_ms)
    lines = [
        "",
        f"{'part of a booking':<46} {'CPU ms':>8} {'x':>3} {'ms/booking':>10}",
        f"{'bare request (confirm + server + pg + client)':<46} {bare_ms:8.3f} {REQUESTS:>3} "
        f"{REQUESTS * bare_ms:10.3f}",
        f"{'gateway hop (proxy process)':<46} {hop_ms:8.3f} {REQUESTS:>3} "
        f"{REQUESTS * hop_ms:10.3f}",
        f"{'event delivery (consumer + broker + pg)':<46} {delivery_ms:8.3f} {DELIVERIES:>3} "
        f"{DELIVERIES * delivery_ms:10.3f}",
        f"{'relay publish (publisher process)':<46} {publish_ms:8.3f} {PUBLISHES:>3} "
        f"{PUBLISHES * publish_ms:10.3f}",
        f"{'mail, client side (' + mail.name.split(', ')[1] + ')':<46} {mail_ms:8.3f} "
        f"{MAILS:>3} {MAILS * mail_ms:10.3f}",
        f"{'booking floor':<46} {'':8} {'':3} {floor:10.3f}",
        "",
        f"  hop cross-check: proxied request {proxied.ms():.3f} ms - bare {bare_ms:.3f} ms = "
        f"{proxied.ms() - bare_ms:.3f} ms (all processes) vs {hop_ms:.3f} ms (proxy process)",
        f"  mail client: EmailMessage {built.ms('mail client'):.3f} ms, raw "
        f"{raw.ms('mail client'):.3f} ms; smtp inbox (not counted) "
        f"{built.ms('smtp inbox'):.3f} / {raw.ms('smtp inbox'):.3f} ms per mail",
        "",
        f"floor ratio = bare confirm CPU / booking floor CPU = {bare_ms:.3f} / {floor:.3f} = "
        f"{bare_ms / floor:.3f}",
        f"  with a publish per delivery (the event step's whole CPU x {DELIVERIES}): "
        f"{literal:.3f} ms/booking, ratio {bare_ms / literal:.3f}",
        f"  with 4 deliveries (docs/architecture.md's subscriptions: transfer, guest, "
        f"notification x 2): {floor - delivery_ms:.3f} ms/booking, ratio "
        f"{bare_ms / (floor - delivery_ms):.3f}",
        f"  with the mail as an EmailMessage: {as_built:.3f} ms/booking, ratio "
        f"{bare_ms / as_built:.3f}",
        "",
        f"rates ({cores} cores):",
        f"  bare confirms measured R = {bare.rate:.0f}/s; CPU-bound estimate "
        f"{cores} x 1000 / {bare_ms:.3f} ms = {cores * 1000 / bare_ms:.0f}/s "
        f"(measured {bare.rate / (cores * 1000 / bare_ms):.0%} of it)",
        f"  bookings at the floor: {cores} x 1000 / {floor:.3f} ms = "
        f"{cores * 1000 / floor:.0f}/s = {cores * 1000 / floor / bare.rate:.3f} x R",
        f"  steps measured alone: proxied confirms {proxied.rate:.0f}/s, events "
        f"{event.rate:.0f}/s, mails {mail.rate:.0f}/s (one connection)",
        "  (a rate below its CPU-bound estimate: latency-bound, e.g. commits waiting for the "
        "WAL flush, whose writer is not counted; or other work on the machine)",
        f"  a booking is {REQUESTS} proxied requests, {DELIVERIES} deliveries, {PUBLISHES} "
        f"publishes, {MAILS} mails: in series on these rates "
        f"{1 / (REQUESTS / proxied.rate + DELIVERIES / event.rate + MAILS / mail.rate):.0f} "
        "bookings/s if each step already filled the cores",
        "",
        "not in the floor (so the platform's real cost is higher): the create request's own "
        "work (it is counted as a second bare confirm), the outbox row INSERT in the business "
        "transaction and the relay's read and mark of it, authentication, the services' "
        "middleware and validation, templates, retries and dead-letter queues.",
    ]
    return "\n".join(lines)


def measure(args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    namespace = f"bench-{run}.floor."
    database = f"bench_{run}_floor_inbox"
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores", flush=True)
    with contextlib.ExitStack() as stack:
        bare_app = Bare.start()
        stack.callback(bare_app.stop)
        port = free_port()
        proxy = stack.enter_context(child("proxy", "--port", str(port), "--upstream", bare_app.url))
        wait_listening(port, proxy)
        bare_groups: dict[str, int | Named] = {
            "bare app": bare_app.process.pid,
            "postgresql": postgres([bare_app.database]),
        }
        bare = http_step(
            "1. bare confirm",
            f"load.py ({args.concurrency} clients) -> bare.py POST /confirm (one transaction) "
            "-> PostgreSQL",
            bare_app.url,
            bare_groups,
            args,
        )
        print(show(bare), flush=True)
        proxied = http_step(
            "2. proxied confirm",
            "load.py -> raw ASGI proxy (uvicorn, gateway.wire.Pool keep-alive) -> bare.py",
            f"http://127.0.0.1:{port}",
            {**bare_groups, "proxy": proxy.pid},
            args,
        )
        print(show(proxied), flush=True)
        stack.callback(lambda: asyncio.run(undeclare(namespace)))
        exchange_name, queue_name = asyncio.run(declare(namespace))
        stack.callback(lambda: asyncio.run(drop_database(f"{PG}/{database}")))
        dsn = asyncio.run(create_inbox_database(database))
        event = event_step(exchange_name, queue_name, dsn, database, args)
        print(show(event), flush=True)
        inbox = stack.enter_context(child("inbox"))
        smtp_port = inbox.read()["port"]
        built = mail_step(args, inbox, smtp_port, raw=False)
        print(show(built), flush=True)
        raw = mail_step(args, inbox, smtp_port, raw=True)
        print(show(raw), flush=True)
        print(report(bare, proxied, event, built, raw))
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per HTTP and mail step")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=50, help="publishes in flight at once")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    parser.add_argument("--exchange", help=argparse.SUPPRESS)
    parser.add_argument("--queue", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "proxy":
        serve_proxy(args.port, args.upstream)
    elif args.serve == "inbox":
        serve_inbox()
    elif args.serve == "publisher":
        run_loop(publisher(args.exchange, args.events, args.batch))
    elif args.serve == "consumer":
        run_loop(consumer(args.queue, args.dsn, args.events))
    elif args.serve == "mailer":
        run_loop(mailer(args.port, args.seconds, args.raw))
    else:
        # Ctrl-C (even where the shell started us ignoring it) and SIGTERM (timeout, kill)
        # both unwind the run: processes stopped, queues, exchange and databases removed.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            measure(args)
        except KeyboardInterrupt:
            print("interrupted; processes, queues and databases cleaned up", file=sys.stderr)
            raise SystemExit(130) from None


if __name__ == "__main__":
    main()
