"""Keeping sealed personal data under the current key (crypto.py).

- `seal_legacy`: contacts migration f19a moved over as plaintext (value_hash "legacy") are
  normalised, hashed and sealed. Run at start-up, before any event is consumed, so matching
  never misses a legacy contact.
- `run`: every sealed column of every guest-service table (found by its column type, so a part
  that adds one is covered without a word here) is re-sealed where its value is not under the
  ring's current key: after a rotation (new key first in `pii_keys`), the old key may leave the
  ring once a pass reports `left: 0`. Batches of `BATCH` rows, each its own transaction; a row
  changed meanwhile is left for the next pass (the update names the old ciphertext), so the job
  runs alongside traffic and on several replicas at once. A value no key opens (tampered,
  or its key dropped too early) is logged by row id, left as it is and counted in `left`.

The only SQL on a sealed column is the prefix `enc1:<current key id>:`, which tells which key
sealed it, never what it holds.
"""

import asyncio
import logging
from typing import Any, cast

from hotel_common.contacts import ContactError, normalise_email, normalise_phone
from hotel_common.db import SessionFactory, transaction
from hotel_common.service import Runtime
from pydantic import BaseModel, Field
from sqlalchemy import Column, Table, and_, column, func, select, table, update
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import SQLModel, col
from sqlmodel import select as sqlmodel_select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import crypto
from guest_service.config import Settings
from guest_service.contact_book import hash_of
from guest_service.models import ContactKind, GuestContact

log = logging.getLogger(__name__)

BATCH = 500
LEGACY_HASH = "legacy"  # what migration f19a put in value_hash


class Report(BaseModel):
    legacy_sealed: int = Field(description="Plaintext contacts from before encryption, sealed")
    resealed: dict[str, int] = Field(description="Values re-sealed per table.column")
    left: int = Field(description="Values still not under the current key (0: done)")


def sealed_columns() -> list[Column[Any]]:
    """Every column of guest-service's tables stored sealed."""
    return [
        c
        for t in SQLModel.metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, crypto.Encrypted | crypto.EncryptedDate)
    ]


def _raw(sealed: Column[Any]) -> tuple[Any, Any, Any]:
    """The column's table seen without its type: the stored text as it is, not opened."""
    owner = cast(Table, sealed.table)
    (key,) = owner.primary_key.columns
    raw = table(owner.name, column(key.name), column(sealed.name))
    return raw, raw.c[key.name], raw.c[sealed.name]


def _stale(value: Any, current: str) -> Any:
    return and_(value.is_not(None), ~value.startswith(f"{crypto.PREFIX}{current}:"))


async def seal_legacy(sessions: SessionFactory) -> int:
    """Seal and hash the plaintext contacts migration f19a left; how many."""
    done = 0
    while True:
        async with transaction(sessions) as session:
            batch = await _legacy_batch(session)
            if not batch:
                return done
            for contact in batch:
                await _seal_one(session, contact)
            done += len(batch)
        log.info("legacy contacts sealed", extra={"count": done})


async def _legacy_batch(session: AsyncSession) -> list[GuestContact]:
    query = (
        sqlmodel_select(GuestContact)
        .where(GuestContact.value_hash == LEGACY_HASH)
        .order_by(col(GuestContact.id))
        .limit(BATCH)
    )
    return list((await session.exec(query)).all())


async def _seal_one(session: AsyncSession, contact: GuestContact) -> None:
    kind = ContactKind(contact.kind)
    normalise = normalise_email if kind is ContactKind.EMAIL else normalise_phone
    try:
        value = normalise(contact.value)
    except ContactError:
        value = contact.value.strip()  # kept as it was: found only by exactly this spelling
    digest = hash_of(kind, value)
    unique_key = None
    if kind is ContactKind.EMAIL:
        holding = sqlmodel_select(GuestContact.id).where(GuestContact.unique_key == digest)
        taken = (await session.exec(holding)).first()
        # Two old profiles with one address (the old rule compared it raw): the second keeps it
        # without the claim; matching goes to the first, and a merge can join them.
        unique_key = None if taken else digest
    contact.value = value
    flag_modified(contact, "value")  # written back sealed even when normalising changed nothing
    contact.value_hash = digest
    contact.unique_key = unique_key
    session.add(contact)
    await session.flush()


async def _reseal_column(sessions: SessionFactory, sealed: Column[Any]) -> int:
    raw, key, value = _raw(sealed)
    done, after = 0, None
    while True:
        ring = crypto.ring()
        async with transaction(sessions) as session:
            conn = await session.connection()  # Core: the stored text, not the ORM's
            query = select(key, value).where(_stale(value, ring.current)).order_by(key).limit(BATCH)
            if after is not None:
                query = query.where(key > after)
            rows = (await conn.execute(query)).all()
            if not rows:
                return done
            for row_key, stored in rows:
                try:
                    fresh = ring.seal(ring.open(stored))
                except crypto.Unreadable:
                    # One value no key opens must not stall the rotation of all the others:
                    # it stays as it is, counted in `left`, for an operator to look at.
                    log.error(
                        "sealed value unreadable; left as it is",
                        extra={"table": raw.name, "column": value.name, "row": row_key},
                    )
                    continue
                result = await conn.execute(
                    update(raw).where(key == row_key, value == stored).values({value.name: fresh})
                )
                done += result.rowcount
            after = rows[-1][0]


async def left(sessions: SessionFactory) -> int:
    """Values not under the current key, over every sealed column."""
    current = crypto.ring().current
    total = 0
    async with sessions() as session:
        conn = await session.connection()
        for sealed in sealed_columns():
            raw, _key, value = _raw(sealed)
            query = select(func.count()).select_from(raw).where(_stale(value, current))
            total += int((await conn.execute(query)).scalar() or 0)
    return total


async def run(sessions: SessionFactory) -> Report:
    """Seal legacy contacts, then re-seal every value not under the current key."""
    legacy = await seal_legacy(sessions)
    resealed: dict[str, int] = {}
    for sealed in sealed_columns():
        count = await _reseal_column(sessions, sealed)
        if count:
            resealed[f"{sealed.table.name}.{sealed.name}"] = count
    report = Report(legacy_sealed=legacy, resealed=resealed, left=await left(sessions))
    log.info("re-encryption pass done", extra=report.model_dump())
    return report


async def reencrypt_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker: a pass at start-up and every `reencrypt_interval_seconds`; with
    nothing stale a pass is one scan per sealed column."""
    while True:
        try:
            await run(runtime.sessions)
        except Exception:
            log.exception("re-encryption pass failed; will try again")
        await asyncio.sleep(runtime.settings.reencrypt_interval_seconds)
