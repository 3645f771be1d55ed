"""Matching bookings to guest profiles and keeping their stays in step with the reservation.

A booking belongs to the profile with its normalised email, else the one with its phone, else a
new profile. Unique email, phone and reservation_id make concurrent bookings converge: the loser
of a race hits a constraint inside a savepoint and simply matches again.
"""

import logging
from typing import NamedTuple, cast

from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationCheckedOut,
    ReservationConfirmed,
    ReservationModified,
)
from hotel_common.events.envelope import newer, newer_than_stored
from hotel_common.time import utcnow
from sqlalchemy import Table, bindparam, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.contacts import booking_email, booking_phone
from guest_service.models import (
    NAME_MAX_LENGTH,
    Guest,
    GuestStay,
    Source,
    StayStatus,
    _new_id,
)

log = logging.getLogger(__name__)

# Each lost race means another transaction committed the contact we wanted, so the next
# attempt finds it; a few attempts are plenty. Beyond that the bus retries the event.
MAX_ATTEMPTS = 3


class StayNotLinkedYet(LookupError):
    """A cancellation overtook its confirmation; raising lets the bus deliver it again later."""


async def stay_for(session: AsyncSession, reservation_id: str) -> GuestStay | None:
    query = select(GuestStay).where(GuestStay.reservation_id == reservation_id)
    return (await session.exec(query)).first()


async def link_booking(
    session: AsyncSession, booking: ReservationConfirmed | ReservationModified
) -> str:
    """Find or create the booking's guest and link the booking as a stay, once; return the
    guest's id.

    Core statements, not the ORM: this runs for every booking, and the unit of work's flush
    and the savepoints cost more CPU than the statements themselves. No savepoint either on
    the common path: a new profile is inserted with ON CONFLICT DO NOTHING, and a lost race
    (nothing inserted) simply matches again. The stay needs no guard: the inbox's lock on the
    reservation runs its handlers one at a time, so no twin inserts it meanwhile.
    """
    conn = await session.connection()  # Core on the connection: no ORM execution machinery
    linked = (await conn.execute(_STAY_OF, {"reservation_id": booking.reservation_id})).scalar()
    if linked is not None:
        return str(linked)
    attempt = 1
    while True:
        try:
            guest_id = await match_guest(conn, booking.guest, booking.reservation_id)
        except IntegrityError:  # a blank filled in that another profile took meanwhile
            guest_id = None
        if guest_id is not None:
            break
        if attempt >= MAX_ATTEMPTS:
            raise ContactRaced(booking.reservation_id)
        attempt += 1
        log.info(
            "booking raced another write, matching again",
            extra={"reservation_id": booking.reservation_id, "attempt": attempt},
        )
    now = utcnow()
    await conn.execute(
        _ADD_STAY,
        {
            "id": _new_id(),
            "guest_id": guest_id,
            "reservation_id": booking.reservation_id,
            "confirmation_number": booking.confirmation_number,
            "property_name": booking.property_name,
            "room_type_code": booking.room_type_code,
            "check_in": booking.check_in,
            "check_out": booking.check_out,
            "status": StayStatus.CONFIRMED.value,
            "total_amount": booking.total_amount,
            "currency": booking.currency,
            "reservation_version": booking.aggregate_version,
            "created_at": now,
            "updated_at": now,
        },
    )
    return guest_id


# Built once (their cache keys too): this runs for every booking.
_guests = cast(Table, Guest.__table__)  # type: ignore[attr-defined]
_stays = cast(Table, GuestStay.__table__)  # type: ignore[attr-defined]
_STAY_OF = sa_select(_stays.c.guest_id).where(
    _stays.c.reservation_id == bindparam("reservation_id")
)
_ADD_STAY = insert(_stays)
_STAY_VERSION = sa_select(_stays.c.id, _stays.c.reservation_version).where(
    _stays.c.reservation_id == bindparam("reservation_id")
)
_MATCH = {
    (by_email, by_phone): sa_select(
        _guests.c.id, _guests.c.name, _guests.c.email, _guests.c.phone, _guests.c.language
    ).where(
        or_(
            *([_guests.c.email == bindparam("email")] if by_email else []),
            *([_guests.c.phone == bindparam("phone")] if by_phone else []),
        )
    )
    for by_email in (False, True)
    for by_phone in (False, True)
    if by_email or by_phone
}
# A new profile whose email or phone another took meanwhile inserts nothing: match again.
_ADD_GUEST = {
    pg: (postgresql.insert if pg else sqlite.insert)(_guests)
    .on_conflict_do_nothing()
    .returning(_guests.c.id)
    for pg in (False, True)
}


class _Match(NamedTuple):
    id: str
    name: str
    email: str | None
    phone: str | None
    language: str | None


class ContactRaced(RuntimeError):
    """The booking's contact kept racing other writes; raising lets the bus retry it."""


