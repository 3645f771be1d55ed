"""Arranging a guest's past for history, value and segment tests: stays booked, completed,
cancelled or missed, as reservation-service's events would tell them."""

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from guest_service.config import Settings
from guest_service.main import create_app
from hotel_common.contracts.reservations import ReservationConfirmed, ReservationCreated
from hotel_common.contracts.transfers import TransferStatusChanged
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import (
    eventually,
    reservation_cancelled,
    reservation_checked_out,
    reservation_no_show,
    running,
    scratch_url,
)
from hotel_common.time import utcnow
from sqlmodel.ext.asyncio.session import AsyncSession

from .conftest import GuestService, booking

TODAY = utcnow().date()


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[GuestService]:
    """The service on SQLite, then on the machine's PostgreSQL: value and segments are SQL."""
    url = scratch_url(request.param, tmp_path, "segments")
    settings = Settings(database_url=url, retry_delays=[0.01, 0.05, 0.2], log_json=False)
    broker = InMemoryBroker()
    try:
        async with running(create_app(settings, broker=broker)) as client:
            yield GuestService(client, broker)
    finally:
        if request.param == "postgresql":
            await drop_database(url)


def session_of(service: GuestService) -> AsyncSession:
    """A session on the service's own database, for what only another part will call (the
    loyalty part's tier, the feedback part's note) and for the periodic refresh's `today`."""
    app: Any = service.client._transport.app  # type: ignore[attr-defined]
    session: AsyncSession = app.state.runtime.sessions()
    return session


async def history(service: GuestService, guest_id: str) -> dict[str, Any]:
    response = await service.client.get(f"/api/v1/guests/{guest_id}/history")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def booked(
    service: GuestService,
    email: str,
    *,
    left: date,
    nights: int = 2,
    channel: str | None = None,
    source: str | None = None,
    **changes: Any,
) -> ReservationConfirmed:
    """A confirmed booking of `email` ending on `left`, linked to the profile."""
    made = booking(
        email=email,
        phone=None,
        check_in=left - timedelta(days=nights),
        check_out=left,
        aggregate_version=2,
        **changes,
    )
    if channel is not None:
        service.deliver(
            ReservationCreated(
                aggregate_version=1,
                reservation_id=made.reservation_id,
                confirmation_number=made.confirmation_number,
                property_name=made.property_name,
                room_type_code=made.room_type_code,
                check_in=made.check_in,
                check_out=made.check_out,
                guests=made.guests,
                total_amount=made.total_amount,
                currency=made.currency,
                channel=channel,
                source=source,
                guest=made.guest,
            )
        )
    service.deliver(made)
    await eventually(
        lambda: service.profile(email),
        until=lambda p: (
            p is not None and any(s["reservation_id"] == made.reservation_id for s in p["stays"])
        ),
    )
    return made


async def guest_id_of(service: GuestService, email: str) -> str:
    found = await service.find(email=email)
    return str(found[0]["id"])


async def stayed(
    service: GuestService,
    email: str,
    *,
    left: date,
    spent: int,
    currency: str = "CNY",
    nights: int = 2,
    channel: str | None = None,
    source: str | None = None,
) -> ReservationConfirmed:
    """A completed stay: booked, then checked out having spent `spent` (minor units)."""
    made = await booked(
        service, email, left=left, nights=nights, channel=channel, source=source, currency=currency
    )
    service.deliver(
        reservation_checked_out(made, amount_spent=spent, currency=currency, aggregate_version=5)
    )
    await until_stay(service, email, made, "checked_out")
    return made


async def until_stay(
    service: GuestService, email: str, made: ReservationConfirmed, status: str
) -> None:
    guest_id = await guest_id_of(service, email)
    await eventually(
        lambda: history(service, guest_id),
        until=lambda h: any(
            s["reservation_id"] == made.reservation_id and s["status"] == status for s in h["stays"]
        ),
    )


async def cancelled(service: GuestService, email: str, made: ReservationConfirmed) -> None:
    service.deliver(reservation_cancelled(made, was_confirmed=True, aggregate_version=3))
    await until_stay(service, email, made, "cancelled")


async def missed(service: GuestService, email: str, made: ReservationConfirmed) -> None:
    service.deliver(reservation_no_show(made, aggregate_version=4))
    await until_stay(service, email, made, "no_show")


def ride_done(made: ReservationConfirmed | None, transfer_id: str, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "aggregate_version": 6,
        "transfer_id": transfer_id,
        "reservation_id": made.reservation_id if made else None,
        "status": "completed",
        "previous_status": "in_progress",
        "at": datetime.combine(TODAY, datetime.min.time()).replace(tzinfo=utcnow().tzinfo),
        "guest": made.guest if made else None,
        "property_timezone": "Asia/Shanghai",
        "receipt_number": "R-1",
        "fare_amount": 0,
        "fare_currency": "CNY",
    }
    return TransferStatusChanged(**(fields | changes))
