"""Embedded mode: the whole platform in one process, nothing to install but Python.

Every installed service (entry point group `hotel.services`) gets its own FastAPI app and
SQLite file; one in-memory broker links them; the gateway calls them in-process and runs
their lifespans inside its own. The gateway's identity store has its SQLite file too
(`gateway.db`), seeded with a demo admin and a demo partner key that `run` prints.
"""

import gc
import logging
import socket
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from gateway.config import Settings
from gateway.identity.store import DEMO
from gateway.main import create_app
from gateway.registry import BY_NAME, public_url
from gateway.upstream import AsgiUpstream, Upstream
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import ServiceSpec, create_service_app

log = logging.getLogger(__name__)

GROUP = "hotel.services"
RETRY_DELAYS = [0.5, 2.0, 10.0]


def discover_specs() -> list[ServiceSpec]:
    """The installed services; one that cannot be loaded is skipped with a warning."""
    specs: list[ServiceSpec] = []
    for entry in entry_points(group=GROUP):
        try:
            spec = entry.load()
        except Exception as exc:
            log.warning("service %s skipped: cannot load %s (%r)", entry.name, entry.value, exc)
            continue
        if not isinstance(spec, ServiceSpec):
            log.warning("service %s skipped: %s is not a ServiceSpec", entry.name, entry.value)
            continue
        specs.append(spec)
    # The registry's order (reservations first), unknown services after, by name.
    order = list(BY_NAME)
    return sorted(
        specs, key=lambda s: (order.index(s.name) if s.name in order else len(order), s.name)
    )


def create_embedded_app(
    data_dir: Path,
    smtp_url: str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    specs: Sequence[ServiceSpec] | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The gateway over in-process services, each with `<data_dir>/<service>.db`.

    `smtp_url` goes to the service whose settings have that field (notifications);
    `overrides` adds settings per service name (the gateway's too, as "gateway"); `specs`
    replaces discovery (tests).
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = (settings or Settings()).model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{data_dir}/gateway.db",
            "bus": "memory",
            "seed_demo": True,
            "retry_delays": RETRY_DELAYS,
            **(overrides or {}).get("gateway", {}),
        }
    )
    broker = InMemoryBroker()
    apps: list[FastAPI] = []
    upstreams: dict[str, Upstream] = {}
    for spec in discover_specs() if specs is None else specs:
        values: dict[str, Any] = {
            "service_name": spec.name,
            "database_url": f"sqlite+aiosqlite:///{data_dir}/{spec.name}.db",
            "bus": "memory",
            "seed_demo": True,
            "retry_delays": RETRY_DELAYS,
            "environment": "development",  # `make run` is a developer's machine
        }
        if smtp_url is not None and "smtp_url" in spec.settings_class.model_fields:
            values["smtp_url"] = smtp_url
        values.update((overrides or {}).get(spec.name, {}))
        app = create_service_app(spec, spec.settings_class(**values), broker)
        apps.append(app)
        upstreams[spec.name] = AsgiUpstream(
            spec.name, app, timeout=settings.upstream_timeout, ready_timeout=settings.ready_timeout
        )
    if not upstreams:
        log.warning("no services installed: the gateway has nothing to route to")
    for name in sorted(set(upstreams) - set(BY_NAME)):
        log.warning("service %s is not in gateway.registry: no path is routed to it", name)
    # Consumers start first (notifications last in the registry, reservations first): the
    # in-memory broker routes only to queues already declared, so events that reservations'
    # outbox relays at start-up (left from the last run) must find the others listening.
    gateway = create_app(settings, upstreams, hosted_apps=apps[::-1], identity=True, broker=broker)
    gateway.state.broker = broker
    return gateway


class _Server(uvicorn.Server):
    """uvicorn, saying where to find the platform once it accepts connections."""

    def __init__(self, config: uvicorn.Config, banner: str) -> None:
        super().__init__(config)
        self.banner = banner

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            settle_heap()
            print(self.banner + demo_credentials(self.config.app), flush=True)


def settle_heap() -> None:
    """Move what start-up built (modules, apps, mappers, compiled statements) out of the
    collector's reach: later collections then scan only what requests allocate."""
    gc.collect()
    gc.freeze()


def server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    # uvloop and httptools: the faster event loop and HTTP parser uvicorn[standard] installs.
    # No uvicorn access log: RequestIdMiddleware logs each request already (hotel.access).
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


def demo_credentials(app: Any) -> str:
    """What the identity store seeded for this run (new secrets every start)."""
    runtime = getattr(app.state, "runtime", None)
    demo = runtime.extras.get(DEMO) if runtime is not None else None
    if not demo:
        return ""
    return (
        f"\n  demo admin:       {demo['admin_email']} / {demo['admin_password']}"
        f"  (POST /api/v1/auth/token)"
        f"\n  demo partner key: {demo['partner_key']}  (header X-API-Key)"
    )


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: Path = Path("data"),
    *,
    demo_day: bool = True,
) -> None:
    app = create_embedded_app(data_dir)
    if demo_day:  # only `run`: tests building embedded apps stay without it (and fast)
        from launcher.demo_day import with_demo_day

        with_demo_day(app)
    url = public_url(host, port)
    services = ", ".join(app.state.upstreams) or "none installed"
    banner = (
        f"Hotel platform (embedded) running at {url}\n"
        f"  API docs: {url}/docs\n"
        f"  dashboard: {url}/dashboard (sign in as the demo admin below)\n"
        f"  services: {services}\n"
        f"  data:     {Path(data_dir).resolve()}"
    )
    _Server(server_config(app, host, port), banner).run()
