from pathlib import Path

from fastapi import FastAPI
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import ServiceSpec, create_service_app

from reservation_service.api import ROUTERS
from reservation_service.ari_publisher import publish_forever
from reservation_service.config import Settings
from reservation_service.handlers import subscribe
from reservation_service.seed import seed
from reservation_service.workers import sweep_forever

SPEC = ServiceSpec(
    name="reservation-service",
    title="Reservation service",
    description="Properties, room types, rooms, availability and the booking lifecycle.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).parent / "migrations",
    settings_class=Settings,
    subscribe=subscribe,
    seed=seed,
    workers=[sweep_forever, publish_forever],
)


def create_app(settings: Settings | None = None, broker: InMemoryBroker | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or Settings(), broker)
