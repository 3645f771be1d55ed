"""Matching bookings to guest profiles and keeping their stays in step with the reservation.

A booking belongs to the profile with its normalised email; without one, to a profile with its
phone under the same name (and no other email); else to a new profile, with a merge suggestion
(suggestions.py) for each profile the phone points at: never a blind merge. A unique email and
reservation_id, and a lock on the phone, make concurrent bookings converge: the loser of an
email race finds it taken (ON CONFLICT DO NOTHING, no savepoint) and simply matches again.
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
from sqlalchemy import Table, bindparam, delete, insert, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import suggestions
from guest_service.contact_book import contact_row, hash_of
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
from guest_service.models.merges import Reason

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
# Profiles holding a contact (by keyed hash), oldest first: active ones, and merged ones whose
# contacts did not move (they stand for their survivor).
_HOLDERS = (
    sa_select(
        _guests.c.id,
        _guests.c.name,
        _guests.c.language,
        _guests.c.status,
        _guests.c.merged_into_id,
    )
    .join(_contacts, _contacts.c.guest_id == _guests.c.id)
    .where(
        _contacts.c.kind == bindparam("kind"),
        _contacts.c.value_hash == bindparam("value_hash"),
        # Two comparisons, not IN (...): an IN list is re-rendered at every execution.
        or_(
            _guests.c.status == GuestStatus.ACTIVE.value,
            _guests.c.status == GuestStatus.MERGED.value,
        ),
    )
    .order_by(_guests.c.created_at, _guests.c.id)
    .limit(bindparam("limit"))
)
_GUEST = sa_select(
    _guests.c.id,
    _guests.c.name,
    _guests.c.language,
    _guests.c.status,
    _guests.c.merged_into_id,
).where(_guests.c.id == bindparam("guest_id"))
_HAS_CONTACT = sa_select(_contacts.c.id).where(
    _contacts.c.guest_id == bindparam("guest_id"),
    _contacts.c.kind == bindparam("kind"),
    _contacts.c.value_hash == bindparam("value_hash"),
)
_HAS_EMAIL = (
    sa_select(_contacts.c.id)
    .where(_contacts.c.guest_id == bindparam("guest_id"), _contacts.c.kind == "email")
    .limit(1)
)
# The matched profile, held until commit against an erasure, a merge or its undo (they lock it
# FOR UPDATE): one of those in flight finishes first, and the booking then matches again.
# KEY SHARE: staff editing the profile meanwhile is not held up (PostgreSQL; SQLite serialises).
_HOLD_GUEST = (
    sa_select(_guests.c.status)
    .where(_guests.c.id == bindparam("guest_id"))
    .with_for_update(read=True, key_share=True)
)
_ADD_GUEST = insert(_guests)
_ADD_CONTACT = insert(_contacts)
# A new profile's contacts: an email another booking took meanwhile is skipped, not an error
# (an error would need a savepoint around the insert, two more round trips per new profile).
_ADD_NEW_CONTACTS = {
    name: dialect.insert(_contacts)
    .on_conflict_do_nothing(index_elements=["unique_key"])
    .returning(_contacts.c.kind)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_DROP_CONTACTS = delete(_contacts).where(_contacts.c.guest_id == bindparam("guest_id"))
_DROP_GUEST = delete(_guests).where(_guests.c.id == bindparam("guest_id"))
# Bookings with one phone wait for each other here (PostgreSQL; SQLite has one writer anyway):
# two concurrent bookings of one phone-only guest must not both find no profile and make two.
_PHONE_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")

# A phone held by more profiles than this is a shared number (a family's, an agency's): it
# links or suggests only under the same name. Held by more than SWITCHBOARD, it is a channel's
# call-centre number: it says nothing about who the guest is, and is not added to profiles.
SHARED_PHONE = 2
SWITCHBOARD = 50


class _Match(NamedTuple):
    id: str
    name: str
    language: str | None
    status: str
    merged_into_id: str | None


class ContactRaced(RuntimeError):
    """The booking's contact kept racing other writes; raising lets the bus retry it."""


