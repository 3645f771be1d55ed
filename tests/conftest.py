"""The whole platform, started for a test: embedded (in-memory bus, SQLite) or distributed
(RabbitMQ and PostgreSQL of this machine, each run in its own namespace and databases, real
HTTP between the gateway and the services). Tests talk to it only through the gateway."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from gateway.config import Settings as GatewaySettings
from gateway.embedded import create_embedded_app
from gateway.main import create_app as create_gateway
from harness import RABBIT_URL, Platform
from hotel_common.db import drop_database
from hotel_common.events.rabbit import delete_namespace
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.testing import MailServer, TcpProxy, eventually, free_port

RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
SPECS: dict[str, ServiceSpec] = {ep.name: ep.load() for ep in entry_points(group="hotel.services")}
# Fast retries so a test sees retry and dead-letter paths in well under a second.
FAST = {"retry_delays": [0.05, 0.1], "outbox_poll_seconds": 0.2, "log_json": False}
FAST_SERVICE = {"notification-service": {"delivery_backoff_seconds": [0.05, 0.1, 0.2]}}


@pytest.fixture
async def mailbox() -> AsyncIterator[MailServer]:
    box = await MailServer().start()
    yield box
    await box.stop()


@pytest.fixture
async def embedded(tmp_path: Path, mailbox: MailServer) -> AsyncIterator[Platform]:
    overrides = {name: {**FAST, **FAST_SERVICE.get(name, {})} for name in SPECS}
    app = create_embedded_app(tmp_path / "data", smtp_url=mailbox.url, overrides=overrides)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        apps = {name: upstream.app for name, upstream in app.state.upstreams.items()}
        platform = Platform(client, "embedded", apps, broker=app.state.broker)
        await platform.wait_ready()
        yield platform


async def _serve(app: FastAPI, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0, server.started), timeout=30)
    return server, task


@pytest.fixture
async def distributed(mailbox: MailServer) -> AsyncIterator[Platform]:
    """Each service over real HTTP, RabbitMQ (through a cuttable proxy) and PostgreSQL."""
    run = uuid.uuid4().hex[:8]
    namespace = f"test-{run}."
    proxy = await TcpProxy(RABBIT_HOST, RABBIT_PORT).start()
    apps: dict[str, FastAPI] = {}
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []
    urls: dict[str, str] = {}
    databases = []
    try:
        for name, spec in SPECS.items():
            database = f"{PG}/test_{run}_{name.removesuffix('-service')}"
            databases.append(database)
            values: dict[str, Any] = {
                **FAST,
                **FAST_SERVICE.get(name, {}),
                "service_name": name,
                "database_url": database,
                "bus": "rabbitmq",
                "rabbitmq_url": f"amqp://guest:guest@127.0.0.1:{proxy.port}/",
                "bus_namespace": namespace,
                "seed_demo": True,
            }
            if "smtp_url" in spec.settings_class.model_fields:
                values["smtp_url"] = mailbox.url
            apps[name] = create_service_app(spec, spec.settings_class(**values))
            port = free_port()
            servers.append(await _serve(apps[name], port))
            urls[name] = f"http://127.0.0.1:{port}"
        settings = GatewaySettings(
            **{f"{n.removesuffix('-service')}_service_url": u for n, u in urls.items()},
            log_json=False,
        )
        gateway_port = free_port()
        servers.append(await _serve(create_gateway(settings), gateway_port))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}") as client:
            platform = Platform(client, "distributed", apps, proxy=proxy, namespace=namespace)
            await platform.wait_ready()
            yield platform
    finally:
        for server, _ in reversed(servers):
            server.should_exit = True
        for _, task in reversed(servers):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=15)
        await proxy.close()
        await delete_namespace(RABBIT_URL, namespace, list(SPECS), FAST["retry_delays"])
        for database in databases:
            await drop_database(database)


@pytest.fixture(params=["embedded", "distributed"])
def platform(request: pytest.FixtureRequest) -> Platform:
    """The same scenario on both run modes."""
    result: Platform = request.getfixturevalue(request.param)
    return result
