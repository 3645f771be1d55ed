"""Embedded mode: services discovered or given, their lifespans run inside the gateway's,
one in-memory broker between them; and the distributed launcher's environment."""

import asyncio
import dataclasses
import gc
import logging
import re
import sys
import types
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi import APIRouter, Body, Request
from gateway.config import Settings
from gateway.registry import BY_NAME
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.events.envelope import IntegrationEvent
from hotel_common.events.outbox import add_event
from hotel_common.migrations import autogenerate
from hotel_common.service import Runtime, ServiceSpec
from hotel_common.settings import ServiceSettings
from hotel_common.testing import eventually, running
from launcher.cli import main, parser
from launcher.embedded import create_embedded_app, discover_specs
from sqlmodel.ext.asyncio.session import AsyncSession

from launcher import distributed, embedded


class RoomBooked(IntegrationEvent):
    event_type: ClassVar[str] = "test.room_booked"
    number: str


class MailSettings(ServiceSettings):
    smtp_url: str = "smtp://unset"


rooms = APIRouter(prefix="/api/v1/rooms")


@rooms.post("", status_code=201)
async def book(number: str = Body(embed=True), *, session: SessionDep) -> dict:
    add_event(session, RoomBooked(number=number))
    await session.commit()
    return {"number": number}


@rooms.get("/state")
async def room_state(request: Request, rt: RuntimeDep) -> dict[str, Any]:
    return {
        "seeded": rt.extras.get("seeded", False),
        "has_smtp_url": hasattr(rt.settings, "smtp_url"),
        "outbox_poll_seconds": rt.settings.outbox_poll_seconds,
        "database_url": rt.settings.database_url,
    }


notices = APIRouter(prefix="/api/v1/notifications")


@notices.get("")
async def sent(rt: RuntimeDep) -> dict[str, Any]:
    return {"smtp_url": rt.settings.smtp_url, "notices": rt.extras.get("notices", [])}  # type: ignore[attr-defined]


async def seed(runtime: Runtime) -> None:
    runtime.extras["seeded"] = True


def subscribe(runtime: Runtime) -> None:
    async def on_booked(session: AsyncSession, event: RoomBooked) -> None:
        runtime.extras.setdefault("notices", []).append(event.number)

    runtime.handle(RoomBooked, on_booked, name="test.note_booking")


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> list[ServiceSpec]:
    """Two small services; their schema is the shared tables only (outbox, inbox...)."""
    migrations = tmp_path_factory.mktemp("fake") / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text("from hotel_common.migrations import run_env\nrun_env()\n")
    autogenerate(migrations, "shared tables")
    return [
        ServiceSpec("reservation-service", "Rooms", [rooms], migrations, seed=seed),
        ServiceSpec(
            "notification-service",
            "Notices",
            [notices],
            migrations,
            settings_class=MailSettings,
            subscribe=subscribe,
        ),
    ]


async def test_the_platform_runs_in_one_process(specs: list[ServiceSpec], tmp_path: Path) -> None:
    app = create_embedded_app(
        tmp_path / "data",
        smtp_url="smtp://127.0.0.1:2525",
        overrides={"reservation-service": {"outbox_poll_seconds": 0.5, "log_json": False}},
        specs=specs,
    )
    async with running(app) as client:
        ready = await client.get("/health/ready")
        state = (await client.get("/api/v1/rooms/state")).json()
        booked = await client.post("/api/v1/rooms", json={"number": "101"})
        notified = await eventually(
            lambda: client.get("/api/v1/notifications"), lambda r: r.json()["notices"]
        )
        doc = (await client.get("/openapi.json")).json()

    assert ready.status_code == 200, ready.text
    assert ready.json()["services"] == {
        "reservation-service": "ready",
        "notification-service": "ready",
    }
    assert state["seeded"] is True  # the service's lifespan ran, with demo data on
    assert state["has_smtp_url"] is False  # only the service with that setting gets it
    assert state["outbox_poll_seconds"] == 0.5
    assert state["database_url"].endswith("/data/reservation-service.db")
    assert booked.status_code == 201
    # One broker links them: the event went from one service to the other.
    assert notified.json() == {"smtp_url": "smtp://127.0.0.1:2525", "notices": ["101"]}
    assert {p.name for p in (tmp_path / "data").glob("*.db")} == {
        "reservation-service.db",
        "notification-service.db",
        "gateway.db",  # the gateway's identity store
    }
    assert {"/api/v1/rooms", "/api/v1/notifications"} <= set(doc["paths"])


