"""notification-service: turns booking and transfer events into guest notices and delivers them."""

from pathlib import Path

from fastapi import FastAPI
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import ServiceSpec, create_service_app

from notification_service import delivery, handlers, reminders, staff_inbox
from notification_service.api.routes import inbox, notifications, receipts, templates
from notification_service.config import Settings

SPEC = ServiceSpec(
    name="notification-service",
    title="Notification service",
    description=(
        "Guest notices (booking confirmation, pickup, cancellation) in en, zh-Hans and zh-Hant, "
        "delivered by email with retries; guests' one-time sign-in codes by email or text "
        "message; the delivery log and retry of failed notices."
    ),
    routers=[notifications.router, inbox.router, templates.router, receipts.router],
    migrations_dir=Path(__file__).parent / "migrations",
    settings_class=Settings,
    subscribe=handlers.subscribe,
    workers=[delivery.deliver_forever, staff_inbox.digest_forever, reminders.fire_forever],
    on_start=delivery.start,
)


def create_app(settings: Settings | None = None, broker: InMemoryBroker | None = None) -> FastAPI:
    """No arguments: settings from the environment (uvicorn --factory)."""
    return create_service_app(SPEC, settings or Settings(), broker)
