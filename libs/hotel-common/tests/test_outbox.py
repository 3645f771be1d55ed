"""The outbox relay: rows that can never be published are parked while later rows flow, a
broker outage costs no attempts, one relay at a time per database keeps `seq` order with
several processes, and `/admin/outbox` shows and retries parked rows - on SQLite and
PostgreSQL, with a recording fake bus and once with the real RabbitMQ."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

import aio_pika
import pytest
from hotel_common.db import (
    SessionFactory,
    create_engine,
    create_session_factory,
    drop_database,
    ensure_database,
    transaction,
)
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.outbox import SOURCE_INFO, OutboxMessage, OutboxRelay, add_event
from hotel_common.events.rabbit import RabbitBus, delete_namespace
from hotel_common.service import Runtime, ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import eventually, running
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

RABBIT = "amqp://guest:guest@127.0.0.1:5672/"


class Ping(IntegrationEvent):
    event_type: ClassVar[str] = "test.ping"
    n: int
    refuse: bool = False
    guest: str = ""


class Huge(IntegrationEvent):
    event_type: ClassVar[str] = "test.huge"
    blob: str


class RecordingBus:
    """Plays the broker for a relay: keeps what it confirmed, in the order it confirmed it."""

    def __init__(self, log: list[Envelope] | None = None, delay: float = 0.0) -> None:
        self.log: list[Envelope] = [] if log is None else log
        self.delay = delay
        self.down = False
        self.gate: asyncio.Event | None = None  # publishes wait for it (a hung broker)
        self.calls = 0

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        self.calls += 1
        if any(e.payload.get("refuse") for e in envelopes):
            raise RuntimeError("message refused by the broker")
        if self.down:
            raise ConnectionError("broker unreachable")
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(self.delay)
        self.log.extend(envelopes)


def numbers(log: list[Envelope]) -> list[int]:
    return [e.payload["n"] for e in log]


async def outbox_engine(url: str) -> AsyncEngine:
    await ensure_database(url)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(
            OutboxMessage.metadata.create_all,
            tables=[OutboxMessage.__table__],  # type: ignore[attr-defined]
        )
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
async def sessions(
    request: pytest.FixtureRequest, sqlite_url: str, pg_url: str
) -> AsyncIterator[SessionFactory]:
    url = sqlite_url if request.param == "sqlite" else pg_url
    engine = await outbox_engine(url)
    yield create_session_factory(engine, **{SOURCE_INFO: "test"})
    await engine.dispose()
    await drop_database(url)


async def write(sessions: SessionFactory, *events: IntegrationEvent) -> None:
    for event in events:  # one transaction each, as separate requests would
        async with transaction(sessions) as session:
            add_event(session, event)


async def write_invalid(sessions: SessionFactory) -> None:
    """A row whose envelope no longer validates (as after a schema change): no source."""
    async with transaction(sessions) as session:
        eid = str(uuid.uuid4())
        session.add(
            OutboxMessage(id=eid, type="test.ping", envelope={"id": eid, "type": "test.ping"})
        )


async def rows(sessions: SessionFactory) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.seq))
        return list((await session.exec(query)).all())


async def test_a_row_that_cannot_be_published_is_parked_after_its_attempts_and_later_rows_flow(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await write(sessions, Ping(n=0))
    await write_invalid(sessions)
    await write(sessions, Ping(n=1), Ping(n=2, refuse=True, guest="Ada Lovelace"), Ping(n=3))
    bus = RecordingBus()
    relay = OutboxRelay(sessions, bus, poll_seconds=0.02)  # type: ignore[arg-type]
    relay.start()
    try:
        await eventually(relay.counts, lambda c: c.get("parked") == 2 and c["pending"] == 0)
    finally:
        await relay.stop()
    assert numbers(bus.log) == [0, 1, 3]
    parked = [r for r in await rows(sessions) if r.parked_at is not None]
    assert [r.attempts for r in parked] == [5, 5]  # the default number of attempts
    invalid, refused = (r.last_error or "" for r in parked)
    assert "source" in invalid  # the field that no longer validates
    assert "refused" in refused
    # Ids only in the logs and the error: never the payload (guest data).
    assert "Ada" not in refused
    assert "Ada" not in str([r.__dict__ for r in caplog.records])


async def test_a_broker_outage_counts_no_attempts_against_rows(sessions: SessionFactory) -> None:
    # The refusal of n=2 comes in a pass that lost the broker: it may be the outage's doing.
    await write(sessions, Ping(n=0), Ping(n=1), Ping(n=2, refuse=True))
    bus = RecordingBus()
    bus.down = True
    relay = OutboxRelay(sessions, bus)  # type: ignore[arg-type]
    for _ in range(7):  # more passes than the default number of attempts
        with pytest.raises(ConnectionError):
            await relay.relay_once()
    assert [(r.attempts, r.published_at) for r in await rows(sessions)] == [(0, None)] * 3
    bus.down = False
    assert await relay.relay_once() == 3
    assert numbers(bus.log) == [0, 1]
    assert [r.attempts for r in await rows(sessions)] == [0, 0, 1]  # now it is the row's
    assert (await relay.counts())["parked"] == 0


@pytest.fixture
async def two_processes(pg_url: str) -> AsyncIterator[tuple[SessionFactory, SessionFactory]]:
    """Two engines (two pools, as two processes of a service have) on one PostgreSQL database."""
    first = await outbox_engine(pg_url)
    second = create_engine(pg_url)
    yield tuple(create_session_factory(e, **{SOURCE_INFO: "test"}) for e in (first, second))
    await first.dispose()
    await second.dispose()
    await drop_database(pg_url)


async def test_two_relays_on_one_database_publish_an_aggregates_rows_in_seq_order(
    two_processes: tuple[SessionFactory, SessionFactory],
) -> None:
    sessions_a, sessions_b = two_processes
    await write(sessions_a, *(Ping(n=i) for i in range(30)))  # one booking's events, in order
    log: list[Envelope] = []
    slow, fast = RecordingBus(log, delay=0.3), RecordingBus(log)
    a = OutboxRelay(sessions_a, slow, poll_seconds=0.05, batch_size=5)  # type: ignore[arg-type]
    b = OutboxRelay(sessions_b, fast, poll_seconds=0.05, batch_size=5)  # type: ignore[arg-type]
    a.start()
    try:
        await eventually(lambda: slow.calls)  # a is publishing its batch
        b.start()
        await eventually(lambda: len(log), lambda n: n >= 30, timeout=20)
    finally:
        await a.stop()
        await b.stop()
    assert numbers(log) == list(range(30))


async def standby_acted(sessions: SessionFactory, bus: RecordingBus) -> bool:
    async with sessions() as session:
        query = select(func.count()).select_from(text("pg_locks"))
        waiting = await session.exec(query.where(text("locktype = 'advisory' AND NOT granted")))
        return bus.calls > 0 or waiting.one() > 0


async def test_when_the_active_relay_stops_the_standby_takes_over_in_order(
    two_processes: tuple[SessionFactory, SessionFactory],
) -> None:
    sessions_a, sessions_b = two_processes
    await write(sessions_a, *(Ping(n=i) for i in range(12)))
    log: list[Envelope] = []
    hung, standby = RecordingBus(log), RecordingBus(log)
    hung.gate = asyncio.Event()  # never opened: the active relay hangs mid-publish
    a = OutboxRelay(sessions_a, hung, poll_seconds=0.05, batch_size=5)  # type: ignore[arg-type]
    b = OutboxRelay(sessions_b, standby, poll_seconds=0.05, batch_size=5)  # type: ignore[arg-type]
    a.start()
    try:
        await eventually(lambda: hung.calls)
        b.start()
        # b either published past a's rows (the bug) or waits for the relay lock.
        await eventually(lambda: standby_acted(sessions_b, standby))
        await a.stop()  # its transaction ends, and with it the relay lock
        await eventually(lambda: len(log), lambda n: n >= 12, timeout=20)
    finally:
        await a.stop()
        await b.stop()
    assert numbers(log) == list(range(12))


@pytest.mark.infra
async def test_a_message_rabbitmq_refuses_is_parked_and_the_rest_arrive_in_order(
    pg_url: str,
) -> None:
    namespace = f"test-{uuid.uuid4().hex[:8]}."
    engine = await outbox_engine(pg_url)
    sessions = create_session_factory(engine, **{SOURCE_INFO: "test"})
    bus = RabbitBus(RABBIT, "outbox-test", namespace=namespace)
    conn = await aio_pika.connect(RABBIT)
    try:
        await bus.start()
        await eventually(bus.ready, timeout=15)
        channel = await conn.channel()
        probe = await channel.declare_queue(exclusive=True)
        await probe.bind(bus.exchange_name, "test.ping")
        # A queue that cannot take a message over 1000 bytes: RabbitMQ nacks the big one.
        small = await channel.declare_queue(
            exclusive=True,
            arguments={"x-max-length-bytes": 1000, "x-overflow": "reject-publish"},
        )
        await small.bind(bus.exchange_name, "test.huge")
        await write(sessions, Ping(n=0), Huge(blob="x" * 5000), *(Ping(n=i) for i in range(1, 50)))
        relay = OutboxRelay(sessions, bus, poll_seconds=0.02)
        relay.start()
        try:
            await eventually(relay.counts, lambda c: c.get("parked") == 1 and c["pending"] == 0)
        finally:
            await relay.stop()
        got = []
        while (message := await probe.get(timeout=5, fail=False)) is not None:
            got.append(Envelope.from_bytes(message.body).payload["n"])
        assert got == list(range(50))  # in order, each once
        [parked] = [r for r in await rows(sessions) if r.parked_at is not None]
        assert parked.type == "test.huge" and "Nack" in (parked.last_error or "")
    finally:
        await conn.close()
        await bus.close()
        await delete_namespace(RABBIT, namespace, ["outbox-test"], bus.retry_delays)
        await engine.dispose()
        await drop_database(pg_url)


def refuse_notes(runtime: Runtime, prefix: str) -> dict[str, bool]:
    """Make the service's bus refuse notes whose text starts with `prefix` while "on"."""
    publish = runtime.bus.publish
    state = {"on": True}

    async def refusing(envelopes: Sequence[Envelope]) -> None:
        if state["on"] and any(str(e.payload.get("text")).startswith(prefix) for e in envelopes):
            raise ValueError("message too large for the broker")
        await publish(envelopes)

    runtime.bus.publish = refusing  # type: ignore[method-assign]
    return state


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str, pg_url: str) -> str:
    return sqlite_url if request.param == "sqlite" else pg_url


