"""Bookings: taking a request, pricing it, and finding it again.

A new booking is `requested`: every check that needs no inventory is done here, and nothing is
written unless all of them pass. Holding rooms happens on confirmation (see lifecycle.py).
"""

import secrets
from dataclasses import dataclass
from datetime import date

from hotel_common.errors import NotFound
from hotel_common.pagination import after_time_id, split_page, time_id_cursor, time_id_value
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.catalog import resolve_property, room_type_by_code
from reservation_service.models import (
    Property,
    Reservation,
    ReservationCreate,
    ReservationPublic,
    ReservationStatus,
    RoomType,
)
from reservation_service.problems import invalid_field
from reservation_service.stays import today_at, validate_stay

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
    session: AsyncSession, data: ReservationCreate, max_nights: int, attempts: int = 3
) -> Booking:
    prop = await resolve_property(session, data.property_id, "body")
    nights = validate_stay(
        data.check_in,
        data.check_out,
        today=today_at(prop.timezone),
        max_nights=max_nights,
        where="body",
    )
    room_type = await room_type_by_code(session, prop, data.room_type, "body.room_type")
    if data.guests > room_type.capacity:
        raise invalid_field(
            "too_many_guests",
            "body.guests",
            f"Room type {room_type.code} sleeps at most {room_type.capacity} guests.",
        )
    transfer, passengers = data.transfer, None
    if transfer is not None:
        passengers = transfer.passengers or data.guests
        if passengers > data.guests:
            raise invalid_field(
                "too_many_passengers",
                "body.transfer.passengers",
                "A transfer carries at most the booking's guests.",
            )
    assert room_type.id is not None  # read from the database
    reservation = Reservation(
        confirmation_number=new_confirmation_number(),
        guest_name=data.guest.name,
        guest_email=data.guest.email,
        guest_phone=data.guest.phone,
        guest_language=data.guest.language,
        room_type_id=room_type.id,
        check_in=data.check_in,
        check_out=data.check_out,
        guests=data.guests,
        nightly_price=room_type.base_price,
        total_amount=room_type.base_price * nights,
        currency=prop.currency,
        special_requests=data.special_requests,
        transfer_flight_number=transfer.flight_number if transfer else None,
        transfer_arrival_time=transfer.arrival_time if transfer else None,
        transfer_pickup_place=transfer.pickup_place if transfer else None,
        transfer_passengers=passengers,
        transfer_luggage=transfer.luggage if transfer else None,
        channel=data.channel,
    )
    session.add(reservation)
    try:
        await session.commit()
    except IntegrityError:
        # Everything else was checked above: only two random numbers can have collided.
        await session.rollback()
        if attempts <= 1:
            raise
        return await request_booking(session, data, max_nights, attempts - 1)
    return Booking(reservation, room_type, prop)


async def load(session: AsyncSession, reservation_id: str, *, lock: bool = False) -> Booking:
    """The booking with its room type and property, in one round trip.

    `lock` takes the reservation's row lock on PostgreSQL (SQLite's transaction is already
    exclusive), so two state changes of one booking run one after the other.
    """
    query = (
        select(Reservation, RoomType, Property)
        .join(RoomType, col(RoomType.id) == Reservation.room_type_id)
        .join(Property, col(Property.id) == RoomType.property_id)
        .where(Reservation.id == reservation_id)
    )
    if lock:
        query = query.with_for_update(of=Reservation)
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("reservation", reservation_id)
    return Booking(*row)


async def list_bookings(
    session: AsyncSession,
    *,
    status: ReservationStatus | None,
    confirmation_number: str | None,
    email: str | None,
    check_in_from: date | None,
    check_in_to: date | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ReservationPublic], str | None]:
    """Newest first; the cursor is (created_at, id) of the last booking on the page."""
    query = (
        select(Reservation, RoomType)
        .join(RoomType, col(RoomType.id) == Reservation.room_type_id)
        .order_by(col(Reservation.created_at).desc(), col(Reservation.id).desc())
        .limit(limit + 1)
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
    if (after := time_id_cursor(cursor)) is not None:
        query = query.where(
            after_time_id(col(Reservation.created_at), col(Reservation.id), after, descending=True)
        )
    rows = [ReservationPublic.from_row(r, rt) for r, rt in (await session.exec(query)).all()]
    return split_page(rows, limit, lambda b: time_id_value(b.created_at, b.id))
