"""Rate plans: creating, changing, listing them; pushing per-night prices and restrictions for
date ranges (ARI), all or nothing and idempotent by content; reading ARI back."""

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from hotel_common.errors import NotFound, ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.principal import Principal
from hotel_common.time import utcnow
from hotel_common.uniques import insert_unique, try_insert
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import ari_changes, inventory
from reservation_service.access import check_property
from reservation_service.catalog import resolve_property, room_type_by_code
from reservation_service.config import Settings
from reservation_service.models import Property, RoomType
from reservation_service.problems import invalid_field
from reservation_service.rates import engine, store
from reservation_service.rates.models import (
    BASE_CODE,
    Ari,
    CancellationIn,
    CancellationOut,
    GuaranteeIn,
    GuaranteeOut,
    PlanKind,
    PushResult,
    RatePlan,
    RatePlanCreate,
    RatePlanNight,
    RatePlanPublic,
    RatePlanSeason,
    RatePlanUpdate,
    RatesPush,
    RestrictionRange,
    RestrictionsPush,
    SeasonCreate,
    SeasonPublic,
)
from reservation_service.stays import nights, today_at

MAX_ARI_READ_NIGHTS = 366


# -- plans -----------------------------------------------------------------------------------------


def _apply_terms(plan: RatePlan, cancellation: CancellationIn, guarantee: GuaranteeIn) -> None:
    plan.cancel_free_until_hours = cancellation.free_until_hours
    plan.cancel_fee = cancellation.fee
    plan.cancel_fee_percent = cancellation.fee_percent
    plan.guarantee_kind = guarantee.kind
    plan.guarantee_deposit_percent = guarantee.deposit_percent
    plan.guarantee_due_hours = guarantee.due_hours


def _seasons(plan_id: int, seasons: Sequence[SeasonCreate]) -> list[RatePlanSeason]:
    return [
        RatePlanSeason(
            rate_plan_id=plan_id,
            name=s.name,
            start_date=s.start,
            end_date=s.end,
            weekday_amount=s.weekday_amount,
            weekend_amount=s.weekend_amount,
        )
        for s in seasons
    ]


async def _by_code(session: AsyncSession, room_type: RoomType, code: str) -> RatePlan | None:
    return (
        await session.exec(
            select(RatePlan).where(RatePlan.room_type_id == room_type.id, RatePlan.code == code)
        )
    ).first()


async def create_plan(
    session: AsyncSession, data: RatePlanCreate, principal: Principal
) -> RatePlanPublic:
    prop = await resolve_property(session, data.property_id, "body")
    check_property(principal, prop)
    room_type = await room_type_by_code(session, prop, data.room_type_code, "body.room_type_code")
    taken = f"Room type {room_type.code} has a rate plan {data.code}."
    if await _by_code(session, room_type, data.code) is not None:
        raise ProblemError(409, "rate_plan_exists", taken)
    assert room_type.id is not None
    plan = RatePlan(
        room_type_id=room_type.id,
        code=data.code,
        name=data.name,
        weekday_amount=data.weekday_amount,
        weekend_amount=data.weekend_amount,
        includes_transfers=data.includes_transfers,
    )
    if data.parent_code is not None:
        if data.code == BASE_CODE:
            raise invalid_field(
                "base_plan_not_derived", "body.parent_code", "The BASE plan is never derived."
            )
        parent = await _by_code(session, room_type, data.parent_code)
        if parent is None and data.parent_code == BASE_CODE:
            # The implicit BASE becomes a row; made meanwhile by another request: that one.
            base = RatePlan(room_type_id=room_type.id, code=BASE_CODE, name="Base rate")
            parent = base if await try_insert(session, base) else None
            parent = parent or await _by_code(session, room_type, BASE_CODE)
        if parent is None:
            raise invalid_field(
                "unknown_rate_plan",
                "body.parent_code",
                f"Room type {room_type.code} has no rate plan {data.parent_code}.",
            )
        if parent.kind != PlanKind.BASE:
            raise invalid_field(
                "parent_not_base",
                "body.parent_code",
                f"{parent.code} is derived itself: derive from a base plan.",
            )
        plan.kind, plan.parent_id = PlanKind.DERIVED, parent.id
        plan.discount_bp = data.discount_bp or 0
    _apply_terms(plan, data.cancellation, data.guarantee)
    await insert_unique(session, plan, "rate_plan_exists", taken)
    assert plan.id is not None
    seasons = _seasons(plan.id, data.seasons)
    session.add_all(seasons)
    await session.flush()
    await ari_changes.mark_all(session, room_type.id)  # a new plan's prices, every night
    parent_code = data.parent_code if plan.kind == PlanKind.DERIVED else None
    return plan_public(plan, prop, room_type, seasons, parent_code)


