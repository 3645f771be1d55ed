"""The guests' app devices for push (issue 20): registered by the signed-in guest.

A token is one app install's: registering it again (PUT, idempotent) re-binds it to the caller,
as when another guest signs in on the same phone. Owned by the contact hashes of the caller's
sign-in (preferences.contact_hash), so a notice that names the guest's email or phone finds the
devices signed in with either. No address is stored.
"""

from datetime import datetime
from enum import StrEnum

from hotel_common.principal import Principal
from hotel_common.time import UtcDateTime, utcnow
from hotel_common.uniques import locked_or_inserted
from sqlalchemy import ColumnElement, String, delete, or_
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service.preferences import contact_hash


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


class PushDevice(SQLModel, table=True):
    __tablename__ = "push_devices"

    token: str = Field(primary_key=True, max_length=512)
    platform: Platform = Field(sa_type=String(10))
    email_hash: str | None = Field(default=None, max_length=64, index=True)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


def _hashes(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    email = (email or "").strip()
    phone = (phone or "").strip()
    return (
        contact_hash("email", email) if email else None,
        contact_hash("phone", phone) if phone else None,
    )


def _owned(email: str | None, phone: str | None) -> ColumnElement[bool] | None:
    email_hash, phone_hash = _hashes(email, phone)
    conditions: list[ColumnElement[bool]] = []
    if email_hash:
        conditions.append(col(PushDevice.email_hash) == email_hash)
    if phone_hash:
        conditions.append(col(PushDevice.phone_hash) == phone_hash)
    return or_(*conditions) if conditions else None


async def tokens_for(session: AsyncSession, *, email: str | None, phone: str | None) -> list[str]:
    """The push tokens of the app installs signed in as `email` or `phone` (none: no push)."""
    owned = _owned(email, phone)
    if owned is None:
        return []
    rows = await session.exec(
        select(PushDevice.token).where(owned).order_by(col(PushDevice.last_seen_at).desc())
    )
    return list(rows.all())


async def register(
    session: AsyncSession, principal: Principal, token: str, platform: Platform
) -> PushDevice:
    """Bind `token` to the caller (again): idempotent; another owner's token moves to them."""
    email_hash, phone_hash = _hashes(principal.email, principal.phone)
    now = utcnow()
    device, _ = await locked_or_inserted(
        session,
        PushDevice,
        token,
        lambda: PushDevice(
            token=token,
            platform=platform,
            email_hash=email_hash,
            phone_hash=phone_hash,
            created_at=now,
            last_seen_at=now,
        ),
    )
    device.platform = platform
    device.email_hash = email_hash
    device.phone_hash = phone_hash
    device.last_seen_at = now
    session.add(device)
    return device


async def unregister(session: AsyncSession, principal: Principal, token: str) -> bool:
    """Forget the caller's `token`; False when it is not theirs (or unknown)."""
    owned = _owned(principal.email, principal.phone)
    if owned is None:
        return False
    done = await session.exec(
        delete(PushDevice)
        .where(col(PushDevice.token) == token, owned)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)


async def erase(session: AsyncSession, emails: list[str], phones: list[str]) -> int:
    """Delete the devices signed in with an erased guest's contacts."""
    conditions: list[ColumnElement[bool]] = []
    for email in emails:
        if email.strip():
            conditions.append(col(PushDevice.email_hash) == contact_hash("email", email))
    for phone in phones:
        if phone.strip():
            conditions.append(col(PushDevice.phone_hash) == contact_hash("phone", phone))
    if not conditions:
        return 0
    done = await session.exec(
        delete(PushDevice).where(or_(*conditions)).execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)
