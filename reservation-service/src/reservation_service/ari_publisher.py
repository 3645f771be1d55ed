"""Publishing `availability.changed`: the staged ARI changes (ari_changes.py), coalesced.

Every `ari_coalesce_seconds` a pass, in one transaction per batch:
1. claims up to `ari_claim_batch` staged rows and deletes them (PostgreSQL: `FOR UPDATE SKIP
   LOCKED`, so replicas passing together take different rows and a change is published
   once; SQLite: one writing transaction at a time);
2. per room type, clips the ranges to today (property time) .. the last night a stay may
   cover (past nights are dropped: nobody sells them), then merges overlapping, adjacent and
   near ones (a gap of at most `ari_merge_gap_nights`, bounded so a stray far change does
   not drag a year of unchanged nights along), then splits at MAX_ARI_READ_NIGHTS;
3. takes the room types' sequences (`ari_sequences`, row-locked in room type order) BEFORE
   reading: a pass that gets a higher sequence than another on PostgreSQL waits for the
   other's commit, and each statement then reads committed data, so a higher sequence never
   carries older ARI;
4. reads the CURRENT ARI of each range with rates.plans.read_ari (the `GET /api/v1/ari`
   answer: one read per property and range, whatever the number of room types in it) and
   stages one AvailabilityChanged per room type and range in the outbox (add_event), in the
   same transaction: a pass that fails publishes nothing and leaves the rows for the next.
"""

import asyncio
import logging
from collections import defaultdict
from datetime import date, timedelta

from hotel_common.contracts.partners import AvailabilityChanged
from hotel_common.db import SessionFactory, transaction
from hotel_common.events.outbox import add_event
from hotel_common.service import Runtime
from hotel_common.time import utcnow
from sqlalchemy import Date, Integer, column, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.config import Settings
from reservation_service.models import Property, RoomType
from reservation_service.rates.plans import MAX_ARI_READ_NIGHTS, read_ari
from reservation_service.stays import today_at

log = logging.getLogger(__name__)

Range = tuple[date, date]

_CLAIMED = "RETURNING room_type_id, start_date, end_date"
_COLUMNS = (column("room_type_id", Integer), column("start_date", Date), column("end_date", Date))
_CLAIM = {
    "postgresql": text(
        "DELETE FROM ari_changes WHERE id IN (SELECT id FROM ari_changes ORDER BY id"
        f" LIMIT :n FOR UPDATE SKIP LOCKED) {_CLAIMED}"
    ).columns(*_COLUMNS),
    "sqlite": text(
        f"DELETE FROM ari_changes WHERE id IN (SELECT id FROM ari_changes ORDER BY id LIMIT :n)"
        f" {_CLAIMED}"
    ).columns(*_COLUMNS),
}
# `count` sequences for one room type at once: the last one comes back.
_NEXT = text(
    "INSERT INTO ari_sequences (room_type_id, last_sequence) VALUES (:r, :n)"
    " ON CONFLICT (room_type_id) DO UPDATE SET last_sequence = ari_sequences.last_sequence + :n"
    " RETURNING last_sequence"
)


def merged(ranges: list[Range], gap: int) -> list[Range]:
    """Overlapping, adjacent and near ranges (at most `gap` nights apart) as one, in order;
    each split to at most MAX_ARI_READ_NIGHTS nights."""
    out: list[list[date]] = []
    for start, end in sorted(ranges):
        if out and (start - out[-1][1]).days <= gap:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    step = timedelta(days=MAX_ARI_READ_NIGHTS)
    chunks: list[Range] = []
    for start, end in out:
        while start < end:
            chunks.append((start, min(end, start + step)))
            start += step
    return chunks


async def _claim(session: AsyncSession, batch: int) -> list[tuple[int, date, date]]:
    connection = await session.connection()
    found = await connection.execute(_CLAIM[connection.dialect.name], {"n": batch})
    return [(r, s, e) for r, s, e in found.all()]


