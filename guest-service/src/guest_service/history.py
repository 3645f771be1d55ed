"""A guest's stay history: stays, nights, spend, channel, cancellations, no-shows, transfers
used and feedback given, gathered from the events of reservation- and transfer-service and
from the feedback part (`note_feedback`).

The stays themselves are matching's (models.stays); this module adds what they lack and reads
the whole history back for `GET /api/v1/guests/{id}/history`.
"""

import logging
import typing
from datetime import date, datetime
from decimal import Decimal

from hotel_common.contracts.reservations import ReservationCreated, ReservationNoShow
from hotel_common.contracts.transfers import TransferStatusChanged
from hotel_common.events.envelope import newer_than_stored
from hotel_common.time import utcnow
from sqlalchemy import Table, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, value
from guest_service.contacts import booking_email
from guest_service.models import ContactKind, GuestStay, StayStatus, _new_id
from guest_service.models.history import BookingChannel, GuestFeedback, GuestTransfer
from guest_service.models.segments import GuestValue, GuestValuePublic
from guest_service.money import to_cny

log = logging.getLogger(__name__)

_stays = typing.cast(Table, GuestStay.__table__)  # type: ignore[attr-defined]
_channels = typing.cast(Table, BookingChannel.__table__)  # type: ignore[attr-defined]
_transfers = typing.cast(Table, GuestTransfer.__table__)  # type: ignore[attr-defined]

ZERO = Decimal("0.00")
COMPLETED = "completed"  # the transfer job's status once the ride is done


class StayNotLinked(LookupError):
    """A no-show overtook the booking's confirmation: raising lets the bus deliver it later."""


