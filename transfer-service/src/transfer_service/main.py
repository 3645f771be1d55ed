"""transfer-service: vehicles, drivers and the transfer jobs that bookings ask for."""

from pathlib import Path

from fastapi import FastAPI
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import ServiceSpec, create_service_app

from transfer_service.api import routers
from transfer_service.config import Settings
from transfer_service.coverage import retry_forever
from transfer_service.handlers import subscribe
from transfer_service.seed import seed

SPEC = ServiceSpec(
    name="transfer-service",
    title="Transfer service",
    description="Airport and station pickups booked with a stay: vehicles, drivers, assignment.",
    routers=routers,
    migrations_dir=Path(__file__).parent / "migrations",
    settings_class=Settings,
    subscribe=subscribe,
    seed=seed,
    workers=[retry_forever],
)


def create_app(settings: Settings | None = None, broker: InMemoryBroker | None = None) -> FastAPI:
    """The service's app; with no settings they come from the environment (uvicorn --factory)."""
    return create_service_app(SPEC, settings or Settings(), broker)