async def load_plan(
    session: AsyncSession, plan_id: int, *, lock: bool = False
) -> tuple[RatePlan, RoomType, Property]:
    query = (
        select(RatePlan, RoomType, Property)
        .join(RoomType, col(RoomType.id) == RatePlan.room_type_id)
        .join(Property, col(Property.id) == RoomType.property_id)
        .where(RatePlan.id == plan_id)
    )
    if lock:
        query = query.with_for_update(of=RatePlan)
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("rate_plan", plan_id)
    return row[0], row[1], row[2]


async def _parent_code(session: AsyncSession, plan: RatePlan) -> str | None:
    if plan.parent_id is None:
        return None
    parent = await session.get(RatePlan, plan.parent_id)
    return parent.code if parent else None


async def _plan_seasons(session: AsyncSession, plan_id: int) -> list[RatePlanSeason]:
    return list(
        (
            await session.exec(
                select(RatePlanSeason)
                .where(RatePlanSeason.rate_plan_id == plan_id)
                .order_by(col(RatePlanSeason.start_date))
            )
        ).all()
    )


async def get_plan(session: AsyncSession, plan_id: int) -> RatePlanPublic:
    plan, room_type, prop = await load_plan(session, plan_id)
    assert plan.id is not None
    seasons = await _plan_seasons(session, plan.id)
    return plan_public(plan, prop, room_type, seasons, await _parent_code(session, plan))


async def update_plan(
    session: AsyncSession, plan_id: int, data: RatePlanUpdate, principal: Principal
) -> RatePlanPublic:
    plan, room_type, prop = await load_plan(session, plan_id, lock=True)
    check_property(principal, prop)
    assert plan.id is not None
    given = data.model_fields_set
    prices = {"weekday_amount", "weekend_amount", "seasons"} & given
    if plan.kind == PlanKind.DERIVED and prices:
        field = sorted(prices)[0]
        raise invalid_field(
            "derived_plan_prices", f"body.{field}", "A derived plan's prices follow its parent."
        )
    if plan.kind == PlanKind.BASE and "discount_bp" in given:
        raise invalid_field(
            "base_plan_discount", "body.discount_bp", "Only a derived plan has a discount."
        )
    for field in ("name", "weekday_amount", "weekend_amount"):
        if field in given:
            value = getattr(data, field)
            if field == "name" and value is None:
                continue
            setattr(plan, field, value)
    if "discount_bp" in given and data.discount_bp is not None:
        plan.discount_bp = data.discount_bp
    if data.includes_transfers is not None:
        plan.includes_transfers = data.includes_transfers
    cancellation, guarantee = (
        data.cancellation or _cancellation_in(plan),
        data.guarantee or _guarantee_in(plan),
    )
    _apply_terms(plan, cancellation, guarantee)
    plan.updated_at = utcnow()
    session.add(plan)
    if data.seasons is not None:
        stale = delete(RatePlanSeason).where(col(RatePlanSeason.rate_plan_id) == plan.id)
        await session.exec(stale)
        session.add_all(_seasons(plan.id, data.seasons))
    await session.flush()
    if given & {"weekday_amount", "weekend_amount", "seasons", "discount_bp"}:
        # Prices of any night may follow (and a base plan's derived plans with them): the
        # publisher reads them back, an unchanged night costs a resend, not a wrong price.
        await ari_changes.mark_all(session, plan.room_type_id)
    seasons = await _plan_seasons(session, plan.id)
    return plan_public(plan, prop, room_type, seasons, await _parent_code(session, plan))