async def match_guest(
    conn: AsyncConnection, contact: GuestContact, reservation_id: str
) -> str | None:
    """The booking's profile: by email, else by phone, else a new one. Fills blanks only.
    None when a concurrent write took the contact first (match again)."""
    # A booking carries whatever the channel sent: an odd phone is dropped, a long name cut,
    # rather than the whole booking being refused.
    name = contact.name.strip()[:NAME_MAX_LENGTH]
    email = booking_email(contact.email)
    phone = booking_phone(contact.phone)
    found = []
    if email or phone:
        query = _MATCH[bool(email), bool(phone)]
        rows = await conn.execute(query, {"email": email, "phone": phone})
        found = [_Match(*row) for row in rows.all()]
    by_email = next((g for g in found if email and g.email == email), None)
    by_phone = next((g for g in found if phone and g.phone == phone), None)
    if by_email and by_phone and by_email.id != by_phone.id:
        # Two profiles for one person: merging is a separate, reviewed step.
        log.warning(
            "booking contact matches two profiles; linked to the email match",
            extra={
                "reservation_id": reservation_id,
                "guest_id": by_email.id,
                "phone_guest_id": by_phone.id,
            },
        )
    guest = by_email or by_phone
    now = utcnow()
    if guest is None:
        values = {
            "id": _new_id(),
            "name": name,
            "email": email,
            "phone": phone,
            "language": contact.language,
            "source": Source.BOOKING.value,
            "created_at": now,
            "updated_at": now,
        }
        add = _ADD_GUEST[conn.dialect.name == "postgresql"]
        return (await conn.execute(add, values)).scalar_one_or_none()

    # What the guest or staff already set wins; the booking only fills what is missing.
    filled = {
        "name": name if not guest.name else None,
        "email": email if guest.email is None and by_email is None else None,
        "phone": phone if guest.phone is None and by_phone is None else None,
        "language": contact.language if guest.language is None else None,
    }
    filled = {field: value for field, value in filled.items() if value}
    if filled:
        # In a savepoint: a blank another profile filled meanwhile rolls back only this.
        async with conn.begin_nested():
            await conn.execute(
                update(Guest).where(col(Guest.id) == guest.id).values(**filled, updated_at=now)
            )
    return guest.id


async def cancel_stay(
    session: AsyncSession, cancellation: ReservationCancelled
) -> GuestStay | None:
    """Mark the reservation's stay cancelled (idempotent by state)."""
    stay = await stay_for(session, cancellation.reservation_id)
    if stay is None:
        if cancellation.was_confirmed:
            raise StayNotLinkedYet(cancellation.reservation_id)
        return None  # never confirmed, so never linked: nothing to record
    if stay.status != StayStatus.CANCELLED:
        stay.status = StayStatus.CANCELLED
        stay.updated_at = utcnow()
    if stay.reservation_version is None or newer(
        cancellation.aggregate_version, stay.reservation_version
    ):
        # A change retried after the cancellation is older: it leaves the cancelled stay.
        stay.reservation_version = cancellation.aggregate_version
    return stay


def _stale(version: int | None, stay_version: int | None) -> bool:
    """Is an event of `version` older than what the stay reflects? A stay linked before
    versions were kept (None) takes any versioned event; an unversioned event changes nothing
    a versioned one wrote (an unknown version is never newer)."""
    return not newer_than_stored(version, stay_version)


class Outcome(NamedTuple):
    guest_id: str | None  # None: nothing to record (not confirmed, or stale)
    linked: bool  # the event linked the stay (its confirmation had not come yet)


async def follow_change(session: AsyncSession, change: ReservationModified) -> Outcome:
    """Keep the stay's dates, room type and price as the booking now is. A change of a
    confirmed booking whose confirmation has not come yet links the stay from the change (it
    carries the whole booking); the late confirmation then finds it linked. A request's
    change is nothing here: only confirmed bookings are stays."""
    conn = await session.connection()
    row = (await conn.execute(_STAY_VERSION, {"reservation_id": change.reservation_id})).first()
    if row is None:
        if change.status not in ("confirmed", "checked_in"):
            return Outcome(None, False)
        return Outcome(await link_booking(session, change), True)
    if _stale(change.aggregate_version, row.reservation_version):
        log.info("stale change of the booking", extra={"reservation_id": change.reservation_id})
        return Outcome(None, False)
    guest_id = await _update_stay(
        conn,
        row.id,
        change.aggregate_version,
        confirmation_number=change.confirmation_number,
        property_name=change.property_name,
        room_type_code=change.room_type_code,
        check_in=change.check_in,
        check_out=change.check_out,
        total_amount=change.total_amount,
        currency=change.currency,
    )
    return Outcome(guest_id, False)


async def record_checkout(session: AsyncSession, checkout: ReservationCheckedOut) -> str | None:
    """The completed stay on the profile's history: the day the guest left (an early departure
    moves it), the nights stayed and the amount spent; the guest id, or None if stale. Loyalty
    points are counted from these later, not here."""
    conn = await session.connection()
    row = (await conn.execute(_STAY_VERSION, {"reservation_id": checkout.reservation_id})).first()
    if row is None:
        raise StayNotLinkedYet(checkout.reservation_id)  # its confirmation is still to come
    if _stale(checkout.aggregate_version, row.reservation_version):
        log.info("stale check-out", extra={"reservation_id": checkout.reservation_id})
        return None
    return await _update_stay(
        conn,
        row.id,
        checkout.aggregate_version,
        status=StayStatus.CHECKED_OUT.value,
        check_in=checkout.check_in,
        check_out=checkout.check_out,
        nights=checkout.nights,
        amount_spent=checkout.amount_spent,
        currency=checkout.currency,
    )


async def _update_stay(
    conn: AsyncConnection, stay_id: str, version: int | None, **values: object
) -> str:
    """Write `values` to the stay as the reservation is at `version`; the stay's guest id."""
    result = await conn.execute(
        update(_stays)
        .where(_stays.c.id == stay_id)
        .values(**values, reservation_version=version, updated_at=utcnow())
        .returning(_stays.c.guest_id)
    )
    return str(result.scalar_one())
