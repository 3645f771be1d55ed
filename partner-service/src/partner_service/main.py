"""partner-service: the partners' event feed and their webhooks (issue 21)."""

from pathlib import Path

from fastapi import FastAPI
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import ServiceSpec, create_service_app

from partner_service import delivery, feed, handlers
from partner_service.api.routes import events, subscriptions
from partner_service.config import Settings

SPEC = ServiceSpec(
    name="partner-service",
    title="Partner service",
    description=(
        "What OTAs and channel managers learn about their bookings and the hotel's "
        "availability: a replayable event feed per partner (its bookings' lifecycle, their "
        "pickups and notices, availability and rate changes of its mapped properties, kept "
        "30 days) and webhook subscriptions with signed, retried, ordered deliveries, a "
        "delivery log and redelivery."
    ),
    routers=[events.router, subscriptions.router],
    migrations_dir=Path(__file__).parent / "migrations",
    settings_class=Settings,
    subscribe=handlers.subscribe,
    workers=[delivery.deliver_forever, feed.purge_forever],
    on_start=delivery.prepare,
)


def create_app(settings: Settings | None = None, broker: InMemoryBroker | None = None) -> FastAPI:
    """No arguments: settings from the environment (uvicorn --factory)."""
    return create_service_app(SPEC, settings or Settings(), broker)
