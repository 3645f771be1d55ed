"""Fares and receipts (issue 18, Money and quality).

A fare is the base amount of one ride in a vehicle class between two places, recorded in either
direction: the direction asked for wins, the other one is the fallback (like travel times).
On top of it:
- the night surcharge: `night_surcharge_bp` of the base when the pickup's *scheduled* local hour
  (pickup_time in the job's property time zone) is in [night_starts, night_ends) (wrapping past
  midnight), rounded half up to a minor unit;
- the waiting charge: `waiting_block_amount` per started `waiting_block_minutes` block of the
  guest's wait past the free time (`job.waiting_minutes`, set at boarding by the live steps; if
  it was not recorded, derived from on_board_at - pickup_time minus the free wait of the job's
  transport, the train's when none is known).
A booking whose rate plan includes transfers (`job.fare_included`) pays nothing: its receipt
keeps the computed lines and adds an `included` line cancelling them, so the lines always sum
to the amount (0). A free ride granted for a complaint (compensation.py) adds a `waived` line
the same way.

Every amount is in the service's one currency (`settings.currency`); fares are recorded in it.
"""

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotel_common.errors import NotFound, ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import as_utc, utcnow
from hotel_common.uniques import insert_unique, try_insert
from sqlalchemy import ColumnElement
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import compensation
from transfer_service.config import Settings
from transfer_service.models import (
    Fare,
    FareCreate,
    FarePublic,
    FareUpdate,
    Place,
    Receipt,
    ReceiptPublic,
    TransferJob,
    Transport,
    Vehicle,
)

RECEIPT_PREFIX = "TR"


def is_night(job: TransferJob, settings: Settings) -> bool:
    """The scheduled pickup's local hour falls in the night window."""
    hour = as_utc(job.pickup_time).astimezone(ZoneInfo(job.property_timezone)).hour
    start, end = settings.night_starts, settings.night_ends
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def free_wait_minutes(job: TransferJob, settings: Settings) -> int:
    waits: dict[str, int] = {
        Transport.INTERNATIONAL_FLIGHT.value: settings.wait_international_minutes,
        Transport.DOMESTIC_FLIGHT.value: settings.wait_domestic_minutes,
    }
    return waits.get(job.transport or "", settings.wait_train_minutes)


def waited_minutes(job: TransferJob, settings: Settings) -> int:
    """The guest's wait past the free time (minutes, 0 when none)."""
    if job.waiting_minutes is not None:
        return max(0, job.waiting_minutes)
    if job.on_board_at is None:
        return 0
    waited = (as_utc(job.on_board_at) - as_utc(job.pickup_time)).total_seconds() / 60
    return max(0, math.ceil(waited - free_wait_minutes(job, settings)))


