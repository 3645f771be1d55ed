"""One factory for every service's FastAPI app: the same start-up, shutdown and wiring.

A service describes itself with a `ServiceSpec` (routers, migrations, event handlers, demo
seed, background workers); `create_service_app` does the rest. The running pieces live on
`app.state.runtime` and reach route handlers through `Depends` (see `hotel_common.deps`).
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from hotel_common import context, db, migrations
from hotel_common.errors import document_problems, install_problem_handlers
from hotel_common.events.bus import EventBus
from hotel_common.events.inbox import SessionHandler, idempotent
from hotel_common.events.memory import InMemoryBroker, InMemoryBus
from hotel_common.events.outbox import WAKE_HOOK, OutboxRelay
from hotel_common.events.rabbit import RabbitBus
from hotel_common.health import router as health_router
from hotel_common.idempotency import IdempotencyMiddleware
from hotel_common.logging import setup_logging
from hotel_common.middleware import RequestIdMiddleware
from hotel_common.retention import keep_tidy
from hotel_common.settings import ServiceSettings, SettingsT

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What a running service holds: settings, database, bus, outbox relay, workers."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: db.SessionFactory
    bus: EventBus
    relay: OutboxRelay
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # service-owned singletons

    def handle(self, event_type: str, handler: SessionHandler) -> None:
        """Subscribe an idempotent `handler(session, envelope)` to `event_type`."""
        self.bus.subscribe(event_type, idempotent(self.sessions, handler))


def settings_as(runtime: Runtime, cls: type[SettingsT]) -> SettingsT:
    """The runtime's settings as the service's own settings class.

    Whoever built the app may have passed another class (the shared base): the service's own
    fields then come from the environment and defaults. Built once, kept in `runtime.extras`.
    """
    if isinstance(runtime.settings, cls):
        return runtime.settings
    key = f"settings:{cls.__module__}.{cls.__qualname__}"
    settings = runtime.extras.get(key)
    if not isinstance(settings, cls):
        settings = runtime.extras[key] = cls(**runtime.settings.model_dump())
    return settings


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    routers: Sequence[APIRouter]
    migrations_dir: Path
    settings_class: type[ServiceSettings] = ServiceSettings
    description: str = ""
    # Called before the bus starts: subscribe handlers with runtime.handle(...).
    subscribe: Callable[[Runtime], None] | None = None
    # Called after start-up when settings.seed_demo is set; must be safe to run twice.
    seed: Callable[[Runtime], Awaitable[None]] | None = None
    # Long-running workers (e.g. a delivery loop), started after the bus, cancelled at shutdown.
    workers: Sequence[Callable[[Runtime], Coroutine[Any, Any, None]]] = ()
    # Extra start-up (e.g. building an SMTP client); may fill runtime.extras.
    on_start: Callable[[Runtime], Awaitable[None]] | None = None


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


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings | None = None,
    broker: InMemoryBroker | None = None,
) -> FastAPI:
    """Build the service's app. `broker` links services in one process (embedded mode)."""
    settings = settings or spec.settings_class(service_name=spec.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_logging(settings.service_name, settings.log_level, settings.log_json)
        # Tasks started below (bus consumers, relay, workers) inherit the service's name.
        service_token = context.service.set(settings.service_name)
        await db.ensure_database(settings.database_url)
        engine = db.create_engine(settings.database_url, settings.database_pool_size)
        async with engine.begin() as conn:
            await conn.run_sync(migrations.upgrade, spec.migrations_dir)
        bus = build_bus(settings, broker)
        relay_box: list[OutboxRelay] = []
        sessions = db.create_session_factory(engine, **{WAKE_HOOK: lambda: relay_box[0].wake()})
        relay = OutboxRelay(
            sessions,
            bus,
            poll_seconds=settings.outbox_poll_seconds,
            lock_rows=not settings.is_sqlite,
        )
        relay_box.append(relay)
        runtime = Runtime(settings, engine, sessions, bus, relay)
        app.state.runtime = runtime
        settings_as(runtime, spec.settings_class)  # bad settings fail here, not in a request
        if spec.on_start:
            await spec.on_start(runtime)
        if spec.subscribe:
            spec.subscribe(runtime)
        await bus.start()
        relay.start()
        runtime.tasks = [asyncio.create_task(worker(runtime)) for worker in spec.workers]
        runtime.tasks.append(
            asyncio.create_task(
                keep_tidy(sessions, settings.retention, settings.retention_interval_seconds)
            )
        )
        if settings.seed_demo and spec.seed:
            await spec.seed(runtime)
        log.info("service started")
        context.service.reset(service_token)
        try:
            yield
        finally:
            for task in runtime.tasks:
                task.cancel()
            for task in runtime.tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await relay.stop()
            await bus.close()
            await engine.dispose()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.spec = spec
    install_problem_handlers(app)

    def openapi() -> dict[str, Any]:
        # Built once; validation failures documented as the Problem they are answered with.
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(IdempotencyMiddleware, sessions=lambda: app.state.runtime.sessions)
    app.add_middleware(RequestIdMiddleware, service=settings.service_name)
    app.include_router(health_router)
    for router in spec.routers:
        app.include_router(router)
    return app