def _cancellation_in(plan: RatePlan) -> CancellationIn:
    return CancellationIn.model_construct(
        free_until_hours=plan.cancel_free_until_hours,
        fee=plan.cancel_fee,  # type: ignore[arg-type]
        fee_percent=plan.cancel_fee_percent,
    )


def _guarantee_in(plan: RatePlan) -> GuaranteeIn:
    return GuaranteeIn.model_construct(
        kind=plan.guarantee_kind,  # type: ignore[arg-type]
        deposit_percent=plan.guarantee_deposit_percent,
        due_hours=plan.guarantee_due_hours,
    )


async def list_plans(
    session: AsyncSession,
    paging: Paging,
    property_id: int | None,
    room_type_code: str | None,
) -> Page[RatePlanPublic]:
    query = (
        select(RatePlan, RoomType, Property)
        .join(RoomType, col(RoomType.id) == RatePlan.room_type_id)
        .join(Property, col(Property.id) == RoomType.property_id)
    )
    if property_id is not None:
        query = query.where(RoomType.property_id == property_id)
    if room_type_code is not None:
        query = query.where(RoomType.code == room_type_code.strip().upper())
    page = await keyset_page(session, query, paging, col(RatePlan.id))
    plan_ids = [row[0].id for row in page.items]
    seasons: dict[int, list[RatePlanSeason]] = {i: [] for i in plan_ids}
    codes: dict[int, str] = {}
    if plan_ids:
        for season in (
            await session.exec(
                select(RatePlanSeason)
                .where(col(RatePlanSeason.rate_plan_id).in_(plan_ids))
                .order_by(col(RatePlanSeason.start_date))
            )
        ).all():
            seasons[season.rate_plan_id].append(season)
        parents = {row[0].parent_id for row in page.items if row[0].parent_id is not None}
        if parents:
            for pid, code in (
                await session.exec(
                    select(RatePlan.id, RatePlan.code).where(col(RatePlan.id).in_(parents))
                )
            ).all():
                if pid is not None:
                    codes[pid] = code
    return page.map(
        lambda row: plan_public(
            row[0],
            row[2],
            row[1],
            seasons.get(row[0].id, []),
            codes.get(row[0].parent_id) if row[0].parent_id else None,
        )
    )


def plan_public(
    plan: RatePlan,
    prop: Property,
    room_type: RoomType,
    seasons: Sequence[RatePlanSeason],
    parent_code: str | None,
) -> RatePlanPublic:
    assert prop.id is not None
    return RatePlanPublic(
        id=plan.id,
        property_id=prop.id,
        room_type_code=room_type.code,
        code=plan.code,
        name=plan.name,
        kind=PlanKind(plan.kind),
        parent_code=parent_code,
        discount_bp=plan.discount_bp if plan.kind == PlanKind.DERIVED else None,
        weekday_amount=(
            None if plan.kind == PlanKind.DERIVED else plan.weekday_amount or room_type.base_amount
        ),
        weekend_amount=None if plan.kind == PlanKind.DERIVED else plan.weekend_amount,
        currency=prop.currency,
        seasons=[
            SeasonPublic(
                name=s.name,
                start=s.start_date,
                end=s.end_date,
                weekday_amount=s.weekday_amount,
                weekend_amount=s.weekend_amount,
                currency=prop.currency,
            )
            for s in seasons
        ],
        cancellation=CancellationOut(
            free_until_hours=plan.cancel_free_until_hours,
            fee=plan.cancel_fee,
            fee_percent=plan.cancel_fee_percent,
        ),
        guarantee=GuaranteeOut(
            kind=plan.guarantee_kind,
            deposit_percent=plan.guarantee_deposit_percent,
            due_hours=plan.guarantee_due_hours,
        ),
        includes_transfers=bool(plan.includes_transfers),
    )


# -- ARI: pushing ----------------------------------------------------------------------------------


