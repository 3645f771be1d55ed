"""guest-service: guest profiles, matching bookings to guests, stay history."""

from pathlib import Path

from fastapi import FastAPI
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import Runtime, ServiceSpec, create_service_app

from guest_service import crypto, reencrypt, value

# The lifecycle parts register themselves at import (lifecycle.ORDER says in what order they run).
from guest_service import feedback_part as feedback_part
from guest_service import privacy_part as privacy_part
from guest_service import profile_part as profile_part
from guest_service import stay_part as stay_part
from guest_service import value_part as value_part
from guest_service.api.routes import (
    complaints,
    guest_contacts,
    guests,
    history,
    merges,
    segments,
    surveys,
)
from guest_service.api.routes import loyalty as loyalty_routes
from guest_service.api.routes import privacy as privacy_routes
from guest_service.api.routes import rights as rights_routes
from guest_service.config import Settings
from guest_service.feedback_worker import feedback_forever
from guest_service.handlers import subscribe
from guest_service.loyalty.jobs import loyalty_worker
from guest_service.seed import seed


async def on_start(runtime: Runtime[Settings]) -> None:
    """The PII key ring before anything reads a sealed column."""
    settings = runtime.settings
    crypto.install(crypto.KeyRing.parse(settings.pii_keys, settings.pii_lookup_key))
    # Plaintext contacts from before encryption, sealed and hashed before any event is matched.
    await reencrypt.seal_legacy(runtime.sessions)
    value.configure(value.ValueRules.of(settings))  # RFM cut-offs and rates (segments)


SPEC = ServiceSpec(
    name="guest-service",
    title="Guest service",
    description="Guest profiles, matching of bookings to guests, and their stay history.",
    # merge suggestions before guests: /api/v1/guests/{guest_id} would take the path for an id
    routers=[
        merges.suggestion_router,
        privacy_routes.router,
        rights_routes.router,
        guests.router,
        guest_contacts.router,
        merges.router,
        surveys.router,
        complaints.router,
        history.router,
        segments.router,
        loyalty_routes.router,
    ],
    migrations_dir=Path(__file__).parent / "migrations",
    settings_class=Settings,
    subscribe=subscribe,
    seed=seed,
    on_start=on_start,
    workers=[reencrypt.reencrypt_forever, feedback_forever, value.refresh_forever, loyalty_worker],
)


def create_app(settings: Settings | None = None, broker: InMemoryBroker | None = None) -> FastAPI:
    """The service's app; with no arguments it reads Settings from the environment."""
    return create_service_app(SPEC, settings or Settings(), broker)
