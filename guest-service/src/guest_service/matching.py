"""Matching bookings to guest profiles and keeping their stays in step with the reservation.

A booking belongs to the profile with its normalised email, else the one with its phone, else a
new profile. Unique email, phone and reservation_id make concurrent bookings converge: the loser
of a race hits a constraint inside a savepoint and simply matches again.
"""

import logging
from typing import NamedTuple, cast

from hotel_common.contracts.reservations import GuestContact as GuestContact_
from hotel_common.contracts.reservations import (
    ReservationCancelled,
    ReservationCheckedOut,
    ReservationConfirmed,
    ReservationModified,
)
from hotel_common.events.envelope import newer, newer_than_stored
from hotel_common.time import utcnow
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.contact_book import hash_of, new_contact
from guest_service.contacts import booking_email, booking_phone
from guest_service.models import (
    NAME_MAX_LENGTH,
    ContactKind,
    Guest,
    GuestContact,
    GuestStatus,
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
_contacts = cast(Table, GuestContact.__table__)  # type: ignore[attr-defined]
_stays = cast(Table, GuestStay.__table__)  # type: ignore[attr-defined]
_STAY_OF = sa_select(_stays.c.guest_id).where(
    _stays.c.reservation_id == bindparam("reservation_id")
)
_ADD_STAY = insert(_stays)
_STAY_VERSION = sa_select(_stays.c.id, _stays.c.reservation_version).where(
    _stays.c.reservation_id == bindparam("reservation_id")
)
# Active profiles holding a contact (by keyed hash), oldest first.
_HOLDERS = (
    sa_select(_guests.c.id, _guests.c.name, _guests.c.language)
    .join(_contacts, _contacts.c.guest_id == _guests.c.id)
    .where(
        _contacts.c.kind == bindparam("kind"),
        _contacts.c.value_hash == bindparam("value_hash"),
        _guests.c.status == GuestStatus.ACTIVE.value,
    )
    .order_by(_guests.c.created_at, _guests.c.id)
)
_HAS_CONTACT = sa_select(_contacts.c.id).where(
    _contacts.c.guest_id == bindparam("guest_id"),
    _contacts.c.kind == bindparam("kind"),
    _contacts.c.value_hash == bindparam("value_hash"),
)
_ADD_GUEST = insert(_guests)
_ADD_CONTACT = insert(_contacts)


class _Match(NamedTuple):
    id: str
    name: str
    language: str | None


class ContactRaced(RuntimeError):
    """The booking's contact kept racing other writes; raising lets the bus retry it."""


def name_key(name: str) -> str:
    """A name as matching compares it: case, spacing and punctuation ignored."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


async def _holders(conn: AsyncConnection, kind: ContactKind, value: str) -> list[_Match]:
    params = {"kind": kind.value, "value_hash": hash_of(kind, value)}
    return [_Match(*row) for row in (await conn.execute(_HOLDERS, params)).all()]


def _contact_row(guest_id: str, kind: ContactKind, value: str, primary: bool) -> dict[str, object]:
    row = new_contact(guest_id, kind, value, Source.BOOKING.value, primary=primary)
    return row.model_dump()


async def match_guest(
    conn: AsyncConnection, contact: GuestContact_, reservation_id: str
) -> str | None:
    """The booking's profile: the one holding its email; without an email match, one holding
    its phone under the same name; else a new one. Fills blanks only. None when a concurrent
    write took the email first (match again).

    A phone alone never decides: OTAs send their call-centre number on every guest's booking.
    """
    # A booking carries whatever the channel sent: an odd phone is dropped, a long name cut,
    # rather than the whole booking being refused.
    name = contact.name.strip()[:NAME_MAX_LENGTH]
    email = booking_email(contact.email)
    phone = booking_phone(contact.phone)
    guest: _Match | None = None
    if email:
        guest = next(iter(await _holders(conn, ContactKind.EMAIL, email)), None)
    elif phone:
        same_name = (
            g
            for g in await _holders(conn, ContactKind.PHONE, phone)
            if name_key(g.name) == name_key(name)
        )
        guest = next(same_name, None)
    now = utcnow()
    if guest is None:
        guest_id = _new_id()
        try:
            # In a savepoint: an email another booking took meanwhile rolls back only this.
            async with conn.begin_nested():
                await conn.execute(
                    _ADD_GUEST,
                    {
                        "id": guest_id,
                        "name": name,
                        "language": contact.language,
                        "source": Source.BOOKING.value,
                        "status": GuestStatus.ACTIVE.value,
                        "tags": [],
                        "preferences": {},
                        "vip_level": 0,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                rows = [
                    _contact_row(guest_id, kind, value, True)
                    for kind, value in ((ContactKind.EMAIL, email), (ContactKind.PHONE, phone))
                    if value
                ]
                if rows:
                    await conn.execute(_ADD_CONTACT, rows)
        except IntegrityError:
            return None
        return guest_id

    # What the guest or staff already set wins; the booking only adds what is missing.
    if guest.language is None:
        await conn.execute(
            update(_guests)
            .where(_guests.c.id == guest.id)
            .values(language=contact.language, updated_at=now)
        )
    if phone:
        held = {
            "guest_id": guest.id,
            "kind": ContactKind.PHONE.value,
            "value_hash": hash_of(ContactKind.PHONE, phone),
        }
        if (await conn.execute(_HAS_CONTACT, held)).first() is None:
            await conn.execute(
                _ADD_CONTACT, [_contact_row(guest.id, ContactKind.PHONE, phone, False)]
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