def _check_window(
    ranges: Sequence[RestrictionRange] | Sequence[object],
    prop: Property,
    settings: Settings,
) -> None:
    """Every range from today (property time) to the last night a stay may cover."""
    today = today_at(prop.timezone)
    last = today + timedelta(days=settings.max_booking_horizon_days + settings.max_stay_nights)
    for i, r in enumerate(ranges):
        start, end = r.start, r.end  # type: ignore[attr-defined]
        if start < today:
            raise invalid_field(
                "range_in_past",
                f"body.ranges.{i}.start",
                f"A range starts today ({today.isoformat()}, property time) or later.",
            )
        if end > last + timedelta(days=1):
            raise invalid_field(
                "range_too_far",
                f"body.ranges.{i}.end",
                f"Rates and restrictions are kept up to {last.isoformat()}.",
            )


def _nights_of(ranges: Sequence[RestrictionRange] | Sequence[object]) -> list[tuple[date, object]]:
    """Every (night, range) the ranges cover, in the order given (a later range wins)."""
    covered = []
    for r in ranges:
        days = set(r.weekdays or range(1, 8))  # type: ignore[attr-defined]
        for night in nights(r.start, r.end):  # type: ignore[attr-defined]
            if night.isoweekday() in days:
                covered.append((night, r))
    return covered


async def _push(
    session: AsyncSession,
    plan: RatePlan,
    covered: list[tuple[date, object]],
    apply: Callable[[RatePlanNight, object], None],
) -> int:
    """Apply the ranges night by night to the stored rows; only changed rows are written (a
    repeat writes nothing). Returns the nights whose stored values changed."""
    assert plan.id is not None
    if not covered:
        return 0
    first, last = min(n for n, _ in covered), max(n for n, _ in covered)
    existing = {
        row.night: row
        for row in (
            await session.exec(
                select(RatePlanNight).where(
                    RatePlanNight.rate_plan_id == plan.id,
                    col(RatePlanNight.night) >= first,
                    col(RatePlanNight.night) <= last,
                )
            )
        ).all()
    }
    before = {n: _values(row) for n, row in existing.items()}
    for night, r in covered:
        row = existing.get(night)
        if row is None:
            row = existing[night] = RatePlanNight(rate_plan_id=plan.id, night=night)
        apply(row, r)
    changed: list[date] = []
    for night, row in existing.items():
        was = before.get(night)
        now = None if row.is_empty() else _values(row)
        if was == now:
            continue
        changed.append(night)
        if now is None:
            await session.delete(row)
        else:
            session.add(row)
    if changed:
        plan.updated_at = utcnow()
        session.add(plan)
    await session.flush()
    if changed:  # one range around the changed nights (a push of Saturdays is one message)
        end = max(changed) + timedelta(days=1)
        await ari_changes.mark(session, plan.room_type_id, min(changed), end)
    return len(changed)


def _values(row: RatePlanNight) -> tuple[object, ...]:
    return (
        row.amount,
        row.min_stay,
        row.max_stay,
        row.closed_to_arrival,
        row.closed_to_departure,
        row.stop_sell,
    )


def _apply_rate(row: RatePlanNight, r: object) -> None:
    row.amount = r.amount  # type: ignore[attr-defined]


def _apply_restrictions(row: RatePlanNight, r: object) -> None:
    assert isinstance(r, RestrictionRange)
    for field in r.model_fields_set - {"start", "end", "weekdays"}:
        value = getattr(r, field)
        if field in {"closed_to_arrival", "closed_to_departure", "stop_sell"}:
            value = bool(value)
        setattr(row, field, value)
    if row.min_stay and row.max_stay and row.min_stay > row.max_stay:
        raise invalid_field(
            "min_stay_above_max_stay",
            "body.ranges",
            f"On {row.night.isoformat()} the minimum stay would be above the maximum.",
        )


async def push_rates(
    session: AsyncSession,
    plan_id: int,
    data: RatesPush,
    principal: Principal,
    settings: Settings,
) -> PushResult:
    plan, _, prop = await load_plan(session, plan_id, lock=True)
    check_property(principal, prop)
    if plan.kind == PlanKind.DERIVED:
        raise ProblemError(
            409,
            "derived_plan_prices",
            f"{plan.code} is derived: its prices follow its parent; push them there.",
        )
    _check_window(data.ranges, prop, settings)
    covered = _nights_of(data.ranges)
    changed = await _push(session, plan, covered, _apply_rate)
    return _result(plan, covered, changed)


