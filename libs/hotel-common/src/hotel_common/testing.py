"""Helpers for tests (and benchmarks) that drive a service or the platform from outside:
the app's lifespan with a client, the app over real HTTP, polling for an eventual outcome,
problem+json checks, a real SMTP server to receive mail, a TCP proxy to cut a connection, and
one sample-event factory per contract.

Servers started in-process bind port 0 and read the port back: no "find a free port, then
bind it" race. Only a child process that must be told its port up front uses `free_port`.
"""

import asyncio
import email
import hashlib
import inspect
import json
import random
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text as sa_text

from hotel_common import db
from hotel_common.contracts.guests import GuestErased
from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationCheckedOut,
    ReservationConfirmed,
    ReservationExpired,
    ReservationModified,
    ReservationNoShow,
    TransferRequest,
)
from hotel_common.contracts.transfers import TransferAssigned, TransferCancelled
from hotel_common.errors import PROBLEM_JSON, TYPE_BASE
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import HEADER, Kind, Principal, Role, sign
from hotel_common.settings import DEV_INTERNAL_SECRET

T = TypeVar("T")


# Who a test client calling a service directly is, unless it says otherwise: the platform's
# admin, as the gateway would sign it (authorization tests pass their own).
TEST_ADMIN = Principal(id="staff:test-admin", kind=Kind.STAFF, roles=frozenset({Role.ADMIN}))


def principal_headers(principal: Principal, secret: str = DEV_INTERNAL_SECRET) -> dict[str, str]:
    """The X-Principal header the gateway would send for `principal` (valid for an hour)."""
    return {HEADER: sign(principal, secret, lifetime=3600)}


@asynccontextmanager
async def running(
    app: FastAPI, base_url: str = "http://testserver", principal: Principal | None = TEST_ADMIN
) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan and yield a client that calls it in-process, as `principal`
    (signed with the app's `internal_secret`; None: no principal header)."""
    settings = getattr(app.state, "settings", None)
    secret = getattr(settings, "internal_secret", DEV_INTERNAL_SECRET)
    headers = principal_headers(principal, secret) if principal is not None else {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url, headers=headers
        ) as client,
    ):
        yield client


@asynccontextmanager
async def serving(
    app: FastAPI, *, lifespan: Literal["on", "off"] = "on", **config: Any
) -> AsyncIterator[str]:
    """Serve `app` over real HTTP on a loopback port of its own (bound to port 0, read back);
    yields its base URL and stops the server on the way out. `config`: more uvicorn options."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan, **config))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), timeout=30)
        assert server.started, "the test server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
        sock.close()


async def eventually(
    probe: Callable[[], Awaitable[T] | T],
    until: Callable[[T], bool] = bool,
    timeout: float = 10.0,
    interval: float = 0.02,
) -> T:
    """Poll `probe` (a plain function or a coroutine function) until `until(result)` holds;
    fail with the last result after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer = probe()
        result: T = await answer if inspect.isawaitable(answer) else answer
        if until(result):
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        await asyncio.sleep(interval)


class TcpProxy:
    """A loopback TCP proxy a test can cut and restore, to play a broker outage.

    `cut()` closes every open connection and refuses new ones; `restore()` accepts again.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.up = True
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pipes |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()
                self._pipes.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        self.up = False
        for writer in list(self._pipes):
            writer.close()
        self._pipes.clear()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server:
            self._server.close()
            await self._server.wait_closed()


def scratch_url(kind: str, tmp_path: Path, name: str = "scratch") -> str:
    """A database URL of its own for one test: a SQLite file in `tmp_path`, or a new database
    on the machine's PostgreSQL (`kind` "sqlite" or "postgresql")."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_{name}_{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def scratch_engine(kind: str, tmp_path: Path, name: str = "scratch") -> AsyncIterator[Any]:
    """An engine on a `scratch_url` database, created first and dropped after."""
    url = scratch_url(kind, tmp_path, name)
    await db.ensure_database(url)
    engine = db.create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
        await db.drop_database(url)


async def columns_holding(url: str, *values: str) -> list[str]:
    """Every `table.column` of the database at `url` whose text holds one of `values` (any case,
    JSON-escaped spellings included): how an erasure test proves no copy of a person is left.
    Reads every row of every table: for test databases only."""
    wanted = {s.lower() for v in values for s in (v, json.dumps(v)[1:-1])}
    found: list[str] = []
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(
                lambda sync: {
                    t: [c["name"] for c in sa_inspect(sync).get_columns(t)]
                    for t in sa_inspect(sync).get_table_names()
                }
            )
            for table, columns in tables.items():
                for column in columns:
                    cells = await conn.scalars(
                        sa_text(f'SELECT CAST("{column}" AS TEXT) FROM "{table}"')
                    )
                    if any(w in (cell or "").lower() for cell in cells for w in wanted):
                        found.append(f"{table}.{column}")
    finally:
        await engine.dispose()
    return found


