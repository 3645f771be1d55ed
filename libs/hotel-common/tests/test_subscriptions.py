"""One way to subscribe: `runtime.handle(Contract, handler, name=...)` gives the handler the
typed event once per event, keyed by the stable name; events name their source by themselves;
start-up leaves nothing running when a step fails."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import pytest
from hotel_common import context, db
from hotel_common.events.envelope import Envelope, IntegrationEvent, newer, newer_than_stored
from hotel_common.events.inbox import ProcessedEvent
from hotel_common.events.memory import InMemoryBroker, InMemoryBus
from hotel_common.events.outbox import SOURCE_INFO, OutboxMessage, OutboxRelay, add_event
from hotel_common.service import Runtime, ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from pydantic import ValidationError
from sqlalchemy import event as sa_event
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession


class RoomCleaned(IntegrationEvent):
    event_type: ClassVar[str] = "toy.room_cleaned"
    aggregate: ClassVar[tuple[str, str] | None] = ("room", "room_id")
    room_id: str
    minutes: int


@pytest.fixture
async def runtime(sqlite_url: str) -> AsyncIterator[Runtime[ServiceSettings]]:
    engine = db.create_engine(sqlite_url)
    async with engine.begin() as conn:
        for table in (ProcessedEvent, OutboxMessage):
            await conn.run_sync(lambda c, t=table: t.__table__.create(c))  # type: ignore[attr-defined]
    sessions = db.create_session_factory(engine, **{SOURCE_INFO: "toy-service"})
    bus = InMemoryBus(InMemoryBroker(), "toy-service")
    settings = ServiceSettings(service_name="toy-service", database_url=sqlite_url)
    try:
        yield Runtime(settings, engine, sessions, bus, OutboxRelay(sessions, bus))
    finally:
        await engine.dispose()


def cleaned(room: str = "101", version: int = 4) -> Envelope:
    return Envelope.wrap(RoomCleaned(room_id=room, minutes=25, aggregate_version=version), "x")


async def processed(runtime: Runtime[ServiceSettings]) -> list[tuple[str, str]]:
    async with runtime.sessions() as session:
        rows = await session.exec(select(ProcessedEvent.event_id, ProcessedEvent.handler))
        return sorted((e, h) for e, h in rows.all())


async def test_the_handler_gets_the_typed_event_once_keyed_by_its_name(
    runtime: Runtime[ServiceSettings],
) -> None:
    seen: list[RoomCleaned] = []

    async def on_cleaned(_session: AsyncSession, event: RoomCleaned) -> None:
        seen.append(event)

    runtime.handle(RoomCleaned, on_cleaned, name="toy.log_cleaning")
    envelope = cleaned()
    for _ in range(2):  # redelivered
        await runtime.bus.subscriptions.dispatch(envelope)  # type: ignore[attr-defined]

    assert [(e.room_id, e.minutes, e.aggregate_version) for e in seen] == [("101", 25, 4)]
    assert seen[0].event_id == envelope.id
    assert await processed(runtime) == [(envelope.id, "toy.log_cleaning")]


async def test_a_renamed_function_or_a_former_key_does_not_apply_an_event_again(
    runtime: Runtime[ServiceSettings],
) -> None:
    done, legacy = cleaned("101"), cleaned("102")
    async with db.transaction(runtime.sessions) as session:
        session.add(ProcessedEvent(event_id=done.id, handler="toy.log_cleaning", event_type="t"))
        session.add(ProcessedEvent(event_id=legacy.id, handler="toy_mod.on_x", event_type="t"))
    seen: list[str] = []

    async def renamed_function(_session: AsyncSession, event: RoomCleaned) -> None:
        seen.append(event.room_id)

    runtime.handle(
        RoomCleaned, renamed_function, name="toy.log_cleaning", formerly=["toy_mod.on_x"]
    )
    for envelope in (done, legacy, cleaned("103")):
        await runtime.bus.subscriptions.dispatch(envelope)  # type: ignore[attr-defined]

    assert seen == ["103"]


@pytest.mark.parametrize(
    "name",
    ["transfer", "Transfer.open", "transfer.open-pickup", "transfer..open", "a." + "b" * 199],
)
def test_a_handler_name_is_dotted_lowercase(runtime: Runtime[ServiceSettings], name: str) -> None:
    async def handler(_session: AsyncSession, _event: RoomCleaned) -> None: ...

    with pytest.raises(ValueError, match="lowercase words joined by dots"):
        runtime.handle(RoomCleaned, handler, name=name)


def test_a_handler_name_is_unique_in_the_service(runtime: Runtime[ServiceSettings]) -> None:
    async def handler(_session: AsyncSession, _event: RoomCleaned) -> None: ...

    runtime.handle(RoomCleaned, handler, name="toy.room_2.cleaned")
    with pytest.raises(ValueError, match="subscribed twice"):
        runtime.handle(RoomCleaned, handler, name="toy.room_2.cleaned")


async def test_a_payload_that_does_not_validate_fails_before_anything_is_recorded(
    runtime: Runtime[ServiceSettings],
) -> None:
    async def handler(_session: AsyncSession, _event: RoomCleaned) -> None:
        raise AssertionError("never called")

    runtime.handle(RoomCleaned, handler, name="toy.log_cleaning")
    bad = cleaned().model_copy(update={"payload": {"room_id": "101", "minutes": "long"}})
    with pytest.raises(ValidationError):
        await runtime.bus.subscriptions.dispatch(bad)  # type: ignore[attr-defined]
    assert await processed(runtime) == []


async def test_an_event_names_the_service_whose_session_stages_it(
    runtime: Runtime[ServiceSettings], sqlite_url: str
) -> None:
    async with db.transaction(runtime.sessions) as session:
        envelope = add_event(session, RoomCleaned(room_id="1", minutes=5))
    assert envelope.source == "toy-service"

    bare = db.create_session_factory(runtime.engine)  # a factory that names no service
    async with db.transaction(bare) as session:
        token = context.service.set("other-service")
        try:
            assert add_event(session, RoomCleaned(room_id="1", minutes=5)).source == "other-service"
        finally:
            context.service.reset(token)
        with pytest.raises(RuntimeError, match="needs a service"):
            add_event(session, RoomCleaned(room_id="1", minutes=5))
        await session.rollback()


def test_an_unknown_version_is_never_newer() -> None:
    assert newer(3, 2) and not newer(2, 2) and not newer(1, 2)
    assert not newer(None, 1) and not newer(1, None) and not newer(None, None)


def test_an_unknown_stored_version_counts_as_0() -> None:
    assert newer_than_stored(1, None) and newer_than_stored(3, 2) and not newer_than_stored(2, 2)
    assert not newer_than_stored(0, None) and not newer_than_stored(None, None)
    assert not newer_than_stored(None, 1)


class ToySettings(ServiceSettings):
    colour: str = "blue"


def spec_failing(
    migrations_dir: Path, where: str, started: list[Runtime[ToySettings]]
) -> ServiceSpec[ToySettings]:
    async def on_start(runtime: Runtime[ToySettings]) -> None:
        assert runtime.settings.colour == "blue"  # the service's own class, typed
        started.append(runtime)
        disposed = runtime.extras["disposed"] = []
        runtime.extras["working"] = asyncio.Event()
        sa_event.listen(runtime.engine.sync_engine, "engine_disposed", disposed.append)
        if where == "on_start":
            raise RuntimeError("boom")

    async def worker(runtime: Runtime[ToySettings]) -> None:
        try:
            runtime.extras["working"].set()
            await asyncio.Event().wait()  # until cancelled
        finally:
            runtime.extras["worker_stopped"] = True

    async def seed(runtime: Runtime[ToySettings]) -> None:
        await runtime.extras["working"].wait()
        raise RuntimeError("boom")

    def subscribe(runtime: Runtime[ToySettings]) -> None:
        async def handler(_session: AsyncSession, _event: RoomCleaned) -> None: ...

        runtime.handle(RoomCleaned, handler, name="toy.log_cleaning")

    return ServiceSpec(
        name="toy-service",
        title="Toy",
        routers=[],
        migrations_dir=migrations_dir,
        settings_class=ToySettings,
        on_start=on_start,
        subscribe=subscribe,
        workers=[worker],
        seed=seed,
    )


@pytest.mark.parametrize("where", ["on_start", "seed"])
async def test_a_start_up_failing_halfway_stops_what_it_started(
    toy_spec: ServiceSpec, sqlite_url: str, where: str
) -> None:
    started: list[Runtime[ToySettings]] = []
    spec = spec_failing(toy_spec.migrations_dir, where, started)
    settings = ToySettings(service_name="toy-service", database_url=sqlite_url, seed_demo=True)
    app = create_service_app(spec, settings, InMemoryBroker())

    with pytest.raises(RuntimeError, match="boom"):
        async with app.router.lifespan_context(app):
            pass

    [runtime] = started
    assert runtime.extras["disposed"]  # the engine
    if where == "seed":  # the bus had started, the relay and the workers were running
        assert not await runtime.bus.ready()  # no consumer left
        assert runtime.extras["worker_stopped"]
        assert all(task.done() for task in runtime.tasks)
        assert runtime.relay._task is not None and runtime.relay._task.done()
    assert context.service.get() is None


def test_the_settings_are_the_service_s_own_class(toy_spec: ServiceSpec) -> None:
    spec = spec_failing(toy_spec.migrations_dir, "never", [])
    with pytest.raises(TypeError, match="needs ToySettings"):
        create_service_app(spec, ServiceSettings())  # type: ignore[arg-type]
