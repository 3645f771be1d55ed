"""What the channel tests share: a guest who wants text messages (or push) first, providers
pointed at real HTTP provider stubs, signed receipts, and the stored rows."""

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.testing import HttpProviderStub
from notification_service.models import Notification
from sqlmodel import select

from .conftest import Samples, Service

SECRET = "receipt-secret-a"


def provider(stub: HttpProviderStub, token: str = "tok", secret: str = SECRET) -> dict[str, str]:
    return {"name": stub.name, "url": stub.url, "token": token, "receipt_secret": secret}


def texting_guest(samples: Samples, channels: tuple[str, ...] = ("sms", "email")) -> Any:
    """Lin Mei's wishes: `channels` in order, service on every one, no quiet hours."""
    consents = [samples.consent(c, "service", True, days_ago=30) for c in channels]
    return samples.preferences(channels=list(channels), quiet_hours=None, consents=consents)


def booking_of_lin(samples: Samples, **overrides: Any) -> ReservationConfirmed:
    """Lin Mei's confirmed booking (her email and phone, so her wishes apply)."""
    guest = samples.guest("en").model_copy(update={"email": samples.EMAIL, "phone": samples.PHONE})
    return samples.confirmed("en", guest=guest, **overrides)


async def stored(svc: Service, reservation_id: str) -> list[Notification]:
    """The rows of a booking, oldest first (from the database: every column)."""
    async with svc.app.state.runtime.sessions() as session:
        found = await session.exec(
            select(Notification)
            .where(Notification.reservation_id == reservation_id)
            .order_by(Notification.created_at)  # type: ignore[arg-type]
        )
        return list(found.all())


def signed(
    body: dict[str, Any] | bytes, secret: str = SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    headers = {
        "X-Timestamp": stamp,
        "X-Signature": f"sha256={digest}",
        "Content-Type": "application/json",
    }
    return raw, headers


async def receipt(
    svc: Service, name: str, body: dict[str, Any] | bytes, **signing: Any
) -> httpx.Response:
    raw, headers = signed(body, **signing)
    return await svc.client.post(f"/api/v1/delivery-receipts/{name}", content=raw, headers=headers)
