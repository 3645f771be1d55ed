"""Segments staff define: a rule (models.segments.SegmentRule, AND-ed conditions) turned into
one SQL condition over the profile and its value row, members stored per segment.

Members are recomputed in the database: a whole segment when it is defined or changed and by
the periodic refresh (value.refresh_all), one guest's memberships whenever that guest's value
is refreshed (a stay event, a tier change, a merge). Counts are counted, never kept.
"""

import functools
import json
import typing
from collections.abc import Sequence
from datetime import date
from typing import Any

from hotel_common.errors import NotFound, ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import utcnow
from hotel_common.uniques import try_insert
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col
from sqlmodel import select as sm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import value
from guest_service.models import Guest, GuestStatus, GuestStay, StayStatus
from guest_service.models.history import BookingChannel
from guest_service.models.segments import (
    AgeBand,
    Count,
    GuestValue,
    Segment,
    SegmentCreate,
    SegmentMember,
    SegmentRule,
    SegmentUpdate,
    Tier,
)

_guests = typing.cast(Table, Guest.__table__)  # type: ignore[attr-defined]
_stays = typing.cast(Table, GuestStay.__table__)  # type: ignore[attr-defined]
_values = typing.cast(Table, GuestValue.__table__)  # type: ignore[attr-defined]
_members = typing.cast(Table, SegmentMember.__table__)  # type: ignore[attr-defined]
_channels = typing.cast(Table, BookingChannel.__table__)  # type: ignore[attr-defined]

# The age reached this calendar year, by band: (oldest, youngest) inclusive.
AGES = {
    AgeBand.UNDER_18: (0, 17),
    AgeBand.FROM_18_TO_25: (18, 25),
    AgeBand.FROM_26_TO_40: (26, 40),
    AgeBand.OVER_40: (41, 200),
}


# -- a rule in SQL ------------------------------------------------------------------------------
def _completed_in(period_bounds: tuple[date | None, date | None]) -> list[ColumnElement[bool]]:
    since, until = period_bounds
    where = [_stays.c.guest_id == _guests.c.id, _stays.c.status == StayStatus.CHECKED_OUT.value]
    if since is not None:
        where.append(_stays.c.check_out >= since)
    if until is not None:
        where.append(_stays.c.check_out < until)
    return where


def _between(amount: ColumnElement[Any], bound: Count) -> ColumnElement[bool]:
    parts = []
    if bound.min is not None:
        parts.append(amount >= bound.min)
    if bound.max is not None:
        parts.append(amount <= bound.max)
    return and_(*parts)