# Built once per table and dialect (their cache keys too): `note_channel` runs for every booking.
_INSERT_ONCE = {
    (table.name, name): dialect.insert(table).on_conflict_do_nothing()
    for table in (_channels, _transfers, typing.cast(Table, GuestFeedback.__table__))  # type: ignore[attr-defined]
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def _insert_ignoring_twin(session: AsyncSession, table: Table, **row: object) -> bool:
    """Insert `row` unless its key is there (a redelivered event); whether it went in.

    Core on the session's connection, flushing first what the caller left pending (as the
    session's autoflush would): the ORM execution path costs more than the insert."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    conn = await session.connection()
    result = await conn.execute(_INSERT_ONCE[(table.name, conn.dialect.name)], row)
    return bool(result.rowcount)


# -- events ---------------------------------------------------------------------------------------
async def note_channel(session: AsyncSession, created: ReservationCreated) -> None:
    """Keep the booking's channel until (and after) its stay is linked."""
    await _insert_ignoring_twin(
        session,
        _channels,
        reservation_id=created.reservation_id,
        channel=created.channel[:64],
        source=(created.source or None) and created.source[:16],
        created_at=utcnow(),
    )


async def note_no_show(session: AsyncSession, no_show: ReservationNoShow) -> None:
    """The stay's guest never came: the stay is a no-show, the guest's value follows (a stale
    event changes nothing)."""
    query = select(GuestStay).where(col(GuestStay.reservation_id) == no_show.reservation_id)
    row = (await session.exec(query)).first()
    if row is None:
        raise StayNotLinked(no_show.reservation_id)
    if not newer_than_stored(no_show.aggregate_version, row.reservation_version):
        return
    await session.exec(
        update(_stays)
        .where(_stays.c.id == row.id)
        .values(
            status=StayStatus.NO_SHOW.value,
            reservation_version=no_show.aggregate_version,
            updated_at=utcnow(),
        )
    )
    await value.refresh_guest(session, row.guest_id)
    log.info(
        "no-show recorded",
        extra={"reservation_id": no_show.reservation_id, "guest_id": row.guest_id},
    )


async def note_transfer(session: AsyncSession, change: TransferStatusChanged) -> None:
    """A completed ride on the guest's history (once per job). A ride
    of a booking counts for the booking's guest; an ad-hoc one for the profile holding its
    email, if any."""
    if change.status != COMPLETED:
        return
    guest_id = None
    if change.reservation_id is None:
        email = booking_email(change.guest.email)
        held = await contact_book.holders(session, ContactKind.EMAIL, email) if email else []
        if not held:
            return
        guest_id = held[0]
    await _insert_ignoring_twin(
        session,
        _transfers,
        transfer_id=change.transfer_id,
        reservation_id=change.reservation_id,
        guest_id=guest_id,
        completed_at=change.at,
        fare_amount=change.fare_amount,
        fare_currency=change.fare_currency,
    )


async def note_feedback(
    session: AsyncSession,
    guest_id: str,
    *,
    kind: str = "survey",
    reference: str | None = None,
    at: datetime | None = None,
) -> None:
    """The feedback part's word: the guest gave feedback (`kind`: survey, complaint, ...).
    Called in the caller's transaction; a `reference` already noted adds nothing."""
    await _insert_ignoring_twin(
        session,
        typing.cast(Table, GuestFeedback.__table__),  # type: ignore[attr-defined]
        id=_new_id(),
        guest_id=guest_id,
        kind=kind[:32],
        reference=reference[:100] if reference else None,
        at=at or utcnow(),
    )


# -- the history as the API shows it ----------------------------------------------------------
class HistoryStay(SQLModel):
    reservation_id: str
    confirmation_number: str
    property_name: str
    room_type_code: str
    check_in: date
    check_out: date
    status: StayStatus
    nights: int | None
    total_amount: int
    amount_spent: int | None
    currency: str
    spend_cny: str | None  # the settled spend in yuan at the configured rate ("1234.50")
    channel: str | None
    source: str | None
    transfers: int


class HistorySummary(SQLModel):
    stays: int  # completed
    nights: int
    spend_cny: str
    upcoming: int  # confirmed, not yet over
    cancellations: int
    no_shows: int
    transfers: int
    feedback: int
    first_stay_on: date | None
    last_stay_on: date | None
    channels: dict[str, int]  # completed stays per channel


class GuestHistory(SQLModel):
    guest_id: str
    summary: HistorySummary
    value: GuestValuePublic | None
    stays: list[HistoryStay]


async def history_of(session: AsyncSession, guest_id: str, fx: dict[str, float]) -> GuestHistory:
    """Every stay of the guest, newest first, with its channel and rides; the totals; the
    value."""
    rides = (
        sa_select(_transfers.c.reservation_id, func.count().label("n"))
        .group_by(_transfers.c.reservation_id)
        .subquery("rides")
    )
    query = (
        sa_select(_stays, _channels.c.channel, _channels.c.source, rides.c.n)
        .select_from(
            _stays.outerjoin(
                _channels, _channels.c.reservation_id == _stays.c.reservation_id
            ).outerjoin(rides, rides.c.reservation_id == _stays.c.reservation_id)
        )
        .where(_stays.c.guest_id == guest_id)
        .order_by(_stays.c.check_in.desc(), _stays.c.id)
    )
    stays: list[HistoryStay] = []
    conn = await session.connection()  # a plain read: Core rows as mappings
    for row in (await conn.execute(query)).mappings():
        spent = row["amount_spent"]
        stays.append(
            HistoryStay.model_validate(
                {
                    **row,
                    "spend_cny": None if spent is None else str(to_cny(spent, row["currency"], fx)),
                    "transfers": row["n"] or 0,
                }
            )
        )
    done = [s for s in stays if s.status == StayStatus.CHECKED_OUT]
    # Rides of the guest's bookings are counted with their stays; ad-hoc rides carry the guest.
    adhoc = await session.exec(select(func.count()).where(_transfers.c.guest_id == guest_id))
    feedback = await session.exec(
        select(func.count()).where(col(GuestFeedback.guest_id) == guest_id)
    )
    channels: dict[str, int] = {}
    for s in done:
        key = s.channel or "unknown"
        channels[key] = channels.get(key, 0) + 1
    summary = HistorySummary(
        stays=len(done),
        nights=sum(s.nights or 0 for s in done),
        spend_cny=str(sum((to_cny(s.amount_spent or 0, s.currency, fx) for s in done), ZERO)),
        upcoming=sum(1 for s in stays if s.status == StayStatus.CONFIRMED),
        cancellations=sum(1 for s in stays if s.status == StayStatus.CANCELLED),
        no_shows=sum(1 for s in stays if s.status == StayStatus.NO_SHOW),
        transfers=sum(s.transfers for s in stays) + int(adhoc.one()),
        feedback=int(feedback.one()),
        first_stay_on=min((s.check_in for s in done), default=None),
        last_stay_on=max((s.check_out for s in done), default=None),
        channels=channels,
    )
    found = await session.get(GuestValue, guest_id)
    shown = GuestValuePublic.model_validate(found) if found is not None else None
    return GuestHistory(guest_id=guest_id, summary=summary, value=shown, stays=stays)
