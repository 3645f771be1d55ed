"""guest-service: guest profiles, matching bookings to guests, stay history."""

from pathlib import Path

from fastapi import FastAPI
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import Runtime, ServiceSpec, create_service_app

from guest_service import crypto, value, value_part  # noqa: F401 (registers its part)
from guest_service.api.routes import guests, history, segments
from guest_service.config import Settings
from guest_service.handlers import subscribe
from guest_service.seed import seed


async def on_start(runtime: Runtime[Settings]) -> None:
    """The PII key ring before anything reads a sealed column."""
    settings = runtime.settings
    crypto.install(crypto.KeyRing.parse(settings.pii_keys, settings.pii_lookup_key))
    value.configure(value.ValueRules.of(settings))  # RFM cut-offs and rates (segments)


SPEC = ServiceSpec(
    name="guest-service",
    title="Guest service",
    description="Guest profiles, matching of bookings to guests, and their stay history.",
    routers=[guests.router, history.router, segments.router],
    migrations_dir=Path(__file__).parent / "migrations",
    settings_class=Settings,
    subscribe=subscribe,
    seed=seed,
    on_start=on_start,
    workers=[value.refresh_forever],
)


def create_app(settings: Settings | None = None, broker: InMemoryBroker | None = None) -> FastAPI:
    """The service's app; with no arguments it reads Settings from the environment."""
    return create_service_app(SPEC, settings or Settings(), broker)
