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
        "Guest and staff notices driven by events (bookings, pickups, reminders, stays, "
        "complaints, loyalty, sign-in codes) in en, zh-Hans and zh-Hant, by email (text, HTML "
        "and the booking's calendar entry), SMS and push through HTTP providers with fallback, "
        "following the guest's preferences, consent and quiet hours; the guest's in-app inbox "
        "and the staff inbox with its digest; templates overridable through the API; provider "
        "receipts; the delivery log and retry of failed notices."
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