def waiting_charge(minutes: int, settings: Settings) -> int:
    blocks = -(-minutes // settings.waiting_block_minutes) if minutes > 0 else 0
    return blocks * settings.waiting_block_amount


async def base_fare(
    session: AsyncSession, vehicle_class: str, from_id: int | None, to_id: int | None
) -> Fare | None:
    """The fare of the pair in this direction, else the other direction's; None if neither."""
    if from_id is None or to_id is None:
        return None
    query = select(Fare).where(
        Fare.vehicle_class == vehicle_class,
        or_(
            (col(Fare.from_place_id) == from_id) & (col(Fare.to_place_id) == to_id),
            (col(Fare.from_place_id) == to_id) & (col(Fare.to_place_id) == from_id),
        ),
    )
    fares = list((await session.exec(query)).all())
    fares.sort(key=lambda f: (f.from_place_id, f.to_place_id) != (from_id, to_id))
    return fares[0] if fares else None


async def lines_of(
    session: AsyncSession, job: TransferJob, vehicle_class: str, settings: Settings
) -> list[dict[str, Any]] | None:
    """The charge lines of `job` in `vehicle_class` (before any inclusion); None: no fare."""
    fare = await base_fare(session, vehicle_class, job.pickup_place_id, job.destination_place_id)
    if fare is None:
        return None
    lines: list[dict[str, Any]] = [
        {"code": "base", "amount": fare.amount, "note": f"{vehicle_class} fare"}
    ]
    if is_night(job, settings) and settings.night_surcharge_bp:
        surcharge = (fare.amount * settings.night_surcharge_bp + 5_000) // 10_000
        note = f"night pickup ({settings.night_surcharge_bp / 100:g}% of the fare)"
        lines.append({"code": "night_surcharge", "amount": surcharge, "note": note})
    waited = waited_minutes(job, settings)
    if (charge := waiting_charge(waited, settings)) > 0:
        note = f"{waited} min past the free wait, per started {settings.waiting_block_minutes} min"
        lines.append({"code": "waiting", "amount": charge, "note": note})
    return lines


async def issue_receipt(
    session: AsyncSession, job: TransferJob, vehicle: Vehicle | None, settings: Settings
) -> Receipt | None:
    """The receipt of the completed `job`, issued once (a second call returns the first);
    sets the job's fare. None: nothing to charge is known (no vehicle or no fare recorded for
    its class and places, and the transfer is not included)."""
    existing = (await session.exec(select(Receipt).where(Receipt.transfer_id == job.id))).first()
    if existing is not None:
        return existing
    lines = await lines_of(session, job, vehicle.vehicle_class, settings) if vehicle else None
    if job.fare_included:
        subtotal = sum(line["amount"] for line in lines or [])
        note = "included in the booking's rate plan"
        lines = [*(lines or []), {"code": "included", "amount": -subtotal, "note": note}]
    if lines is None:
        return None
    amount = sum(line["amount"] for line in lines)
    job.fare_amount, job.fare_currency = amount, settings.currency
    receipt = Receipt(
        number=f"TMP-{job.id[:24]}",  # the final number needs the row's id
        transfer_id=job.id,
        amount=amount,
        currency=settings.currency,
        lines=lines,
        issued_at=as_utc(job.completed_at) if job.completed_at else utcnow(),
    )
    if not await try_insert(session, receipt):  # a concurrent completion issued it first
        return (await session.exec(select(Receipt).where(Receipt.transfer_id == job.id))).one()
    receipt.number = receipt_number(job, receipt.id or 0, receipt.issued_at)
    await compensation.on_receipt(session, job, receipt)  # a free ride granted for a complaint
    session.add(job)
    await session.flush()
    return receipt


def receipt_number(job: TransferJob, receipt_id: int, issued_at: datetime) -> str:
    """TR-<local date of issue>-<receipt id, 6+ digits>: unique by its id."""
    day = as_utc(issued_at).astimezone(ZoneInfo(job.property_timezone)).date()
    return f"{RECEIPT_PREFIX}-{day:%Y%m%d}-{receipt_id:06d}"


# --- the fare table, as managers keep it ------------------------------------------------------


async def list_fares(
    session: AsyncSession,
    paging: Paging,
    vehicle_class: str | None,
    place_id: int | None,
) -> Page[FarePublic]:
    query = select(Fare)
    if vehicle_class is not None:
        query = query.where(Fare.vehicle_class == vehicle_class)
    if place_id is not None:
        query = query.where(
            or_(col(Fare.from_place_id) == place_id, col(Fare.to_place_id) == place_id)
        )
    page = await keyset_page(session, query, paging, col(Fare.id))
    return page.map(FarePublic.model_validate)


async def get_fare(session: AsyncSession, fare_id: int) -> Fare:
    fare = await session.get(Fare, fare_id)
    if fare is None:
        raise NotFound("fare", fare_id)
    return fare


async def create_fare(session: AsyncSession, data: FareCreate, settings: Settings) -> FarePublic:
    if data.from_place_id == data.to_place_id:
        raise ProblemError(
            422, "same_place", "A fare runs between two different places.", field="to_place_id"
        )
    for field in ("from_place_id", "to_place_id"):
        place_id = getattr(data, field)
        if await session.get(Place, place_id) is None:
            raise ProblemError(422, "unknown_place", f"No place with id {place_id}.", field=field)
    taken = "A fare for this vehicle class from and to these places is recorded."
    same = select(Fare.id).where(
        Fare.vehicle_class == data.vehicle_class,
        Fare.from_place_id == data.from_place_id,
        Fare.to_place_id == data.to_place_id,
    )
    if (await session.exec(same)).first() is not None:
        raise ProblemError(409, "fare_exists", taken)
    fare = Fare.model_validate(data, update={"currency": settings.currency})
    fare = await insert_unique(session, fare, "fare_exists", taken)
    return FarePublic.model_validate(fare)


async def update_fare(session: AsyncSession, fare_id: int, data: FareUpdate) -> FarePublic:
    fare = await get_fare(session, fare_id)
    fare.amount = data.amount
    fare.updated_at = utcnow()
    session.add(fare)
    await session.flush()
    return FarePublic.model_validate(fare)


async def delete_fare(session: AsyncSession, fare_id: int) -> None:
    await session.delete(await get_fare(session, fare_id))
    await session.flush()


async def receipt_of(
    session: AsyncSession, transfer_id: str, visible: ColumnElement[bool] | None
) -> ReceiptPublic:
    """The receipt of a job the caller may see: 404 transfer_not_found when they may not (or
    there is no such job), 404 receipt_not_found before the job is completed and charged."""
    query = (
        select(TransferJob.id, Receipt)
        .outerjoin(Receipt, col(Receipt.transfer_id) == col(TransferJob.id))
        .where(TransferJob.id == transfer_id)
    )
    if visible is not None:
        query = query.where(visible)
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("transfer", transfer_id)
    if row[1] is None:
        raise ProblemError(
            404,
            "receipt_not_found",
            "No receipt: the job is not completed, or it had nothing to charge.",
        )
    return ReceiptPublic.model_validate(row[1])
