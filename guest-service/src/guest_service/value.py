"""A guest's value: RFM levels and value class, computed in the database.

One statement computes the value rows from the completed stays and upserts them, for one guest
(on each check-out, cancellation, no-show and merge) or for every active guest (the periodic
refresh: recency ages with the calendar, so the levels move even without events). Spend is
counted in whole yuan at the configured rates (money.py's rule, in SQL). The rules and their
cut-offs: docs/domain.md "Value"; the cut-offs are Settings.

Other parts tell the value what only they know: the loyalty tier (`note_tier`), the profile's
city and birth year (`note_profile`, read by `refresh_guest` too); the refresh keeps them.
"""

import asyncio
import functools
import logging
import typing
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hotel_common.db import transaction
from hotel_common.time import utcnow
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.models import Guest, GuestStatus, GuestStay, StayStatus
from guest_service.models.segments import GuestValue, ValueClass
from guest_service.money import ZERO_DECIMAL

log = logging.getLogger(__name__)

_guests = typing.cast(Table, Guest.__table__)  # type: ignore[attr-defined]
_stays = typing.cast(Table, GuestStay.__table__)  # type: ignore[attr-defined]
_values = typing.cast(Table, GuestValue.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ValueRules:
    """The cut-offs (Settings): see config.py."""

    window_days: int = 730
    recency_days: tuple[int, int] = (180, 365)
    frequency_stays: tuple[int, int] = (4, 2)
    monetary_cny: tuple[int, int] = (10_000, 3_000)
    fx_to_cny: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.recency_days[0] < self.recency_days[1]:
            raise ValueError("recency_days: (recent, middling), ascending")
        if not self.frequency_stays[0] > self.frequency_stays[1] >= 1:
            raise ValueError("frequency_stays: (high, mid), descending, at least 1")
        if not self.monetary_cny[0] > self.monetary_cny[1] >= 0:
            raise ValueError("monetary_cny: (high, mid), descending")

    @classmethod
    def of(cls, settings: Any) -> "ValueRules":
        return cls(
            window_days=settings.value_window_days,
            recency_days=tuple(settings.recency_days),
            frequency_stays=tuple(settings.frequency_stays),
            monetary_cny=tuple(settings.monetary_cny),
            fx_to_cny=tuple(sorted(settings.fx_to_cny.items())),
        )


_rules = ValueRules()


def configure(rules: ValueRules) -> None:
    """The cut-offs every refresh uses (at start-up, from Settings)."""
    global _rules
    _rules = rules


def rules() -> ValueRules:
    return _rules


# -- SQL pieces ---------------------------------------------------------------------------------
def fen_of_stay(rules: ValueRules) -> ColumnElement[Any]:
    """A completed stay's settled spend in fen (CNY cents), rounded down, by its currency: an
    integer expression (rates as exact fractions), the same on SQLite and PostgreSQL. A currency
    without a rate counts nothing (money.to_cny says so in the log)."""
    amount = cast(func.coalesce(_stays.c.amount_spent, 0), BigInteger)  # no int4 overflow
    whens: list[tuple[Any, Any]] = [(_stays.c.currency == "CNY", amount)]
    for currency, rate in rules.fx_to_cny:
        num, den = Decimal(str(rate)).as_integer_ratio()
        if currency.upper() in ZERO_DECIMAL:
            num *= 100  # a whole unit is a minor unit: fen = units * rate * 100
        whens.append((_stays.c.currency == currency.upper(), amount * num // den))
    return case(*whens, else_=literal(0))


def _level_up(value: ColumnElement[Any], high: Any, mid: Any) -> ColumnElement[Any]:
    """3 at or above `high`, 2 at or above `mid`, else 1."""
    return case((value >= high, 3), (value >= mid, 2), else_=1)


def _computed(rules: ValueRules, scope: str) -> Any:
    """SELECT of the value rows: one GROUP BY over the stays, the levels and the class from it.
    `scope`: "all" active guests, "some" active guests (bind `guest_ids`), "any" of the guests
    given whatever their status. Dates and the time are binds (`window_start`, `recent_since`,
    `middling_since`, `now`), so the statement is built once (see _statement)."""
    done = _stays.c.status == StayStatus.CHECKED_OUT.value
    recent = and_(done, _stays.c.check_out >= bindparam("window_start", type_=Date))
    fen = fen_of_stay(rules)
    per_guest = (
        select(
            _guests.c.id.label("guest_id"),
            func.max(case((done, _stays.c.check_out))).label("last_stay_on"),
            func.count(case((recent, 1))).label("stays"),
            func.coalesce(func.sum(case((recent, _stays.c.nights), else_=0)), 0).label("nights"),
            func.coalesce(func.sum(case((recent, fen), else_=0)), 0).label("spend_fen"),
            func.count(case((done, 1))).label("lifetime_stays"),
            func.coalesce(func.sum(case((done, fen), else_=0)), 0).label("lifetime_fen"),
        )
        .select_from(_guests.outerjoin(_stays, _stays.c.guest_id == _guests.c.id))
        .group_by(_guests.c.id)
    )
    if scope != "any":
        per_guest = per_guest.where(_guests.c.status == GuestStatus.ACTIVE.value)
    if scope != "all":
        per_guest = per_guest.where(_guests.c.id.in_(bindparam("guest_ids", expanding=True)))
    g = per_guest.subquery("g")
    # SUM of bigints is NUMERIC on PostgreSQL: back to an integer before dividing (floor).
    spend = cast(g.c.spend_fen, BigInteger) // 100
    never = g.c.lifetime_stays == 0
    r_high = bindparam("recent_since", type_=Date)
    r_mid = bindparam("middling_since", type_=Date)
    recency = case((never, None), else_=_level_up(g.c.last_stay_on, r_high, r_mid))
    frequency = case((never, None), else_=_level_up(g.c.stays, *rules.frequency_stays))
    monetary = case((never, None), else_=_level_up(spend, *rules.monetary_cny))
    fm = frequency + monetary
    value_class = case(
        (never, None),
        (recency == 1, ValueClass.AT_RISK.value),
        (fm >= 5, ValueClass.KEY.value),
        (fm == 4, ValueClass.POTENTIAL.value),
        else_=ValueClass.STABLE.value,
    )
    return select(
        g.c.guest_id,
        g.c.last_stay_on,
        g.c.stays,
        cast(g.c.nights, Integer).label("nights"),
        spend.label("spend_cny"),
        g.c.lifetime_stays,
        (cast(g.c.lifetime_fen, BigInteger) // 100).label("lifetime_spend_cny"),
        recency.label("recency"),
        frequency.label("frequency"),
        monetary.label("monetary"),
        value_class.label("value_class"),
        bindparam("now", type_=_values.c.refreshed_at.type).label("refreshed_at"),
    ).where(text("1 = 1"))  # SQLite's upsert from a SELECT needs a WHERE (its parser)


_COMPUTED = (
    "guest_id",
    "last_stay_on",
    "stays",
    "nights",
    "spend_cny",
    "lifetime_stays",
    "lifetime_spend_cny",
    "recency",
    "frequency",
    "monetary",
    "value_class",
    "refreshed_at",
)


@functools.lru_cache(maxsize=32)
def _statement(rules: ValueRules, scope: str, dialect: str) -> Any:
    """The upsert, built once per cut-offs, scope and database: building it costs more CPU
    than running it for one guest."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_values).from_select(_COMPUTED, _computed(rules, scope))
    return statement.on_conflict_do_update(
        index_elements=[_values.c.guest_id],
        # tier, city and birth year are other parts' word: the refresh keeps them.
        set_={name: statement.excluded[name] for name in _COMPUTED if name != "guest_id"},
    )


async def _upsert(
    session: AsyncSession,
    rules: ValueRules,
    today: date,
    guest_ids: list[str] | None,
    any_status: bool = False,
) -> int:
    dialect = (await session.connection()).dialect.name
    scope = "all" if guest_ids is None else "any" if any_status else "some"
    params: dict[str, Any] = {
        "window_start": today - timedelta(days=rules.window_days),
        "recent_since": today - timedelta(days=rules.recency_days[0]),
        "middling_since": today - timedelta(days=rules.recency_days[1]),
        "now": utcnow(),
    }
    if guest_ids is not None:
        params["guest_ids"] = guest_ids
    result = await session.exec(_statement(rules, scope, dialect), params=params)
    return int(result.rowcount or 0)


async def _drop_inactive(session: AsyncSession, guest_ids: list[str] | None) -> None:
    """Merged and erased profiles have no value (their stays count on the survivor's, or on
    nobody's): their rows and memberships go."""
    from guest_service import segments  # segments builds on value; imported late

    inactive = select(_guests.c.id).where(_guests.c.status != GuestStatus.ACTIVE.value)
    if guest_ids is not None:
        inactive = inactive.where(_guests.c.id.in_(guest_ids))
    await segments.forget(session, inactive)
    await session.exec(delete(_values).where(_values.c.guest_id.in_(inactive)))


async def refresh_guest(
    session: AsyncSession, guest_id: str, today: date | None = None, *, as_active: bool = False
) -> GuestValue | None:
    """Recompute one guest's value and segments, in the caller's transaction; None for an
    inactive (merged, erased) or unknown profile. `as_active`: compute it even if the profile
    is not active (yet): an undone merge, whatever order the parts are walked in."""
    today = today or utcnow().date()
    guest = await session.get(Guest, guest_id)
    if guest is None:
        return None
    if guest.status != GuestStatus.ACTIVE and not as_active:
        await _drop_inactive(session, [guest_id])
        return None
    await _upsert(session, _rules, today, [guest_id], any_status=as_active)
    await _profile_facts(session, guest)
    from guest_service import segments

    await segments.refresh_guest(session, guest_id, today, any_status=as_active)
    return await session.get(GuestValue, guest_id, populate_existing=True)


async def refresh_all(session: AsyncSession, today: date | None = None) -> int:
    """Every active guest's value, then every segment's members; how many guests."""
    today = today or utcnow().date()
    await _drop_inactive(session, None)
    count = await _upsert(session, _rules, today, None)
    from guest_service import segments

    await segments.refresh_all(session, today)
    log.info("guest values refreshed", extra={"guests": count})
    return count


# -- what other parts tell ------------------------------------------------------------------
async def _ensure_row(session: AsyncSession, guest_id: str) -> None:
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.exec(
        insert(_values)
        .values(guest_id=guest_id, refreshed_at=utcnow())
        .on_conflict_do_nothing(index_elements=[_values.c.guest_id])
    )


async def note_tier(session: AsyncSession, guest_id: str, tier: str | None) -> None:
    """The loyalty part's word: the guest's tier now (None: not a member, or lapsed). Called in
    the caller's transaction; the guest's segments follow."""
    await _ensure_row(session, guest_id)
    await session.exec(
        update(_values)
        .where(_values.c.guest_id == guest_id)
        .values(tier=tier.lower() if tier else None)
    )
    from guest_service import segments

    await segments.refresh_guest(session, guest_id, utcnow().date())


FULLWIDTH_COMMA = "\uff0c"  # how a Chinese address separates its parts


def city_of(address: str | None) -> str | None:
    """The city in a sealed address, as segments compare it: the last comma-separated part
    ("88 Century Avenue, Pudong, Shanghai" -> "Shanghai"); a Chinese address written without
    commas, up to its first 市 ("上海市浦东新区..." -> "上海市")."""
    if not address or not address.strip():
        return None
    text = address.strip().replace(FULLWIDTH_COMMA, ",")
    if "," not in text and "市" in text:
        return text[: text.index("市") + 1][-100:]
    last = text.rsplit(",", 1)[-1].strip()
    return last[:100] or None


async def _profile_facts(session: AsyncSession, guest: Guest) -> None:
    """Copy what rules may ask of the profile (city, birth year) to the value row: the profile
    keeps address and birth date sealed, so SQL cannot read them there."""
    await session.exec(
        update(_values)
        .where(_values.c.guest_id == guest.id)
        .values(
            city=city_of(guest.address),
            birth_year=guest.birth_date.year if guest.birth_date else None,
        )
    )


async def note_profile(session: AsyncSession, guest_id: str) -> None:
    """The profile changed (address, birth date, company, tags, ...): its value row and
    segments follow. Profiles call it after a change, in their transaction."""
    await refresh_guest(session, guest_id)


async def refresh_forever(runtime: Any) -> None:
    """ServiceSpec worker: every guest's value and every segment, each
    `value_refresh_seconds` (recency ages with the calendar; a missed event is caught up)."""
    while True:
        await asyncio.sleep(runtime.settings.value_refresh_seconds)
        try:
            async with transaction(runtime.sessions) as session:
                await refresh_all(session)
        except Exception:
            log.exception("refreshing guest values failed; will try again")
