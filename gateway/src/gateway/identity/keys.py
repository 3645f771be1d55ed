"""Partner keys as the hot path sees them: an in-memory map of key hash -> what the key may do.

Checking a key is a sha256 and a dict lookup, never a database read. The map is reloaded from
the database every `key_cache_refresh_seconds`, so a key created or revoked on another gateway
replica takes effect here within that interval; on this replica at once (`put`/`drop`).
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from hotel_common.db import SessionFactory
from hotel_common.principal import ApiScope, Kind, Principal
from hotel_common.time import utcnow
from sqlmodel import col, select

from gateway.identity.models import Partner, PartnerKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnownKey:
    key_id: str
    principal: Principal  # the partner, without ip
    expires_at: datetime | None


def known(key: PartnerKey, partner: Partner) -> KnownKey:
    principal = Principal(
        id=f"partner:{partner.id}",
        kind=Kind.PARTNER,
        scopes=frozenset(ApiScope(s) for s in key.scopes),
        channel=partner.channel,
    )
    return KnownKey(key.id, principal, key.expires_at)


class KeyCache:
    def __init__(self) -> None:
        self._by_hash: dict[str, KnownKey] = {}

    def lookup(self, key_hash: str) -> KnownKey | None:
        found = self._by_hash.get(key_hash)
        if found is None or (found.expires_at is not None and found.expires_at <= utcnow()):
            return None
        return found

    def put(self, key: PartnerKey, partner: Partner) -> None:
        self._by_hash[key.key_hash] = known(key, partner)

    def drop(self, key_hash: str) -> None:
        self._by_hash.pop(key_hash, None)

    def expire(self, key_hash: str, at: datetime) -> None:
        if (found := self._by_hash.get(key_hash)) is not None:
            self._by_hash[key_hash] = KnownKey(found.key_id, found.principal, at)

    async def load(self, sessions: SessionFactory) -> None:
        """Replace the map with the keys the database holds now (unrevoked, unexpired)."""
        now = utcnow()
        query = (
            select(PartnerKey, Partner)
            .join(Partner, col(Partner.id) == col(PartnerKey.partner_id))
            .where(col(PartnerKey.revoked_at).is_(None))
            .where((col(PartnerKey.expires_at).is_(None)) | (col(PartnerKey.expires_at) > now))
        )
        async with sessions() as session:
            rows = (await session.exec(query)).all()
        self._by_hash = {key.key_hash: known(key, partner) for key, partner in rows}

    async def keep_fresh(self, sessions: SessionFactory, interval: float) -> None:
        """Reload forever; a failed reload keeps the last map (the database may be back soon)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.load(sessions)
            except Exception:
                log.warning("partner keys not reloaded; keeping the last copy", exc_info=True)
