"""guest-service: guest profiles, matching bookings to guests, stay history."""

from pathlib import Path

from fastapi import FastAPI
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import Runtime, ServiceSpec, create_service_app

from guest_service import crypto
from guest_service.api.routes import guests, loyalty
from guest_service.config import Settings
from guest_service.handlers import subscribe
from guest_service.loyalty.jobs import loyalty_worker
from guest_service.seed import seed


async def on_start(runtime: Runtime[Settings]) -> None:
    """The PII key ring before anything reads a sealed column."""
    settings = runtime.settings
    crypto.install(crypto.KeyRing.parse(settings.pii_keys, settings.pii_lookup_key))


SPEC = ServiceSpec(
    name="guest-service",
    title="Guest service",
    description="Guest profiles, matching of bookings to guests, and their stay history.",
    routers=[guests.router, loyalty.router],
    migrations_dir=Path(__file__).parent / "migrations",
    settings_class=Settings,
    subscribe=subscribe,
    seed=seed,
    on_start=on_start,
    workers=[loyalty_worker],
)


def create_app(settings: Settings | None = None, broker: InMemoryBroker | None = None) -> FastAPI:
    """The service's app; with no arguments it reads Settings from the environment."""
    return create_service_app(SPEC, settings or Settings(), broker)
