"""Starting the identity store inside the gateway: the same start-up as a service's
(hotel_common.service.start: database, both migration histories, bus, outbox relay,
retention), plus the bootstrap admin, the partner-key cache and, in embedded mode, the demo
credentials `make run` prints."""

import logging
from pathlib import Path
from typing import Any

from hotel_common.principal import ApiScope, Role
from hotel_common.service import Runtime, ServiceSpec
from hotel_common.time import utcnow
from sqlmodel import col, select

from gateway.config import Settings
from gateway.identity.credentials import hash_password, random_token
from gateway.identity.keys import KeyCache
from gateway.identity.models import Partner, PartnerKey, StaffUser
from gateway.identity.partners import issue_key
from gateway.identity.tidy import keep_pruning

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
DEMO_ADMIN_EMAIL = "demo.admin@example.com"
DEMO_PARTNER_ID = "d0000000000000de"
DEMO = "demo"  # runtime.extras key: what `make run` prints


async def bootstrap_admin(runtime: Runtime[Settings]) -> None:
    """BOOTSTRAP_ADMIN_EMAIL/PASSWORD: an admin, created when no active admin exists."""
    settings = runtime.settings
    email, password = settings.bootstrap_admin_email, settings.bootstrap_admin_password
    if email is None or password is None:
        return
    async with runtime.sessions() as session:
        users = (await session.exec(select(StaffUser).where(col(StaffUser.active)))).all()
        if any(Role.ADMIN in u.roles for u in users):
            return
        session.add(
            StaffUser(
                email=email.strip().lower(),
                name="Administrator",
                password_hash=await hash_password(password),
                roles=[Role.ADMIN],
            )
        )
        await session.commit()
    log.info("bootstrap admin created")


async def seed_demo(runtime: Runtime[Settings], cache: KeyCache) -> None:
    """A demo admin and a demo partner key, new secrets on every start (only their hashes are
    kept, so they cannot be shown again): what `make run` prints."""
    password = random_token(12)
    async with runtime.sessions() as session:
        admin = (
            await session.exec(select(StaffUser).where(StaffUser.email == DEMO_ADMIN_EMAIL))
        ).first()
        if admin is None:
            admin = StaffUser(
                email=DEMO_ADMIN_EMAIL, name="Demo admin", password_hash="", roles=[Role.ADMIN]
            )
        admin.password_hash = await hash_password(password)
        admin.active, admin.failed_logins, admin.locked_until = True, 0, None
        session.add(admin)
        partner = await session.get(Partner, DEMO_PARTNER_ID)
        if partner is None:
            partner = Partner(id=DEMO_PARTNER_ID, name="Demo OTA", channel="demo_ota")
            session.add(partner)
            await session.flush()
        old = (
            await session.exec(
                select(PartnerKey).where(
                    col(PartnerKey.partner_id) == DEMO_PARTNER_ID,
                    col(PartnerKey.revoked_at).is_(None),
                )
            )
        ).all()
        for stale in old:
            stale.revoked_at = utcnow()
            session.add(stale)
            cache.drop(stale.key_hash)
        _row, key = await issue_key(session, partner, [s.value for s in ApiScope], cache)
        await session.commit()
    runtime.extras[DEMO] = {
        "admin_email": DEMO_ADMIN_EMAIL,
        "admin_password": password,
        "partner_key": key,
    }


def identity_spec(cache: KeyCache) -> ServiceSpec[Settings]:
    """The identity store as a service spec (no routers: the gateway mounts them itself)."""

    async def on_start(runtime: Runtime[Any]) -> None:
        await bootstrap_admin(runtime)
        await cache.load(runtime.sessions)

    async def seed(runtime: Runtime[Any]) -> None:
        await seed_demo(runtime, cache)

    async def refresh_keys(runtime: Runtime[Any]) -> None:
        await cache.keep_fresh(runtime.sessions, runtime.settings.key_cache_refresh_seconds)

    async def tidy(runtime: Runtime[Any]) -> None:
        await keep_pruning(runtime.sessions, runtime.settings.retention_interval_seconds)

    return ServiceSpec(
        name="gateway",
        title="Gateway identity store",
        routers=(),
        migrations_dir=MIGRATIONS,
        settings_class=Settings,
        on_start=on_start,
        seed=seed,
        workers=(refresh_keys, tidy),
    )