def test_services_that_cannot_be_loaded_are_skipped_with_a_warning(
    specs: list[ServiceSpec], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    module = types.ModuleType("fake_hotel_services")
    module.SPEC = specs[1]  # type: ignore[attr-defined]
    module.EARLIER = specs[0]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_hotel_services", module)
    found = [
        EntryPoint("notification-service", "fake_hotel_services:SPEC", embedded.GROUP),
        EntryPoint("guest-service", "no_such_package_anywhere.main:SPEC", embedded.GROUP),
        EntryPoint("odd-service", "gateway.routes:ROUTES", embedded.GROUP),
        EntryPoint("reservation-service", "fake_hotel_services:EARLIER", embedded.GROUP),
    ]
    monkeypatch.setattr(embedded, "entry_points", lambda group: found)
    with caplog.at_level(logging.WARNING, logger="launcher.embedded"):
        discovered = discover_specs()
    assert [s.name for s in discovered] == ["reservation-service", "notification-service"]
    warnings = caplog.text
    assert "guest-service skipped" in warnings
    assert "odd-service skipped" in warnings


def test_each_distributed_service_gets_its_own_database_and_the_shared_broker() -> None:
    reservations = BY_NAME["reservation-service"]
    env = distributed.service_env(reservations, {"PATH": "/bin"})
    assert env["DATABASE_URL"] == "postgresql+asyncpg://postgres@127.0.0.1:5432/hotel_reservation"
    assert env["BUS"] == "rabbitmq"
    assert env["RABBITMQ_URL"] == "amqp://guest:guest@127.0.0.1:5672/"
    assert env["SEED_DEMO"] == "true"
    assert env["SERVICE_NAME"] == "reservation-service"
    assert env["PATH"] == "/bin"

    custom = distributed.service_env(
        BY_NAME["guest-service"],
        {"GUEST_DATABASE_URL": "postgresql+asyncpg://db/guests", "RABBITMQ_URL": "amqp://mq/"},
    )
    assert custom["DATABASE_URL"] == "postgresql+asyncpg://db/guests"
    assert custom["RABBITMQ_URL"] == "amqp://mq/"


def test_the_gateway_process_reads_what_the_launcher_gives_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reservations = BY_NAME["reservation-service"]
    for key, value in distributed.gateway_env([reservations], {}).items():
        monkeypatch.setenv(key, value)
    assert Settings(_env_file=None).upstream_urls() == {
        "reservation-service": "http://127.0.0.1:8001"
    }


def test_the_distributed_gateway_keeps_its_identity_store_in_postgresql() -> None:
    env = distributed.gateway_env([], {"PATH": "/bin"})
    assert env["DATABASE_URL"] == "postgresql+asyncpg://postgres@127.0.0.1:5432/hotel_gateway"
    assert (env["BUS"], env["SERVICE_NAME"], env["SEED_DEMO"]) == ("rabbitmq", "gateway", "false")
    assert env["DATABASE_POOL_SIZE"] == "2"
    custom = distributed.gateway_env([], {"GATEWAY_DATABASE_URL": "postgresql+asyncpg://db/gw"})
    assert custom["DATABASE_URL"] == "postgresql+asyncpg://db/gw"


def test_make_up_draws_its_secrets_unless_given_and_keeps_the_token_secret_home() -> None:
    drawn = distributed.with_run_secrets({"PATH": "/bin"})
    again = distributed.with_run_secrets({"PATH": "/bin"})
    assert len(drawn["INTERNAL_SECRET"]) >= 32 and len(drawn["TOKEN_SECRET"]) >= 32
    assert drawn["INTERNAL_SECRET"] != again["INTERNAL_SECRET"]
    assert drawn["INTERNAL_SECRET"] != drawn["TOKEN_SECRET"]
    given = distributed.with_run_secrets({"INTERNAL_SECRET": "set-by-the-operator-1234"})
    assert given["INTERNAL_SECRET"] == "set-by-the-operator-1234"
    service = distributed.service_env(BY_NAME["guest-service"], drawn)
    gateway = distributed.gateway_env([], drawn)
    assert service["INTERNAL_SECRET"] == gateway["INTERNAL_SECRET"] == drawn["INTERNAL_SECRET"]
    assert "TOKEN_SECRET" not in service
    assert gateway["TOKEN_SECRET"] == drawn["TOKEN_SECRET"]


async def test_run_prints_a_demo_admin_and_partner_key_that_work(
    specs: list[ServiceSpec], tmp_path: Path
) -> None:
    app = create_embedded_app(tmp_path / "data", specs=specs)
    async with running(app, principal=None) as client:
        banner = embedded.demo_credentials(app)
        admin = re.search(r"demo admin: +(\S+) / (\S+)", banner)
        key = re.search(r"demo partner key: +(\S+)", banner)
        assert admin is not None and key is not None, banner
        tokens = await client.post(
            "/api/v1/auth/token", data={"username": admin[1], "password": admin[2]}
        )
        assert tokens.status_code == 200, tokens.text
        me = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
        )
        assert me.json()["roles"] == ["admin"]
        partner = await client.get("/api/v1/me", headers={"X-API-Key": key[1]})
        assert (partner.json()["kind"], partner.json()["channel"]) == ("partner", "demo_ota")