async def _stage(
    session: AsyncSession, claimed: list[tuple[int, date, date]], settings: Settings
) -> int:
    """Merge what was claimed, read it, stage the messages; how many."""
    by_type: dict[int, list[Range]] = defaultdict(list)
    for room_type_id, start, end in claimed:
        by_type[room_type_id].append((start, end))
    rows = await session.exec(
        select(RoomType, Property)
        .join(Property, col(Property.id) == RoomType.property_id)
        .where(col(RoomType.id).in_(list(by_type)))
    )
    found = {rt.id: (rt, prop) for rt, prop in rows.all()}
    ahead = timedelta(days=settings.max_booking_horizon_days + settings.max_stay_nights + 1)
    ranges: dict[int, list[Range]] = {}
    for room_type_id in sorted(by_type):
        if room_type_id not in found:
            continue
        today = today_at(found[room_type_id][1].timezone)
        clipped = [
            (max(s, today), min(e, today + ahead))
            for s, e in by_type[room_type_id]
            if e > today and s < today + ahead
        ]
        if clipped:
            ranges[room_type_id] = merged(clipped, settings.ari_merge_gap_nights)
    if not ranges:
        return 0
    connection = await session.connection()
    sequences: dict[int, int] = {}  # room type -> its first sequence in this pass
    for room_type_id in sorted(ranges):  # one lock order across replicas
        n = len(ranges[room_type_id])
        last = (await connection.execute(_NEXT, {"r": room_type_id, "n": n})).scalar_one()
        sequences[room_type_id] = last - n + 1
    # One read per (property, range), whatever the number of room types that share it.
    reads: dict[tuple[int, date, date], list[int]] = defaultdict(list)
    for room_type_id, chunks in ranges.items():
        prop_id = found[room_type_id][1].id
        assert prop_id is not None
        for start, end in chunks:
            reads[(prop_id, start, end)].append(room_type_id)
    staged = 0
    for (_, start, end), room_type_ids in sorted(reads.items()):
        prop = found[room_type_ids[0]][1]
        only = found[room_type_ids[0]][0].code if len(room_type_ids) == 1 else None
        ari = await read_ari(session, prop, start, end, only, None)
        by_code = {rt.room_type_code: rt for rt in ari.room_types}
        computed_at = utcnow()
        for room_type_id in room_type_ids:
            room_type = found[room_type_id][0]
            current = by_code[room_type.code]
            sequence = sequences[room_type_id]
            sequences[room_type_id] += 1
            event = AvailabilityChanged.model_validate(
                {
                    "aggregate_version": sequence,
                    "property_id": ari.property_id,
                    "room_type_id": room_type_id,
                    "room_type_code": room_type.code,
                    "start": start,
                    "end": end,
                    "currency": ari.currency,
                    "sequence": sequence,
                    "free": current.free,
                    "rate_plans": [
                        {"code": p.code, "nights": [n.model_dump() for n in p.nights]}
                        for p in current.rate_plans
                    ],
                    "computed_at": computed_at,
                }
            )
            add_event(session, event)
            staged += 1
    return staged


async def publish_once(sessions: SessionFactory, settings: Settings) -> int:
    """Claim and publish everything staged, batch by batch; how many messages were staged."""
    staged = 0
    while True:
        async with transaction(sessions) as session:
            claimed = await _claim(session, settings.ari_claim_batch)
            if claimed:
                staged += await _stage(session, claimed, settings)
        if len(claimed) < settings.ari_claim_batch:
            break
    if staged:
        log.info("availability.changed staged", extra={"messages": staged})
    return staged


async def publish_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker: a pass every `ari_coalesce_seconds`, for as long as it runs."""
    while True:
        await asyncio.sleep(runtime.settings.ari_coalesce_seconds)
        try:
            await publish_once(runtime.sessions, runtime.settings)
        except Exception:
            log.exception("availability.changed pass failed; will try again")
