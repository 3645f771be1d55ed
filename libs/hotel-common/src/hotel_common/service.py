"""One factory for every service's FastAPI app: the same start-up, shutdown and wiring.

A service describes itself with a `ServiceSpec` (routers, migrations, event handlers, demo
seed, background workers); `create_service_app` does the rest. The running pieces live on
`app.state.runtime` and reach route handlers through `Depends` (see `hotel_common.deps`).
"""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from hotel_common import context, db, migrations
from hotel_common.contract import document_contract
from hotel_common.errors import document_problems, install_problem_handlers
from hotel_common.events.bus import EventBus
from hotel_common.events.inbox import E, EventHandler, check_handler_name, idempotent
from hotel_common.events.memory import InMemoryBroker, InMemoryBus
from hotel_common.events.outbox import SOURCE_INFO, WAKE_HOOK, OutboxRelay
from hotel_common.events.rabbit import RabbitBus
from hotel_common.health import router as health_router
from hotel_common.idempotency import IdempotencyMiddleware, document_idempotency
from hotel_common.logging import setup_logging
from hotel_common.middleware import RequestIdMiddleware
from hotel_common.principal import PrincipalGuard
from hotel_common.retention import keep_tidy
from hotel_common.settings import ServiceSettings, SettingsT
from hotel_common.strict import reject_unknown_query
from hotel_common.tasks import cancel_and_wait
from hotel_common.text import ControlCharacterGuard, document_control_characters

log = logging.getLogger(__name__)


@dataclass
class Runtime(Generic[SettingsT]):
    """What a running service holds: its settings (its own class), database, bus, outbox relay,
    workers."""

    settings: SettingsT
    engine: AsyncEngine
    sessions: db.SessionFactory
    bus: EventBus
    relay: OutboxRelay
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # service-owned singletons
    handler_names: set[str] = field(default_factory=set)
    # Sessions of GET/HEAD requests: AUTOCOMMIT, no BEGIN/ROLLBACK (db.read_only). None: `sessions`.
    read_sessions: db.SessionFactory | None = None

    def handle(
        self,
        contract: type[E],
        handler: EventHandler[E],
        *,
        name: str,
        formerly: Sequence[str] = (),
        wanted: Callable[[E], bool] | None = None,
    ) -> None:
        """Subscribe `handler(session, event)` to the events of `contract`, e.g.
        `runtime.handle(ReservationConfirmed, open_pickup, name="transfer.open_pickup")`.

        The handler gets the decoded event in its own transaction, once per event (`name`, unique
        in the service and dotted lowercase, keys the processed-events table: the function may
        be renamed freely; `formerly` lists keys it was recorded under before). Handlers of
        events of one aggregate run one at a time, across prefetch and replicas
        (events/inbox.py).

        `wanted(event)`, if given, is asked first (decoded, before any database work): False
        acknowledges the event with nothing recorded and the handler not run. Only for events
        the handler would certainly do nothing with, now and on any redelivery (a fact that
        never changes, e.g. "this booking has no partner"); when unsure, say True.
        """
        check_handler_name(name)
        if name in self.handler_names:
            raise ValueError(f"handler name {name!r} is subscribed twice")
        self.handler_names.add(name)
        self.bus.subscribe(
            contract.event_type,
            idempotent(self.sessions, contract, handler, name, formerly, wanted),
        )


@dataclass(frozen=True)
class ServiceSpec(Generic[SettingsT]):
    name: str
    title: str
    routers: Sequence[APIRouter]
    migrations_dir: Path
    # The service's settings class: `runtime.settings` is an instance of it.
    settings_class: type[SettingsT] = ServiceSettings  # type: ignore[assignment]
    description: str = ""
    # Called before the bus starts: subscribe handlers with runtime.handle(...).
    subscribe: Callable[[Runtime[SettingsT]], None] | None = None
    # Called after start-up when settings.seed_demo is set; must be safe to run twice.
    seed: Callable[[Runtime[SettingsT]], Awaitable[None]] | None = None
    # Long-running workers (e.g. a delivery loop), started after the bus, cancelled at shutdown.
    workers: Sequence[Callable[[Runtime[SettingsT]], Coroutine[Any, Any, None]]] = ()
    # Extra start-up (e.g. building an SMTP client); may fill runtime.extras.
    on_start: Callable[[Runtime[SettingsT]], Awaitable[None]] | None = None


def build_bus(settings: ServiceSettings, broker: InMemoryBroker | None) -> EventBus:
    if settings.bus == "rabbitmq":
        return RabbitBus(
            settings.rabbitmq_url,
            settings.service_name,
            namespace=settings.bus_namespace,
            retry_delays=settings.retry_delays,
            prefetch=settings.bus_prefetch,
        )
    return InMemoryBus(broker or InMemoryBroker(), settings.service_name, settings.retry_delays)