def test_the_command_line_offers_both_run_modes(capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["run", "--port", "9000", "--data-dir", "/tmp/x"])
    assert (args.command, args.host, args.port, args.data_dir) == (
        "run",
        "127.0.0.1",
        9000,
        Path("/tmp/x"),
    )
    assert parser().parse_args(["up"]).port == 8000
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    assert "run" in capsys.readouterr().out


def test_replicas_run_on_their_own_ports_and_the_gateway_gets_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reservations, guests = BY_NAME["reservation-service"], BY_NAME["guest-service"]
    environ = {"REPLICAS": "2", "GUEST_REPLICAS": "3"}
    assert distributed.replica_ports(reservations, environ) == [8001, 8101]
    assert distributed.replica_ports(guests, environ) == [8003, 8103, 8203]
    assert distributed.replica_ports(reservations, {}) == [8001]
    for key, value in distributed.gateway_env([reservations, guests], environ).items():
        monkeypatch.setenv(key, value)
    assert Settings(_env_file=None).upstream_replicas() == {
        "reservation-service": ["http://127.0.0.1:8001", "http://127.0.0.1:8101"],
        "guest-service": [f"http://127.0.0.1:{p}" for p in (8003, 8103, 8203)],
    }
    with pytest.raises(ValueError):
        distributed.replicas(reservations, {"REPLICAS": "0"})


def test_an_installed_service_missing_from_the_registry_is_named(
    specs: list[ServiceSpec], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unregistered = dataclasses.replace(specs[0], name="sauna-service")
    with caplog.at_level(logging.WARNING, logger="launcher.embedded"):
        app = create_embedded_app(tmp_path, specs=[unregistered])
    assert list(app.state.upstreams) == ["sauna-service"]
    assert "sauna-service is not in gateway.registry" in caplog.text


def test_the_server_runs_on_uvloop_and_httptools_without_a_second_access_log(
    specs: list[ServiceSpec], tmp_path: Path
) -> None:
    config = embedded.server_config(create_embedded_app(tmp_path, specs=specs), "127.0.0.1", 0)
    config.load()
    assert (config.loop, config.http, config.access_log) == ("uvloop", "httptools", False)
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"


async def test_the_heap_is_frozen_once_the_server_has_started(
    specs: list[ServiceSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settled: list[int] = []
    real = embedded.settle_heap

    def settle() -> None:
        real()
        settled.append(gc.get_freeze_count())
        gc.unfreeze()

    monkeypatch.setattr(embedded, "settle_heap", settle)
    config = embedded.server_config(create_embedded_app(tmp_path, specs=specs), "127.0.0.1", 0)
    server = embedded._Server(config, "started")
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:  # noqa: ASYNC110 (uvicorn has no started event)
                await asyncio.sleep(0.05)
    finally:
        server.should_exit = True
        await serving
    assert len(settled) == 1 and settled[0] > 0


def test_make_up_keeps_the_guests_data_keys_across_runs(tmp_path: Path) -> None:
    kept = tmp_path / "data" / "pii-keys.json"
    first = distributed.with_pii_keys({"PATH": "/bin"}, kept)
    again = distributed.with_pii_keys({"PATH": "/bin"}, kept)
    assert (
        first["PII_KEYS"] == again["PII_KEYS"]
        and first["PII_LOOKUP_KEY"] == again["PII_LOOKUP_KEY"]
    )
    assert kept.stat().st_mode & 0o777 == 0o600  # the keys are the owner's alone
    given = distributed.with_pii_keys({"PII_KEYS": "k9:x", "PII_LOOKUP_KEY": "y"}, kept)
    assert (given["PII_KEYS"], given["PII_LOOKUP_KEY"]) == ("k9:x", "y")
    from guest_service.crypto import KeyRing

    ring = KeyRing.parse(first["PII_KEYS"], first["PII_LOOKUP_KEY"])
    assert ring.open(ring.seal("lin.mei@example.com")) == "lin.mei@example.com"