def _has_tags(tags: Sequence[str], dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return cast(_guests.c.tags, JSONB).contains(list(tags))
    held = func.json_each(_guests.c.tags).table_valued("value").alias("held")
    return and_(*(exists(select(1).select_from(held).where(held.c.value == t)) for t in tags))


def condition(rule: SegmentRule, today: date, dialect: str) -> ColumnElement[bool]:
    """The rule as a condition over `guests` outer-joined to `guest_values`."""
    where: list[ColumnElement[bool]] = []
    if rule.cities:
        where.append(func.lower(_values.c.city).in_([c.lower() for c in rule.cities]))
    if rule.nationalities:
        where.append(_guests.c.nationality.in_(rule.nationalities))
    if rule.companies:
        where.append(func.lower(_guests.c.company).in_([c.lower() for c in rule.companies]))
    if rule.genders:
        where.append(_guests.c.gender.in_([g.value for g in rule.genders]))
    if rule.age_bands:
        bands = []
        for band in rule.age_bands:
            oldest, youngest = AGES[band]
            bands.append(_values.c.birth_year.between(today.year - youngest, today.year - oldest))
        where.append(or_(*bands))
    if rule.tags:
        where.append(_has_tags(rule.tags, dialect))
    if rule.channels:
        booked = _stays.join(_channels, _channels.c.reservation_id == _stays.c.reservation_id)
        chosen = list(rule.channels)
        where.append(
            exists(
                select(1)
                .select_from(booked)
                .where(
                    *_completed_in((None, None)),
                    or_(_channels.c.channel.in_(chosen), _channels.c.source.in_(chosen)),
                )
            )
        )
    if rule.stays:
        bounds = rule.stays.period.bounds(today)
        count = select(func.count()).where(*_completed_in(bounds)).scalar_subquery()
        where.append(_between(count, rule.stays))
    if rule.spend_cny:
        bounds = rule.spend_cny.period.bounds(today)
        fen = value.fen_of_stay(value.rules())
        total = (
            select(func.coalesce(func.sum(fen), 0))
            .select_from(_stays)
            .where(*_completed_in(bounds))
            .scalar_subquery()
        )
        where.append(_between(cast(total, BigInteger) // 100, rule.spend_cny))
    if rule.tiers:
        named = [t.value for t in rule.tiers if t is not Tier.NONE]
        tiers = [_values.c.tier.in_(named)] if named else []
        if Tier.NONE in rule.tiers:
            tiers.append(_values.c.tier.is_(None))
        where.append(or_(*tiers))
    if rule.value_classes:
        where.append(_values.c.value_class.in_([v.value for v in rule.value_classes]))
    for name in ("recency", "frequency", "monetary"):
        levels = getattr(rule, name)
        if levels:
            where.append(_values.c[name].in_([int(level) for level in levels]))
    return and_(true(), *where) if where else false()


def _candidates(
    rule: SegmentRule, today: date, dialect: str, segment_id: str, any_status: bool = False
) -> Select[Any]:
    query = (
        select(literal(segment_id).label("segment_id"), _guests.c.id.label("guest_id"))
        .select_from(_guests.outerjoin(_values, _values.c.guest_id == _guests.c.id))
        .where(condition(rule, today, dialect))
    )
    return query if any_status else query.where(_guests.c.status == GuestStatus.ACTIVE.value)


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name


def _insert_members(dialect: str, query: Select[Any]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # A concurrent refresh of the same guest may have put the row in first: same answer.
    return (
        insert(_members)
        .from_select(["segment_id", "guest_id"], query)
        .on_conflict_do_nothing(index_elements=[_members.c.segment_id, _members.c.guest_id])
    )


def rule_of(segment: Segment) -> SegmentRule:
    return SegmentRule.model_validate(segment.rule)


async def refresh_segment(session: AsyncSession, segment: Segment, today: date) -> None:
    """Recompute every member of `segment`."""
    dialect = await _dialect(session)
    await session.exec(delete(_members).where(_members.c.segment_id == segment.id))
    query = _candidates(rule_of(segment), today, dialect, segment.id)
    await session.exec(_insert_members(dialect, query))
    segment.refreshed_at = utcnow()
    session.add(segment)


async def refresh_all(session: AsyncSession, today: date) -> None:
    for segment in (await session.exec(sm_select(Segment))).all():
        await refresh_segment(session, segment, today)
    await session.flush()


async def refresh_guest(
    session: AsyncSession, guest_id: str, today: date, *, any_status: bool = False
) -> None:
    """Recompute one guest's memberships of every segment (`any_status`: even if the profile
    is not active, see value.refresh_guest)."""
    dialect = await _dialect(session)
    await session.exec(delete(_members).where(_members.c.guest_id == guest_id))
    rows = (await session.exec(sm_select(col(Segment.id), col(Segment.rule)))).all()
    for segment_id, rule in rows:
        statement = _one_guest(
            json.dumps(rule, sort_keys=True), today, dialect, any_status, value.rules()
        )
        await session.exec(statement, params={"segment_id": segment_id, "guest_id": guest_id})


@functools.lru_cache(maxsize=256)
def _one_guest(
    rule: str, today: date, dialect: str, any_status: bool, rules: value.ValueRules
) -> Any:
    """The insert of one guest's membership of a segment with this rule, on this day: built
    once (a check-out runs it for every segment; building costs more than running it)."""
    parsed = SegmentRule.model_validate_json(rule)
    query = _candidates(parsed, today, dialect, "", any_status)
    query = query.with_only_columns(
        bindparam("segment_id", type_=String).label("segment_id"),
        _guests.c.id.label("guest_id"),
        maintain_column_froms=True,
    ).where(_guests.c.id == bindparam("guest_id", type_=String))
    return _insert_members(dialect, query)


async def forget(session: AsyncSession, guest_ids: Any) -> None:
    """Take the given guests (ids, or a SELECT of them) out of every segment."""
    await session.exec(delete(_members).where(_members.c.guest_id.in_(guest_ids)))


# -- segments as staff manage them ------------------------------------------------------------
def _exists(name: str) -> ProblemError:
    return ProblemError(409, "segment_exists", f"A segment is already named {name!r}.")


async def get_segment(session: AsyncSession, segment_id: str) -> Segment:
    segment = await session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id)
    return segment


async def create_segment(session: AsyncSession, body: SegmentCreate, by: str) -> Segment:
    segment = Segment(
        name=body.name,
        description=body.description,
        rule=body.rule.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
        created_by=by[:100],
    )
    if not await try_insert(session, segment):
        raise _exists(body.name)
    await refresh_segment(session, segment, utcnow().date())
    await session.flush()
    return segment


async def update_segment(session: AsyncSession, segment: Segment, body: SegmentUpdate) -> Segment:
    changes = body.model_dump(exclude_unset=True, exclude={"rule"})
    if "name" in changes and changes["name"] != segment.name:
        taken = sm_select(col(Segment.id)).where(col(Segment.name) == changes["name"])
        if (await session.exec(taken)).first() is not None:
            raise _exists(changes["name"])
    for field, new in changes.items():
        setattr(segment, field, new)
    if body.rule is not None:
        segment.rule = body.rule.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    segment.updated_at = utcnow()
    session.add(segment)
    await session.flush()
    if body.rule is not None:
        await refresh_segment(session, segment, utcnow().date())
    return segment


async def delete_segment(session: AsyncSession, segment: Segment) -> None:
    await session.exec(delete(_members).where(_members.c.segment_id == segment.id))
    await session.delete(segment)


async def counts(session: AsyncSession, segment_ids: Sequence[str]) -> dict[str, int]:
    if not segment_ids:
        return {}
    query = (
        sm_select(_members.c.segment_id, func.count())
        .where(_members.c.segment_id.in_(segment_ids))
        .group_by(_members.c.segment_id)
    )
    return {str(sid): int(n) for sid, n in (await session.exec(query)).all()}


async def list_segments(session: AsyncSession, paging: Paging) -> Page[Any]:
    query = sm_select(Segment)
    return await keyset_page(session, query, paging, col(Segment.created_at), col(Segment.id))


async def members(session: AsyncSession, segment_id: str, paging: Paging) -> Page[Any]:
    query: Any = (
        select(
            col(Guest.id).label("guest_id"),
            col(Guest.name),
            col(GuestValue.value_class),
            col(GuestValue.recency),
            col(GuestValue.frequency),
            col(GuestValue.monetary),
            col(GuestValue.tier),
            col(GuestValue.spend_cny),
        )
        .select_from(SegmentMember)
        .join(Guest, col(Guest.id) == SegmentMember.guest_id)
        .outerjoin(GuestValue, col(GuestValue.guest_id) == SegmentMember.guest_id)
        .where(col(SegmentMember.segment_id) == segment_id)
    )
    return await keyset_page(session, query, paging, col(Guest.id), key=lambda row: (row.guest_id,))