async def test_admin_outbox_pages_parked_rows_with_their_error_and_retries_them(
    toy_spec: ServiceSpec, db_url: str
) -> None:
    settings = ServiceSettings(
        service_name="toy-service",
        database_url=db_url,
        retry_delays=[0.01],
        outbox_poll_seconds=0.05,
        outbox_max_attempts=2,
        log_json=False,
    )
    app = create_service_app(toy_spec, settings, InMemoryBroker())
    try:
        async with running(app) as client:
            refusing = refuse_notes(app.state.runtime, "refuse")
            for text in ("refuse one", "refuse two", "fine"):
                assert (await client.post("/api/v1/notes", json={"text": text})).status_code == 201

            async def texts() -> list[str]:
                return [n["text"] for n in (await client.get("/api/v1/notes")).json()]

            await eventually(texts, lambda t: "echo:fine" in t)  # later rows flow
            state = await eventually(
                lambda: client.get("/admin/outbox"), lambda r: r.json().get("parked") == 2
            )
            assert state.json()["pending"] == 0
            first = (await client.get("/admin/outbox", params={"limit": 1})).json()
            assert first["next_cursor"] is not None
            second = (
                await client.get(
                    "/admin/outbox", params={"limit": 1, "cursor": first["next_cursor"]}
                )
            ).json()
            assert second["next_cursor"] is None
            [one], [two] = first["items"], second["items"]
            assert one["id"] != two["id"] and one["type"] == "toy.note_written"
            assert one["attempts"] == 2 and "too large" in one["last_error"]
            assert "refuse one" not in str(first)  # the payload is not shown
            ready = await client.get("/health/ready")
            assert ready.status_code == 200  # a parked row is reported, not an outage
            assert ready.json()["checks"]["outbox"] == "2 parked"

            refusing["on"] = False  # the cause is fixed: retry one, then all
            retried = await client.post(f"/admin/outbox/{one['id']}/retry")
            assert retried.status_code == 200 and retried.json()["parked_at"] is None
            await eventually(texts, lambda t: "echo:refuse one" in t)
            assert (await client.post("/admin/outbox/retry")).json() == {"retried": 1}
            await eventually(texts, lambda t: "echo:refuse two" in t)
            state = (await client.get("/admin/outbox")).json()
            assert (state["parked"], state["items"]) == (0, [])
            ready = await client.get("/health/ready")
            assert ready.json()["checks"]["outbox"] == "ok"

            missing = await client.post(f"/admin/outbox/{uuid.uuid4()}/retry")
            assert missing.status_code == 404
            assert missing.json()["code"] == "outbox_row_not_found"
            not_parked = await client.post(f"/admin/outbox/{one['id']}/retry")
            assert not_parked.status_code == 409
            assert not_parked.json()["code"] == "outbox_row_not_parked"
    finally:
        await drop_database(db_url)
