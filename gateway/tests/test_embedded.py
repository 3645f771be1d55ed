"""Embedded mode: services discovered or given, their lifespans run inside the gateway's,
one in-memory broker between them; and the distributed launcher's environment."""

import logging
import sys
import types
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi import APIRouter, Body, Request
from gateway.catalog import BY_NAME
from gateway.cli import main, parser
from gateway.config import Settings
from gateway.embedded import create_embedded_app, discover_specs
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.outbox import add_event
from hotel_common.migrations import autogenerate
from hotel_common.service import Runtime, ServiceSpec
from hotel_common.settings import ServiceSettings
from hotel_common.testing import eventually, running
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway import distributed, embedded


class RoomBooked(IntegrationEvent):
    event_type: ClassVar[str] = "test.room_booked"
    number: str


class MailSettings(ServiceSettings):
    smtp_url: str = "smtp://unset"


rooms = APIRouter(prefix="/api/v1/rooms")


@rooms.post("", status_code=201)
async def book(number: str = Body(embed=True), *, session: SessionDep, rt: RuntimeDep) -> dict:
    add_event(session, RoomBooked(number=number), rt.settings.service_name)
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
    async def on_booked(session: AsyncSession, envelope: Envelope) -> None:
        runtime.extras.setdefault("notices", []).append(RoomBooked.from_envelope(envelope).number)

    runtime.handle(RoomBooked.event_type, on_booked)


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> list[ServiceSpec]:
    """Two small services; their schema is the shared tables only (outbox, inbox...)."""
    migrations = tmp_path_factory.mktemp("fake") / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(
        "from hotel_common.migrations import run_env\nrun_env(set())\n"
    )
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
    with caplog.at_level(logging.WARNING, logger="gateway.embedded"):
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
