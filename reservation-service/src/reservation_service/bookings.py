"""Bookings: taking a request, pricing it, and finding it again.

A new booking is `requested`: every check that needs no inventory is done here, and nothing is
written unless all of them pass. Holding rooms happens on confirmation (see lifecycle.py).
"""

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from hotel_common.contacts import contact_columns, contact_of
from hotel_common.contracts.reservations import GuestContact, ReservationCreated
from hotel_common.errors import NotFound
from hotel_common.events.outbox import add_event
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import utcnow
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import history, pricing
from reservation_service.access import Actor, Maker, Reach
from reservation_service.catalog import known_room_type, property_with_room_type
from reservation_service.config import Settings
from reservation_service.models import (
    Property,
    Reservation,
    ReservationCreate,
    ReservationPublic,
    ReservationStatus,
    RoomType,
)
from reservation_service.problems import invalid_field
from reservation_service.stays import today_at, validate_arrival, validate_stay

# No 0/O, 1/I/L: the number is read out over the phone and typed in by hand.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_confirmation_number() -> str:
    return "HV" + "".join(secrets.choice(ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class Booking:
    reservation: Reservation
    room_type: RoomType
    property: Property

    def public(self) -> ReservationPublic:
        return ReservationPublic.from_row(self.reservation, self.room_type)


async def request_booking(
    session: AsyncSession,
    data: ReservationCreate,
    settings: Settings,
    maker: Maker,
    attempts: int = 3,
) -> Booking:
    prop, found = await property_with_room_type(
        session, data.property_id, data.room_type_code, "body"
    )
    maker.check_property(prop)
    validate_stay(
        data.check_in,
        data.check_out,
        today=today_at(prop.timezone),
        max_nights=settings.max_stay_nights,
        max_days_ahead=settings.max_booking_horizon_days,
        where="body",
    )
    room_type = known_room_type(found, data.room_type_code, "body.room_type_code")
    if data.guests > room_type.capacity:
        raise invalid_field(
            "too_many_guests",
            "body.guests",
            f"Room type {room_type.code} sleeps at most {room_type.capacity} guests.",
        )
    transfer, passengers = data.transfer, None
    if transfer is not None:
        validate_arrival(
            transfer.arrival_time,
            data.check_in,
            prop.timezone,
            window=settings.arrival_window,
            min_lead=settings.transfer_min_lead,
        )
        passengers = transfer.passengers or data.guests
        if passengers > data.guests:
            raise invalid_field(
                "too_many_passengers",
                "body.transfer.passengers",
                "A transfer carries at most the booking's guests.",
            )
    assert room_type.id is not None  # read from the database
    quote = await pricing.quote_stay(session, prop, room_type, data.check_in, data.check_out)
    reservation = Reservation(
        confirmation_number="",  # drawn below
        **contact_columns(data.guest),
        room_type_id=room_type.id,
        check_in=data.check_in,
        check_out=data.check_out,
        guests=data.guests,
        nightly_amount=quote.nights[0].amount,
        nightly_amounts=[n.amount for n in quote.nights],
        total_amount=quote.total_amount,
        tax_amount=quote.tax_amount,
        rate_plan_code=quote.rate_plan_code,
        policy=pricing.policy_snapshot(quote),
        currency=quote.currency,
        expires_at=utcnow() + timedelta(hours=settings.request_expiry_hours),
        special_requests=data.special_requests,
        transfer_flight_number=transfer.flight_number if transfer else None,
        transfer_arrival_time=transfer.arrival_time if transfer else None,
        transfer_pickup_place=transfer.pickup_place if transfer else None,
        transfer_passengers=passengers,
        transfer_luggage=transfer.luggage if transfer else None,
        channel=maker.channel,
        owner=maker.owner,
    )
    # Everything else was checked above: only a random number can collide with another. The
    # row goes in with Core, a taken number skipped by ON CONFLICT: one round trip, no savepoint.
    # (`reservation` stays outside the session: the route only reads it back.)
    connection = await session.connection()
    statement = _INSERT[connection.dialect.name]
    for _ in range(attempts):
        reservation.confirmation_number = new_confirmation_number()
        row = {column: getattr(reservation, column) for column in _COLUMNS}
        if (await connection.execute(statement, row)).rowcount == 1:
            actor = Actor(maker.owner, maker.channel)
            history.record(session, reservation, "created", actor, from_status=None)
            add_event(session, created_event(reservation, room_type, prop))
            return Booking(reservation, room_type, prop)
    raise RuntimeError(f"{attempts} confirmation numbers in a row were taken")


def created_event(r: Reservation, room_type: RoomType, prop: Property) -> ReservationCreated:
    return ReservationCreated(
        aggregate_version=r.version,
        reservation_id=r.id,
        confirmation_number=r.confirmation_number,
        property_name=prop.name,
        room_type_code=room_type.code,
        check_in=r.check_in,
        check_out=r.check_out,
        guests=r.guests,
        total_amount=r.total_amount,
        currency=r.currency,
        channel=r.channel,
        expires_at=r.expires_at,
        guest=GuestContact.model_validate(contact_of(r)),
    )


_TABLE = Reservation.__table__  # type: ignore[attr-defined]
_COLUMNS = [column.key for column in _TABLE.columns]
_INSERT = {
    dialect: insert(_TABLE).on_conflict_do_nothing(index_elements=["confirmation_number"])
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


async def load(
    session: AsyncSession, reservation_id: str, reach: Reach, *, lock: bool = False
) -> Booking:
    """The booking with its room type and property, in one round trip, if the caller reaches
    it (`reach`); 404 otherwise, as if it did not exist.

    `lock` takes the reservation's row lock on PostgreSQL (SQLite's transaction is already
    exclusive), so two state changes of one booking run one after the other.
    """
    query = (
        select(Reservation, RoomType, Property)
        .join(RoomType, col(RoomType.id) == Reservation.room_type_id)
        .join(Property, col(Property.id) == RoomType.property_id)
        .where(Reservation.id == reservation_id, reach.where)
    )
    if lock:
        query = query.with_for_update(of=Reservation)
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("reservation", reservation_id)
    return Booking(*row)


async def list_bookings(
    session: AsyncSession,
    paging: Paging,
    reach: Reach,
    *,
    status: ReservationStatus | None,
    confirmation_number: str | None,
    email: str | None,
    check_in_from: date | None,
    check_in_to: date | None,
) -> Page[ReservationPublic]:
    """The bookings the caller reaches, newest first, keyset-paged on (created_at, id)."""
    query = (
        select(Reservation, RoomType)
        .join(RoomType, col(RoomType.id) == Reservation.room_type_id)
        .where(reach.where)
    )
    if status is not None:
        query = query.where(Reservation.status == status)
    if confirmation_number is not None:
        query = query.where(Reservation.confirmation_number == confirmation_number.strip().upper())
    if email is not None:
        query = query.where(Reservation.guest_email == email.strip().lower())
    if check_in_from is not None:
        query = query.where(col(Reservation.check_in) >= check_in_from)
    if check_in_to is not None:
        query = query.where(col(Reservation.check_in) <= check_in_to)
    order = (col(Reservation.created_at), col(Reservation.id))
    page = await keyset_page(session, query, paging, *order, descending=True)
    return page.map(lambda row: shown(ReservationPublic.from_row(*row), reach))


def shown(public: ReservationPublic, reach: Reach) -> ReservationPublic:
    """A booking as the caller may see it (the guest's contact masked for marketing)."""
    return public.masked() if reach.masked else public
