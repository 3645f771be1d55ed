"""The whole platform, started for a test: embedded (in-memory bus, SQLite) or distributed
(RabbitMQ and PostgreSQL of this machine, each run in its own namespace and databases, real
HTTP between the gateway and the services, two replicas of each service on one database and
one queue, the gateway spreading over them). Tests talk to it only through the gateway, as a
staff admin (a JWT minted with the gateway's token secret) unless they say otherwise."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway.config import Settings as GatewaySettings
from gateway.identity.testing import bearer, staff_token
from gateway.main import create_app as create_gateway
from harness import RABBIT_URL, Platform
from hotel_common.db import drop_database
from hotel_common.events.rabbit import delete_namespace
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.testing import MailServer, TcpProxy, serving
from launcher.embedded import create_embedded_app

RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
SPECS: dict[str, ServiceSpec] = {ep.name: ep.load() for ep in entry_points(group="hotel.services")}
# Fast retries so a test sees retry and dead-letter paths in well under a second.
FAST = {"retry_delays": [0.05, 0.1], "outbox_poll_seconds": 0.2, "log_json": False}
FAST_SERVICE = {"notification-service": {"delivery_backoff_seconds": [0.05, 0.1, 0.2]}}
REPLICAS = 2  # per service in the distributed fixture: competing consumers, one database


@pytest.fixture
async def mailbox() -> AsyncIterator[MailServer]:
    box = await MailServer().start()
    yield box
    await box.stop()


@pytest.fixture
def service_overrides() -> dict[str, dict[str, Any]]:
    """More settings per service name, for both run modes: a test module that needs some
    (partner-service in development, to deliver webhooks to a loopback receiver) overrides
    this fixture."""
    return {}


@pytest.fixture
async def embedded(
    tmp_path: Path, mailbox: MailServer, service_overrides: dict[str, dict[str, Any]]
) -> AsyncIterator[Platform]:
    overrides = {
        name: {**FAST, **FAST_SERVICE.get(name, {}), **service_overrides.get(name, {})}
        for name in [*SPECS, "gateway"]
    }
    app = create_embedded_app(tmp_path / "data", smtp_url=mailbox.url, overrides=overrides)
    settings: GatewaySettings = app.state.settings
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://gw",
            headers=bearer(staff_token(settings)),
        ) as client,
    ):
        apps = {name: upstream.app for name, upstream in app.state.upstreams.items()}
        platform = Platform(
            client,
            "embedded",
            apps,
            broker=app.state.broker,
            replica_apps={name: [a] for name, a in apps.items()},
            gateway_settings=settings,
        )
        await platform.wait_ready()
        yield platform


@pytest.fixture
async def distributed(
    mailbox: MailServer, service_overrides: dict[str, dict[str, Any]]
) -> AsyncIterator[Platform]:
    """Each service twice over real HTTP, RabbitMQ (through a cuttable proxy) and PostgreSQL."""
    run = uuid.uuid4().hex[:8]
    namespace = f"test-{run}."
    proxy = await TcpProxy(RABBIT_HOST, RABBIT_PORT).start()
    apps: dict[str, list[FastAPI]] = {}
    servers = AsyncExitStack()  # closed in reverse: the gateway first
    urls: dict[str, list[str]] = {}
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
                # Ten service processes and the gateway share PostgreSQL's 100 connections with
                # the other test worker: a pool of 5 (10 with overflow) each keeps them under it.
                "database_pool_size": 5,
                **service_overrides.get(name, {}),
            }
            if "smtp_url" in spec.settings_class.model_fields:
                values["smtp_url"] = mailbox.url
            apps[name] = [
                create_service_app(spec, spec.settings_class(**values)) for _ in range(REPLICAS)
            ]
            urls[name] = [await servers.enter_async_context(serving(app)) for app in apps[name]]
        gateway_database = f"{PG}/test_{run}_gateway"
        databases.append(gateway_database)
        settings = GatewaySettings(
            retry_delays=FAST["retry_delays"],
            outbox_poll_seconds=FAST["outbox_poll_seconds"],
            log_json=False,
            upstreams={name: ",".join(replicas) for name, replicas in urls.items()},
            database_url=gateway_database,  # its identity store
            bus="rabbitmq",
            rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/",
            bus_namespace=namespace,
        )
        gateway_url = await servers.enter_async_context(serving(create_gateway(settings)))
        async with httpx.AsyncClient(
            base_url=gateway_url, headers=bearer(staff_token(settings))
        ) as client:
            platform = Platform(
                client,
                "distributed",
                {name: replicas[0] for name, replicas in apps.items()},
                proxy=proxy,
                namespace=namespace,
                replica_apps=apps,
                gateway_settings=settings,
            )
            await platform.wait_ready()
            yield platform
    finally:
        try:
            await servers.aclose()
        finally:
            await proxy.close()
            await delete_namespace(RABBIT_URL, namespace, list(SPECS), FAST["retry_delays"])
            # At once: each DROP DATABASE waits for a checkpoint, which concurrent drops share
            # (one after the other, the six took most of the teardown's 13 s).
            await asyncio.gather(*(drop_database(database) for database in databases))


@pytest.fixture(params=["embedded", pytest.param("distributed", marks=pytest.mark.infra)])
def platform(request: pytest.FixtureRequest) -> Platform:
    """The same scenario on both run modes."""
    result: Platform = request.getfixturevalue(request.param)
    return result