def upgrade_to(connection: Any, migrations_dir: Path, revision: str) -> None:
    """Run one service history up to `revision` on a sync connection (`conn.run_sync`), to
    put data in an old schema before a migration under test."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


# Below the kernel's ephemeral range (Linux 32768-60999, macOS 49152-65535): a child told
# to listen on a port of its own, killed and started again on it (tests/test_crashes.py), finds
# it free. A port from the ephemeral range could meanwhile be the local end of any process's
# outgoing connection (a database or broker pool), and the restarted child failed to bind.
CHILD_PORTS = range(20000, 32768)
_draw = random.SystemRandom()  # not the `random` module: xdist workers may share its seed


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking). Only for a child process
    that must be told its port; a server in this process binds port 0 instead."""
    while True:
        port = _draw.choice(CHILD_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # taken (or lingering): draw another
                continue
            return port


def reserve_port() -> socket.socket:
    """A loopback port held but not listened on: a connection to it is refused, and a server
    binding it with `reuse_port=True` can take it over with no race. Close it when done."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class MailServer:
    """A real SMTP server (aiosmtpd, a test dependency) in its own thread, keeping every
    message it accepts; recipients in `reject` are refused with 550.

    Its port is held from construction (a connection is refused until `start()`), so a test
    can point a service at `url` first and play a mail server that is down, then comes up.
    """

    def __init__(self) -> None:
        self._reserved: socket.socket | None = reserve_port()
        self.port: int = self._reserved.getsockname()[1]
        self.messages: list[EmailMessage] = []
        self.reject: set[str] = set()
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.reject:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"

    def controller_options(self) -> dict[str, Any]:
        """More options of aiosmtpd's Controller (a subclass may ask for a login, say)."""
        return {}

    async def start(self) -> "MailServer":
        from aiosmtpd.controller import Controller  # test dependency, not a runtime one

        class SharedPortController(Controller):
            def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
                return self.loop.create_server(
                    self._factory_invoker, host=self.hostname, port=self.port, reuse_port=True
                )

        self._controller = SharedPortController(
            self, hostname="127.0.0.1", port=self.port, **self.controller_options()
        )
        await asyncio.to_thread(self._controller.start)
        return self

    async def stop(self) -> None:
        """Stop serving (and release the port)."""
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"].addresses[0].addr_spec == address]


def deliver(
    broker: InMemoryBroker, event: IntegrationEvent | Envelope, source: str = "other-service"
) -> Envelope:
    """Put `event` on the in-memory bus as service `source` publishes it (an envelope as it is,
    for a redelivery); the consumers take it asynchronously. Returns the envelope."""
    envelope = event if isinstance(event, Envelope) else Envelope.wrap(event, source)
    broker.route(envelope)
    return envelope


def guest_erased(
    *reservation_ids: str, email: str, phone: str, name: str, version: int
) -> GuestErased:
    """`guest.erased` as guest-service publishes it, for one guest of one email, phone and name
    whose stays are `reservation_ids`."""
    return GuestErased(
        guest_id="3c2b1a09-8f7e-4d6c-b5a4-93827160fedc",
        reservation_ids=list(reservation_ids),
        emails=[email],
        phones=[phone],
        names=[name],
        erased_at=datetime.now(UTC),
        aggregate_version=version,
    )


class Probe:
    """A queue of its own on an in-memory broker, recording every event of `event_types`
    published from the moment it is declared (declare it before anything is published)."""

    def __init__(self, broker: InMemoryBroker, event_types: set[str]) -> None:
        self._queue = broker.declare(f"probe-{uuid.uuid4().hex}", event_types)
        self.seen: list[Envelope] = []

    def events(self, event_type: str | None = None) -> list[Envelope]:
        """What arrived so far, oldest first; only `event_type`'s if given."""
        while not self._queue.messages.empty():
            self.seen.append(self._queue.messages.get_nowait()[0])
        return [e for e in self.seen if event_type in (None, e.type)]


def assert_problem(response: httpx.Response, status: int, type_suffix: str) -> dict[str, Any]:
    """`response` is a problem+json answer of `status` whose type ends in `type_suffix` (the
    problem's stable code); returns its body for further checks."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == TYPE_BASE + type_suffix, body
    assert (body["status"], body["code"]) == (status, type_suffix), body
    return body


def stable_digits(text: str, count: int) -> str:
    """`count` decimal digits derived from `text`, the same in every process (unlike hash(),
    which is salted per process)."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return f"{number % 10**count:0{count}d}"


# Sample events: one factory per contract, as its publisher sends it. Keyword arguments
# replace fields; the defaults describe one stay at the Harbour View Hotel.

SAMPLE_CHECK_IN = date(2030, 6, 1)  # a Saturday far enough ahead never to be in the past
SAMPLE_ARRIVAL = datetime(2030, 6, 1, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai


def _confirmation_number() -> str:
    return f"HV{uuid.uuid4().hex[:6].upper()}"


def guest_contact(language: str = "en", **overrides: Any) -> GuestContact:
    """A guest with an address of their own (unique per call) and a name in `language`."""
    name = {"en": "Emma Clarke", "zh-Hans": "李明", "zh-Hant": "陳美玲"}.get(language, "Guest")
    fields: dict[str, Any] = {
        "name": name,
        "email": f"guest-{uuid.uuid4().hex[:8]}@example.com",
        "phone": "+8613800000000",
        "language": language,
    }
    return GuestContact(**(fields | overrides))


def transfer_request(**overrides: Any) -> TransferRequest:
    """An airport pickup for two, landing at `SAMPLE_ARRIVAL`."""
    fields: dict[str, Any] = {
        "flight_number": "MU5101",
        "arrival_time": SAMPLE_ARRIVAL,
        "pickup_place": "Pudong Airport T2, arrivals exit 5",
        "passengers": 2,
    }
    return TransferRequest(**(fields | overrides))


def reservation_confirmed(**overrides: Any) -> ReservationConfirmed:
    """A confirmed booking of three nights from `SAMPLE_CHECK_IN`, without a transfer unless
    `transfer=transfer_request(...)`."""
    fields: dict[str, Any] = {
        "reservation_id": str(uuid.uuid4()),
        "confirmation_number": _confirmation_number(),
        "property_name": "Harbour View Hotel",
        "property_timezone": "Asia/Shanghai",
        "room_type_code": "DLX",
        "room_type_name": "Deluxe King Room",
        "check_in": SAMPLE_CHECK_IN,
        "check_out": SAMPLE_CHECK_IN + timedelta(days=3),
        "guests": 2,
        "total_amount": 128000,
        "currency": "CNY",
        "guest": guest_contact(),
        "transfer": None,
    }
    return ReservationConfirmed(**(fields | overrides))


def _stay_of(booking: ReservationConfirmed) -> dict[str, Any]:
    """What every later event of `booking` carries of it: its names, its stay, its guest."""
    return {
        "reservation_id": booking.reservation_id,
        "confirmation_number": booking.confirmation_number,
        "property_name": booking.property_name,
        "check_in": booking.check_in,
        "check_out": booking.check_out,
        "guest": booking.guest,
    }


def reservation_cancelled(
    of: ReservationConfirmed | None = None, **overrides: Any
) -> ReservationCancelled:
    """The cancellation of booking `of` (a fresh sample booking if None)."""
    booking = of or reservation_confirmed()
    fields: dict[str, Any] = {
        **_stay_of(booking),
        "reason": "guest request",
        "was_confirmed": True,
    }
    return ReservationCancelled(**(fields | overrides))


def reservation_modified(
    of: ReservationConfirmed | None = None,
    *,
    changes: dict[str, dict[str, object]] | None = None,
    **overrides: Any,
) -> ReservationModified:
    """Booking `of` (a fresh sample booking if None) after a change: `overrides` are its new
    values; `changes` defaults to {"field": {"from": old, "to": new}} for every override that
    differs from `of` (dates, instants and the transfer as JSON, as the publisher sends them)."""
    booking = of or reservation_confirmed()
    fields: dict[str, Any] = booking.model_dump(exclude={"aggregate_version"}) | {
        "status": "confirmed"
    }
    new = fields | overrides
    if changes is None:
        old_json = booking.model_dump(mode="json")
        new_json = ReservationModified(**new, changes={}).model_dump(mode="json")
        changes = {
            name: {"from": old_json.get(name), "to": new_json[name]}
            for name in overrides
            if name in new_json
            and name not in ("status", "aggregate_version")
            and old_json.get(name) != new_json[name]
        }
    return ReservationModified(**new, changes=changes)


def reservation_no_show(
    of: ReservationConfirmed | None = None, **overrides: Any
) -> ReservationNoShow:
    """Booking `of` (a fresh sample booking if None) marked no-show, charged its first night."""
    booking = of or reservation_confirmed()
    nights = max((booking.check_out - booking.check_in).days, 1)
    fields: dict[str, Any] = {
        **_stay_of(booking),
        "fee_amount": booking.total_amount // nights,
        "currency": booking.currency,
    }
    return ReservationNoShow(**(fields | overrides))


def reservation_expired(
    of: ReservationConfirmed | None = None, **overrides: Any
) -> ReservationExpired:
    """Booking request `of` (a fresh sample booking if None) that was never confirmed."""
    booking = of or reservation_confirmed()
    return ReservationExpired(**(_stay_of(booking) | overrides))


def reservation_checked_out(
    of: ReservationConfirmed | None = None, **overrides: Any
) -> ReservationCheckedOut:
    """Booking `of` (a fresh sample booking if None) checked out after its whole stay, having
    spent its total."""
    booking = of or reservation_confirmed()
    fields: dict[str, Any] = {
        **_stay_of(booking),
        "nights": (booking.check_out - booking.check_in).days,
        "amount_spent": booking.total_amount,
        "currency": booking.currency,
    }
    return ReservationCheckedOut(**(fields | overrides))


def transfer_assigned(**overrides: Any) -> TransferAssigned:
    """A pickup with its car and driver; the driver is on site 30 minutes before the agreed
    time (docs/domain.md, transfer-service)."""
    pickup_time = overrides.get("pickup_time", SAMPLE_ARRIVAL)
    fields: dict[str, Any] = {
        "transfer_id": str(uuid.uuid4()),
        "reservation_id": str(uuid.uuid4()),
        "confirmation_number": _confirmation_number(),
        "guest": guest_contact(),
        "pickup_place": "Pudong Airport T2, arrivals exit 5",
        "destination": "Harbour View Hotel",
        "pickup_time": pickup_time,
        "driver_on_site_at": pickup_time - timedelta(minutes=30),
        "flight_number": "MU5101",
        "driver_name": "Zhang Wei",
        "driver_phone": "+86 139 0013 9000",
        "vehicle_plate": "沪A·12345",
        "vehicle_description": "black Buick GL8, 7 seats",
        "property_timezone": "Asia/Shanghai",
    }
    return TransferAssigned(**(fields | overrides))


def transfer_cancelled(**overrides: Any) -> TransferCancelled:
    """A pickup called off because its booking was cancelled."""
    fields: dict[str, Any] = {
        "transfer_id": str(uuid.uuid4()),
        "reservation_id": str(uuid.uuid4()),
        "reason": "reservation cancelled",
    }
    return TransferCancelled(**(fields | overrides))


class HttpProviderStub:
    """A real HTTP provider (SMS or push webhook) on a loopback port of its own, for tests:
    `async with HttpProviderStub("sms-a") as stub:` then point a provider's url at `stub.url`.
    Records each request (`requests`: {"path", "headers" (lower-case names), "json"}) and
    answers the next status of `statuses` (then `status`, 202 unless told) with
    {"message_id": "<name>-<n>"} on a 2xx."""

    def __init__(self, name: str = "provider", status: int = 202) -> None:
        self.name = name
        self.status = status
        self.statuses: list[int] = []  # answered in turn before `status`
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self._serving: Any = None

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """The requests it answered with a 2xx."""
        return [r for r in self.requests if 200 <= r["status"] < 300]

    def _app(self) -> FastAPI:
        from fastapi import Request
        from fastapi.responses import JSONResponse

        app = FastAPI()

        @app.post("/{path:path}")
        async def receive(path: str, request: Request) -> JSONResponse:
            status = self.statuses.pop(0) if self.statuses else self.status
            try:
                body = await request.json()
            except ValueError:
                body = None
            self.requests.append(
                {
                    "path": "/" + path,
                    "headers": {k.lower(): v for k, v in request.headers.items()},
                    "json": body,
                    "status": status,
                }
            )
            answer = {"message_id": f"{self.name}-{len(self.requests)}"} if status < 300 else {}
            return JSONResponse(answer, status_code=status)

        return app

    async def __aenter__(self) -> "HttpProviderStub":
        self._serving = serving(self._app(), lifespan="off")
        base = await self._serving.__aenter__()
        self.url = f"{base}/v1/{self.name}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._serving is not None:
            await self._serving.__aexit__(None, None, None)
            self._serving = None