async def push_restrictions(
    session: AsyncSession,
    plan_id: int,
    data: RestrictionsPush,
    principal: Principal,
    settings: Settings,
) -> PushResult:
    plan, _, prop = await load_plan(session, plan_id, lock=True)
    check_property(principal, prop)
    _check_window(data.ranges, prop, settings)
    covered = _nights_of(data.ranges)
    changed = await _push(session, plan, covered, _apply_restrictions)
    return _result(plan, covered, changed)


def _result(plan: RatePlan, covered: list[tuple[date, object]], changed: int) -> PushResult:
    assert plan.id is not None
    return PushResult(
        rate_plan_id=plan.id,
        rate_plan_code=plan.code,
        nights=len({n for n, _ in covered}),
        changed=changed,
    )


# -- ARI: reading ----------------------------------------------------------------------------------


async def read_ari(
    session: AsyncSession,
    prop: Property,
    start: date,
    end: date,
    room_type_code: str | None,
    rate_plan_code: str | None,
) -> Ari:
    if end <= start:
        raise invalid_field("to_not_after_from", "query.to", "`to` must be after `from`.")
    if (end - start).days > MAX_ARI_READ_NIGHTS:
        raise invalid_field(
            "range_too_long", "query.to", f"One read covers at most {MAX_ARI_READ_NIGHTS} nights."
        )
    query = select(RoomType).where(RoomType.property_id == prop.id)
    if room_type_code is not None:
        query = query.where(RoomType.code == room_type_code.strip().upper())
    room_types = list((await session.exec(query.order_by(col(RoomType.id)))).all())
    if room_type_code is not None and not room_types:
        raise invalid_field(
            "unknown_room_type", "query.room_type_code", f"No room type with code {room_type_code}."
        )
    assert prop.id is not None
    data = await store.plan_data(session, room_types, start, end)
    free = await inventory.free_per_night(session, prop.id, start, end)
    stay = nights(start, end)
    wanted = rate_plan_code.strip().upper() if rate_plan_code else None
    by_room_type = data.by_room_type()
    out: list[dict[str, Any]] = []
    for room_type in room_types:
        assert room_type.id is not None
        plans = list(by_room_type.get(room_type.id, ()))
        if not any(p.code == BASE_CODE for p in plans):
            plans.insert(0, engine.implicit_base(room_type))
        if wanted is not None:
            plans = [p for p in plans if p.code == wanted]
        out.append(
            {
                "room_type_code": room_type.code,
                "free": free.get(room_type.id, [0] * len(stay)),
                "rate_plans": [_ari_plan(data, p, room_type, stay) for p in plans],
            }
        )
    answer = {"property_id": prop.id, "start": start, "end": end, "currency": prop.currency}
    return Ari.model_validate(answer | {"room_types": out})


def _ari_plan(
    data: engine.PlanData, plan: RatePlan, room_type: RoomType, stay: list[date]
) -> dict[str, Any]:
    """A plan's nights as plain values: the whole answer is validated once (Ari.model_validate,
    in pydantic's core), not one model per night, which dominated a year-long read."""
    amounts = engine.prices(data, plan, room_type, stay)
    pushed = data.nights.get(plan.id, {}) if plan.id is not None else {}
    rows = []
    for night, amount in zip(stay, amounts, strict=True):
        row = pushed.get(night)
        rows.append(
            {
                "night": night,
                "amount": amount,
                "min_stay": row.min_stay if row else None,
                "max_stay": row.max_stay if row else None,
                "closed_to_arrival": row.closed_to_arrival if row else False,
                "closed_to_departure": row.closed_to_departure if row else False,
                "stop_sell": row.stop_sell if row else False,
            }
        )
    return {"rate_plan_id": plan.id, "code": plan.code, "kind": plan.kind, "nights": rows}
