from pathlib import Path

from fastapi import FastAPI
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import Runtime, ServiceSpec, create_service_app

from reservation_service.api import ROUTERS
from reservation_service.api.deps import SETTINGS_KEY
from reservation_service.config import Settings
from reservation_service.seed import seed


async def _on_start(runtime: Runtime) -> None:
    # Routes read this service's own settings; whoever built the app may have passed the
    # shared class, whose extra fields then come from the environment and defaults.
    settings = runtime.settings
    if not isinstance(settings, Settings):
        settings = Settings(**settings.model_dump())
    runtime.extras[SETTINGS_KEY] = settings


SPEC = ServiceSpec(
    name="reservation-service",
    title="Reservation service",
    description="Properties, room types, rooms, availability and the booking lifecycle.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).parent / "migrations",
    settings_class=Settings,
    seed=seed,
    on_start=_on_start,
)


def create_app(settings: Settings | None = None, broker: InMemoryBroker | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or Settings(), broker)