def name_key(name: str) -> str:
    """A name as matching compares it: case, spacing and punctuation ignored."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


async def _survivor(conn: AsyncConnection, guest: _Match) -> _Match | None:
    """The active profile `guest` stands for: itself, or the one it was merged into (a merge
    chain is short; a broken one, e.g. into an erased profile, stands for nobody)."""
    for _ in range(10):
        if guest.status == GuestStatus.ACTIVE.value:
            return guest
        if guest.merged_into_id is None:
            return None
        row = (await conn.execute(_GUEST, {"guest_id": guest.merged_into_id})).first()
        if row is None:
            return None
        guest = _Match(*row)
    return None


async def _holders(
    conn: AsyncConnection, kind: ContactKind, value: str, limit: int = SWITCHBOARD + 1
) -> list[_Match]:
    """The active profiles holding the contact (directly or through a merge), oldest first,
    each once; at most `limit` holders are read."""
    params = {"kind": kind.value, "value_hash": hash_of(kind, value), "limit": limit}
    found: dict[str, _Match] = {}
    for row in (await conn.execute(_HOLDERS, params)).all():
        guest = await _survivor(conn, _Match(*row))
        if guest is not None:
            found.setdefault(guest.id, guest)
    return list(found.values())


async def _has_email(conn: AsyncConnection, guest_id: str) -> bool:
    return (await conn.execute(_HAS_EMAIL, {"guest_id": guest_id})).first() is not None


async def _hold(conn: AsyncConnection, guest_id: str) -> bool:
    """Hold the profile until commit; whether it is still active (an erasure or a merge that
    was in flight has committed: match again)."""
    status = (await conn.execute(_HOLD_GUEST, {"guest_id": guest_id})).scalar()
    return status == GuestStatus.ACTIVE.value


async def _lock_phone(conn: AsyncConnection, phone: str) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(_PHONE_LOCK, {"key": "guest-phone:" + hash_of(ContactKind.PHONE, phone)})


def _contact_row(guest_id: str, kind: ContactKind, value: str, primary: bool) -> dict[str, object]:
    return contact_row(guest_id, kind, value, Source.BOOKING.value, primary=primary)


class _Booking(NamedTuple):
    name: str
    email: str | None
    phone: str | None
    language: str | None


async def match_guest(
    conn: AsyncConnection, contact: GuestContact_, reservation_id: str
) -> str | None:
    """The booking's profile (docs/domain.md "Matching"): the one holding its email; without
    an email match, one holding its phone under the same name and no other email; else a new
    one, with a merge suggestion for every profile the phone points at. Fills blanks only.
    None when a concurrent write took the email first (match again).

    A phone alone never decides: OTAs send their call-centre number on every guest's booking.
    """
    # A booking carries whatever the channel sent: an odd phone is dropped, a long name cut,
    # rather than the whole booking being refused.
    booking = _Booking(
        contact.name.strip()[:NAME_MAX_LENGTH],
        booking_email(contact.email),
        booking_phone(contact.phone),
        contact.language,
    )
    email, phone = booking.email, booking.phone
    if email and (held := await _holders(conn, ContactKind.EMAIL, email, 1)):
        guest = held[0]
        if not await _hold(conn, guest.id):
            return None
        if [g.id for g in await _holders(conn, ContactKind.EMAIL, email, 1)] != [guest.id]:
            return None  # an undo gave the email back to the profile it came from
        pointed = await _holders(conn, ContactKind.PHONE, phone) if phone else []
        await _fill(conn, guest, booking, add_email=False, pointed=pointed)
        await _suggest(conn, guest.id, booking, pointed, new_email=False)
        return guest.id
    if phone:
        # Held until commit: a concurrent booking of this phone sees our profile, not none.
        await _lock_phone(conn, phone)
        if email and await _holders(conn, ContactKind.EMAIL, email, 1):
            return None  # a booking of this email committed while we waited: match it
        pointed = await _holders(conn, ContactKind.PHONE, phone)
        same_name = [g for g in pointed if name_key(g.name) == name_key(booking.name)]
        for guest in same_name:
            # Same phone and name: the same guest, unless the profile has another email.
            if not email or not await _has_email(conn, guest.id):
                if not await _hold(conn, guest.id):
                    return None
                if not await _fill(conn, guest, booking, add_email=True, pointed=pointed):
                    return None  # its email went to another profile meanwhile
                return guest.id
    else:
        pointed = []
    guest_id = await _new_profile(conn, booking, pointed)
    if guest_id is not None:
        await _suggest(conn, guest_id, booking, pointed, new_email=bool(email))
    return guest_id


async def _new_profile(
    conn: AsyncConnection, booking: _Booking, pointed: list[_Match]
) -> str | None:
    """Insert the booking's guest as a new profile; None when its email was taken meanwhile."""
    guest_id = _new_id()
    now = utcnow()
    phone = booking.phone if len(pointed) <= SWITCHBOARD else None
    await conn.execute(
        _ADD_GUEST,
        {
            "id": guest_id,
            "name": booking.name,
            "language": booking.language,
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
        for kind, value in ((ContactKind.EMAIL, booking.email), (ContactKind.PHONE, phone))
        if value
    ]
    if rows:
        added = await conn.execute(_ADD_NEW_CONTACTS[conn.dialect.name], rows)
        if booking.email and ContactKind.EMAIL.value not in added.scalars().all():
            # Another booking took the email meanwhile: this profile goes again, unseen.
            await conn.execute(_DROP_CONTACTS, {"guest_id": guest_id})
            await conn.execute(_DROP_GUEST, {"guest_id": guest_id})
            return None
    return guest_id


async def _fill(
    conn: AsyncConnection,
    guest: _Match,
    booking: _Booking,
    *,
    add_email: bool,
    pointed: list[_Match],
) -> bool:
    """What the guest or staff already set wins; the booking only adds what is missing: the
    language, its phone (unless a call-centre number) and, for a profile found by phone and
    name, its email. False when another booking took that email meanwhile: match again."""
    if guest.language is None:
        await conn.execute(
            update(_guests)
            .where(_guests.c.id == guest.id)
            .values(language=booking.language, updated_at=utcnow())
        )
    adds: list[tuple[ContactKind, str | None]] = [(ContactKind.PHONE, booking.phone)]
    if add_email:
        adds.append((ContactKind.EMAIL, booking.email))
    for kind, value in adds:
        if not value or (kind is ContactKind.PHONE and len(pointed) > SWITCHBOARD):
            continue
        held = {"guest_id": guest.id, "kind": kind.value, "value_hash": hash_of(kind, value)}
        if (await conn.execute(_HAS_CONTACT, held)).first() is None:
            if kind is ContactKind.PHONE:
                await conn.execute(_ADD_CONTACT, [_contact_row(guest.id, kind, value, False)])
                continue
            primary = not await _has_email(conn, guest.id)
            row = _contact_row(guest.id, kind, value, primary)
            added = await conn.execute(_ADD_NEW_CONTACTS[conn.dialect.name], [row])
            if not added.scalars().all():
                return False  # no error, so no savepoint needed: PostgreSQL carries on
    return True


async def _suggest(
    conn: AsyncConnection,
    guest_id: str,
    booking: _Booking,
    pointed: list[_Match],
    *,
    new_email: bool,
) -> None:
    """A merge suggestion between the booking's profile and every other profile its phone points
    at: under the same name always; under another name only while the number is not shared."""
    if len(pointed) > SWITCHBOARD:
        return
    shared = len(pointed) > SHARED_PHONE
    for other in pointed:
        if other.id == guest_id:
            continue
        reasons = {Reason.SAME_PHONE}
        if name_key(other.name) == name_key(booking.name):
            reasons.add(Reason.SAME_NAME)
        elif shared:
            continue
        if new_email and await _has_email(conn, other.id):
            reasons.add(Reason.OTHER_EMAIL)
        await suggestions.suggest(conn, guest_id, other.id, reasons)
        log.info(
            "booking suggests a merge",
            extra={"guest_id": guest_id, "other_guest_id": other.id},
        )


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