async def start(
    app: FastAPI,
    spec: ServiceSpec[SettingsT],
    settings: SettingsT,
    broker: InMemoryBroker | None,
    stack: AsyncExitStack,
) -> Runtime[SettingsT]:
    """Start the service's pieces in order, each stopped by `stack` (in reverse order) at
    shutdown, or as soon as a later step fails: nothing started is left behind."""
    await db.ensure_database(settings.database_url)
    engine = db.create_engine(
        settings.database_url,
        settings.database_pool_size,
        settings.database_pool_timeout_seconds,
    )
    stack.push_async_callback(engine.dispose)
    async with engine.begin() as conn:
        await db.lock_for_migrations(conn)  # replicas starting together migrate once
        await conn.run_sync(migrations.upgrade, spec.migrations_dir)
    bus = build_bus(settings, broker)
    stack.push_async_callback(bus.close)
    relay_box: list[OutboxRelay] = []
    info = {WAKE_HOOK: lambda: relay_box[0].wake(), SOURCE_INFO: settings.service_name}
    sessions = db.create_session_factory(engine, **info)
    relay = OutboxRelay(
        sessions,
        bus,
        poll_seconds=settings.outbox_poll_seconds,
        max_attempts=settings.outbox_max_attempts,
    )
    relay_box.append(relay)
    runtime = Runtime(settings, engine, sessions, bus, relay)
    runtime.read_sessions = db.create_session_factory(db.read_only(engine), **info)
    app.state.runtime = runtime
    if spec.on_start:
        await spec.on_start(runtime)
    if spec.subscribe:
        spec.subscribe(runtime)
    await bus.start()
    relay.start()
    stack.push_async_callback(relay.stop)
    stack.push_async_callback(cancel_all, runtime.tasks)  # the list, filled below
    runtime.tasks.extend(asyncio.create_task(worker(runtime)) for worker in spec.workers)
    runtime.tasks.append(
        asyncio.create_task(
            keep_tidy(sessions, settings.retention, settings.retention_interval_seconds)
        )
    )
    if settings.seed_demo and spec.seed:
        await spec.seed(runtime)
    log.info("service started")
    return runtime


async def cancel_all(tasks: Sequence[asyncio.Task[Any]]) -> None:
    # Not one cancel and an unbounded wait: a worker may lose a cancellation (hotel_common.tasks).
    await cancel_and_wait(tasks)


def create_service_app(
    spec: ServiceSpec[SettingsT],
    settings: SettingsT | None = None,
    broker: InMemoryBroker | None = None,
) -> FastAPI:
    """Build the service's app. `broker` links services in one process (embedded mode)."""
    settings = settings or spec.settings_class(service_name=spec.name)
    if not isinstance(settings, spec.settings_class):
        raise TypeError(f"{spec.name} needs {spec.settings_class.__name__}, not {settings!r}")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_logging(settings.service_name, settings.log_level, settings.log_json)
        async with AsyncExitStack() as stack:
            # Tasks started below (bus consumers, relay, workers) inherit the service's name.
            service_token = context.service.set(settings.service_name)
            try:
                await start(app, spec, settings, broker, stack)
            finally:
                context.service.reset(service_token)
            # What start-up made (modules, models, compiled routes) lives as long as the process:
            # kept out of the collector's generations, full collections no longer walk it.
            gc.collect()
            gc.freeze()
            yield

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        dependencies=[Depends(reject_unknown_query)],  # unknown query parameters: a 422
        # Stable operation ids for client generators: the route function's name (unique across
        # the platform; the gateway's merged document checks).
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.state.spec = spec
    install_problem_handlers(app)

    def openapi() -> dict[str, Any]:
        # Built once; validation failures documented as the Problem they are answered with.
        if app.openapi_schema is None:
            built = document_problems(FastAPI.openapi(app))
            # The routers' own routes: FastAPI nests included routers in app.routes.
            routes = [route for router in spec.routers for route in router.routes]
            built = document_contract(document_idempotency(built), routes)
            app.openapi_schema = document_control_characters(built)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(
        IdempotencyMiddleware, engine=lambda: app.state.runtime.engine, settings=settings
    )
    # Outside the Idempotency-Key middleware: keys are scoped by the principal it verifies.
    app.add_middleware(PrincipalGuard, secret=settings.internal_secret)
    # Outside the Idempotency-Key middleware: a refused request line stores no answer.
    app.add_middleware(ControlCharacterGuard)
    app.add_middleware(RequestIdMiddleware, service=settings.service_name)
    app.include_router(health_router)
    for router in spec.routers:
        app.include_router(router)
    return app
