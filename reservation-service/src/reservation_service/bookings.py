"""Bookings: taking a request, pricing it, and finding it again.

A new booking is `requested`: every check that needs no inventory is done here, and nothing is
written unless all of them pass. Holding rooms happens on confirmation (see lifecycle.py).
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from hotel_common.contacts import contact_columns, contact_of
from hotel_common.contracts.reservations import (
    GuaranteeTerms,
    GuestContact,
    ReservationCreated,
    ReservationLineInfo,
)
from hotel_common.errors import NotFound, ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.principal import Kind
from hotel_common.time import utcnow
from sqlalchemy import ColumnElement, and_, func, insert, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import departures, history, member_rates, partner_mappings, pricing
from reservation_service.access import (
    DIRECT_WEB,
    EVERY_BOOKING,
    FRONT_DESK,
    MOBILE_APP,
    Actor,
    Maker,
    Reach,
)
from reservation_service.catalog import known_room_type, property_with_room_type, room_type_by_code
from reservation_service.config import Settings
from reservation_service.models import (
    BookingSource,
    Property,
    Reservation,
    ReservationCreate,
    ReservationLine,
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
    # A booking of several rooms: every line with its room type (empty: one room, the row's).
    lines: Sequence[tuple[ReservationLine, RoomType]] = ()

    def public(self) -> ReservationPublic:
        return ReservationPublic.from_row(self.reservation, self.room_type, self.lines)

    def room_type_ids(self) -> list[int]:
        """The room type of every room of the booking, one entry per room."""
        if self.lines:
            return [line.room_type_id for line, _ in self.lines]
        return [self.reservation.room_type_id]

    def event_lines(self) -> list[ReservationLineInfo] | None:
        """The events' `lines`: every room when there are several, else None."""
        if not self.lines:
            return None
        return [
            ReservationLineInfo(
                line=line.line,
                room_type_code=rt.code,
                rate_plan_code=line.rate_plan_code,
                adults=line.adults,
                children=line.children_ages,
                guests=line.guests,
                nightly_amounts=line.nightly_amounts,
                total_amount=line.total_amount,
            )
            for line, rt in self.lines
        ]


@dataclass(frozen=True)
class Taken:
    """What a booking request came to: the booking, and whether it is one made before by an
    earlier request with the same external id on the channel (nothing new was written)."""

    booking: Booking
    replayed: bool = False


@dataclass(frozen=True)
class _LineSpec:
    room_type_code: str
    rate_plan_code: str | None
    adults: int
    children: list[int]
    field: str  # where a problem with this room's party is reported

    @property
    def guests(self) -> int:
        return self.adults + len(self.children)


@dataclass(frozen=True)
class _PricedLine:
    spec: _LineSpec
    room_type: RoomType
    quote: pricing.StayQuote


def _line_specs(data: ReservationCreate) -> list[_LineSpec]:
    """The rooms asked for, each with its party: `rooms`, or the top-level fields as one room.
    Shape only (no database): a 422 naming the field otherwise."""
    if data.rooms is not None:
        given = [
            name
            for name in ("room_type_code", "rate_plan_code", "guests", "adults", "children")
            if getattr(data, name) is not None
        ]
        if given:
            raise invalid_field(
                "rooms_conflict",
                f"body.{given[0]}",
                "With `rooms`, each room names its room type, plan and party: leave "
                f"{', '.join(given)} out of the top level.",
            )
        return [
            _LineSpec(
                room.room_type_code,
                room.rate_plan_code,
                room.adults,
                list(room.children),
                f"body.rooms.{i}.adults",
            )
            for i, room in enumerate(data.rooms)
        ]
    if not data.room_type_code:
        raise invalid_field(
            "room_type_required", "body.room_type_code", "Name a room type, or give `rooms`."
        )
    if data.adults is None:
        if data.children:
            raise invalid_field(
                "adults_required", "body.adults", "With children, say how many adults come."
            )
        if data.guests is None:
            raise invalid_field(
                "guests_required", "body.guests", "Give `adults` (and `children`) or `guests`."
            )
        adults, children = data.guests, []
    else:
        adults, children = data.adults, list(data.children or [])
        if data.guests is not None and data.guests != adults + len(children):
            raise invalid_field(
                "guests_mismatch",
                "body.guests",
                f"guests ({data.guests}) must equal adults + children "
                f"({adults + len(children)}); or leave it out.",
            )
    return [_LineSpec(data.room_type_code, data.rate_plan_code, adults, children, "body.guests")]


def source_of(data: ReservationCreate, maker: Maker) -> BookingSource:
    """How the booking reached the hotel: from the caller, or what desk staff say."""
    default = _DEFAULT_SOURCE.get(maker.channel, BookingSource.OTA)
    if data.source is None or data.source is default:
        return default
    if maker.channel == FRONT_DESK and data.source in _DESK_SOURCES:
        return data.source
    allowed = ", ".join(sorted(_DESK_SOURCES)) if maker.channel == FRONT_DESK else default.value
    raise invalid_field(
        "source_not_allowed",
        "body.source",
        f"On channel {maker.channel} the source is {allowed}; leave it out to take the default.",
    )


_DEFAULT_SOURCE = {
    DIRECT_WEB: BookingSource.WEB,
    MOBILE_APP: BookingSource.APP,
    FRONT_DESK: BookingSource.WALK_IN,
}
_DESK_SOURCES = frozenset({BookingSource.PHONE, BookingSource.WALK_IN, BookingSource.EMAIL})


async def request_booking(
    session: AsyncSession,
    data: ReservationCreate,
    settings: Settings,
    maker: Maker,
    attempts: int = 3,
) -> Booking:
    """A new `requested` booking (or, with an external id seen before, the first one)."""
    return (await take(session, data, settings, maker, attempts)).booking


async def take(
    session: AsyncSession,
    data: ReservationCreate,
    settings: Settings,
    maker: Maker,
    attempts: int = 3,
) -> Taken:
    """Take a booking request: every check, the price of each room, then one insert (and the
    lines of a booking of several rooms). Nothing is written unless every check passes.

    An external id (partners only) names one booking per channel: a request repeating one
    returns the booking it made (`replayed`), also when the two race (the unique index decides
    and the loser reads the winner's row).

    A partner with a code mapping at the property sends its own codes: they become ours first
    (partner_mappings.py), an unmapped one a 422 before anything is read or written."""
    data = await partner_mappings.translate_booking(session, maker.principal, data)
    specs = _line_specs(data)
    source = source_of(data, maker)
    if data.external_id is not None:
        if maker.principal.kind is not Kind.PARTNER:
            raise invalid_field(
                "external_id_not_allowed",
                "body.external_id",
                "Only a channel's own system (a partner key) sends its reservation id.",
            )
        if (first := await _by_external_id(session, maker, data.external_id)) is not None:
            return Taken(first, replayed=True)
    prop, found = await property_with_room_type(
        session, data.property_id, specs[0].room_type_code, "body"
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
    priced = await _price_lines(session, prop, found, specs, data)
    # A loyalty member's booking is priced at the member rate (member_rates.py): BASE only.
    if any(member_rates.eligible(p.quote) for p in priced):
        signed_in = maker.principal.email if maker.principal.kind is Kind.GUEST else None
        member = await member_rates.rate_for(session, data.guest.email or signed_in)
        priced = [replace(p, quote=member_rates.apply(p.quote, prop, member)) for p in priced]
    total_guests = sum(spec.guests for spec in specs)
    transfer, passengers = data.transfer, None
    if transfer is not None:
        validate_arrival(
            transfer.arrival_time,
            data.check_in,
            prop.timezone,
            window=settings.arrival_window,
            min_lead=settings.transfer_min_lead,
        )
        passengers = transfer.passengers or total_guests
        if passengers > total_guests:
            raise invalid_field(
                "too_many_passengers",
                "body.transfer.passengers",
                "A transfer carries at most the booking's guests.",
            )
    departure = (
        departures.departure_of(
            data.departure, data.check_out, total_guests, prop.timezone, settings
        )
        if data.departure is not None
        else None
    )
    first_line = priced[0]
    room_type, quote = first_line.room_type, first_line.quote
    assert room_type.id is not None  # read from the database
    reservation = Reservation(
        confirmation_number="",  # drawn below
        **contact_columns(data.guest),
        room_type_id=room_type.id,
        check_in=data.check_in,
        check_out=data.check_out,
        guests=first_line.spec.guests,
        adults=first_line.spec.adults,
        children_ages=first_line.spec.children,
        nightly_amount=quote.nights[0].amount,
        nightly_amounts=[n.amount for n in quote.nights],
        total_amount=sum(p.quote.total_amount for p in priced),
        tax_amount=sum(p.quote.tax_amount for p in priced),
        rate_plan_code=quote.rate_plan_code,
        policy=pricing.policy_snapshot(quote),
        currency=quote.currency,
        expires_at=utcnow() + timedelta(hours=settings.request_expiry_hours),
        special_requests=data.special_requests,
        requests=[r.model_dump(exclude_none=True, mode="json") for r in data.requests],
        transfer_flight_number=transfer.flight_number if transfer else None,
        transfer_arrival_time=transfer.arrival_time if transfer else None,
        transfer_pickup_place=transfer.pickup_place if transfer else None,
        transfer_passengers=passengers,
        transfer_luggage=transfer.luggage if transfer else None,
        transfer_needs=transfer.needs() if transfer else None,
        departure=departure,
        channel=maker.channel,
        owner=maker.owner,
        source=source,
        external_id=data.external_id,
        room_count=len(priced),
    )
    # Everything else was checked above: only a random number or the external id can collide
    # with another row. The row goes in with Core, a collision skipped by ON CONFLICT DO
    # NOTHING: one round trip, no savepoint. On PostgreSQL an insert racing another with the
    # same external id waits for it, then does nothing; the winner's row is read back.
    # (`reservation` stays outside the session: the route only reads it back.)
    connection = await session.connection()
    statement = _INSERT[connection.dialect.name]
    for _ in range(attempts):
        reservation.confirmation_number = new_confirmation_number()
        row = {column: getattr(reservation, column) for column in _COLUMNS}
        if (await connection.execute(statement, row)).rowcount == 1:
            lines = await _insert_lines(session, reservation, priced)
            booking = Booking(reservation, room_type, prop, lines)
            actor = Actor(maker.owner, maker.channel)
            history.record(session, reservation, "created", actor, from_status=None)
            add_event(session, created_event(booking))
            return Taken(booking)
        taken_by = data.external_id and await _by_external_id(session, maker, data.external_id)
        if taken_by:
            return Taken(taken_by, replayed=True)
    raise RuntimeError(f"{attempts} confirmation numbers in a row were taken")


async def _price_lines(
    session: AsyncSession,
    prop: Property,
    first: RoomType | None,
    specs: list[_LineSpec],
    data: ReservationCreate,
) -> list[_PricedLine]:
    """Each room's type (known at the property), party (within its occupancy) and price."""
    several = len(specs) > 1
    by_code: dict[str, RoomType] = {}
    priced = []
    for i, spec in enumerate(specs):
        field = f"body.rooms.{i}.room_type_code" if several else "body.room_type_code"
        if i == 0:
            room_type = known_room_type(first, spec.room_type_code, field)
        elif (room_type_or_none := by_code.get(spec.room_type_code)) is None:
            room_type = await room_type_by_code(session, prop, spec.room_type_code, field)
        else:
            room_type = room_type_or_none
        by_code[room_type.code] = room_type
        if spec.guests > room_type.capacity:
            raise invalid_field(
                "too_many_guests",
                spec.field,
                f"Room type {room_type.code} sleeps at most {room_type.capacity} guests "
                "(children count as guests).",
            )
        where = f"body.rooms.{i}" if several else "body"
        quote = await pricing.quote_stay(
            session,
            prop,
            room_type,
            data.check_in,
            data.check_out,
            rate_plan_code=spec.rate_plan_code,
            where=where,
        )
        priced.append(_PricedLine(spec, room_type, quote))
    return priced


async def _insert_lines(
    session: AsyncSession, reservation: Reservation, priced: list[_PricedLine]
) -> list[tuple[ReservationLine, RoomType]]:
    """The rows of a booking of several rooms (none for one room: the reservation row is it)."""
    if len(priced) == 1:
        return []
    lines = []
    for number, p in enumerate(priced, start=1):
        assert p.room_type.id is not None
        line = ReservationLine(
            reservation_id=reservation.id,
            line=number,
            room_type_id=p.room_type.id,
            rate_plan_code=p.quote.rate_plan_code,
            adults=p.spec.adults,
            children_ages=p.spec.children,
            guests=p.spec.guests,
            nightly_amounts=[n.amount for n in p.quote.nights],
            tax_amount=p.quote.tax_amount,
            total_amount=p.quote.total_amount,
            policy=pricing.policy_snapshot(p.quote),
        )
        lines.append((line, p.room_type))
    connection = await session.connection()
    await connection.execute(
        insert(_LINES),
        [{c: getattr(line, c) for c in _LINE_COLUMNS} for line, _ in lines],
    )
    return lines


async def _by_external_id(session: AsyncSession, maker: Maker, external_id: str) -> Booking | None:
    """The booking made on the caller's channel with this external id, if any. Made by another
    key of the same channel: 409 (its booking is not the caller's to see)."""
    found = (
        await session.exec(
            select(Reservation.id, Reservation.owner).where(
                Reservation.channel == maker.channel, Reservation.external_id == external_id
            )
        )
    ).first()
    if found is None:
        return None
    reservation_id, owner = found
    if owner != maker.owner:
        raise ProblemError(
            409,
            "external_id_taken",
            f"Another key of channel {maker.channel} booked with external id {external_id}.",
        )
    return await load(session, reservation_id, EVERY_BOOKING)


def guest_contact(r: Reservation) -> GuestContact:
    """The guest as the booking's events carry them."""
    return GuestContact.model_validate(contact_of(r))


def partner_of(r: Reservation) -> str | None:
    """The gateway partner id of a booking a partner's key made (owner `partner:<id>`)."""
    kind, _, who = r.owner.partition(":")
    return who if kind == "partner" and who else None


def created_event(booking: Booking) -> ReservationCreated:
    r, room_type, prop = booking.reservation, booking.room_type, booking.property
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
        guest=guest_contact(r),
        source=r.source,
        external_id=r.external_id,
        lines=booking.event_lines(),
        # Issue 20: what the request notice tells the guest.
        guarantee=guarantee_terms(r),
        room_type_name=room_type.name,
        property_timezone=prop.timezone,
        partner_id=partner_of(r),
    )


def guarantee_terms(r: Reservation, due_at: datetime | None = None) -> GuaranteeTerms:
    """How the booking is guaranteed under its stored terms (issue 20's notices): nothing, a
    deposit of the rate plan's percent of the total (rounded half up), or the whole total,
    due `due_hours` after confirmation, as rates/search.py quotes it."""
    _, guarantee = pricing.policy_of(r.policy)
    if guarantee.kind == "prepayment":
        owed = r.total_amount
    elif guarantee.kind == "deposit":
        owed = (r.total_amount * guarantee.deposit_percent + 50) // 100
    else:
        owed = 0
    return GuaranteeTerms(
        kind=guarantee.kind, amount=owed, due_hours=guarantee.due_hours, due_at=due_at
    )


def owed_guarantee(r: Reservation) -> GuaranteeTerms | None:
    """A confirmed booking's guarantee still owed, with its deadline; None: none or met."""
    if r.guarantee_due_at is None or r.guaranteed_at is not None:
        return None
    return guarantee_terms(r, r.guarantee_due_at)


def clock(value: time) -> str:
    """A property's local clock time as the events carry it ("HH:MM")."""
    return value.strftime("%H:%M")


# -- unpaid holds ----------------------------------------------------------------------------------


# The hotel's own channels are capped only when `unpaid_hold_caps` names them: their bookings
# come from many people, and a flood of anonymous requests must not stop every web guest from
# confirming. The default cap is for partner channels (one client each).
_OWN_CHANNELS = frozenset({DIRECT_WEB, MOBILE_APP, FRONT_DESK, "direct", "system"})


def _guarantee_pending() -> ColumnElement[bool]:
    """A confirmed booking's guarantee is due and not met."""
    return and_(
        col(Reservation.guarantee_due_at).is_not(None), col(Reservation.guaranteed_at).is_(None)
    )


async def check_hold_cap(session: AsyncSession, booking: Booking, settings: Settings) -> None:
    """409 `hold_cap_reached` if confirming `booking` would leave its channel with more unpaid
    rooms than its cap (docs/domain.md, Reservations: unpaid holds).

    Unpaid rooms of a channel = the rooms of its bookings that are `requested` and not past
    `expires_at`, plus the rooms of its `confirmed` bookings whose guarantee is due and not
    met; the booking being confirmed counts with its rooms. At most `cap` rows are read.
    Counted from committed rows: book-nows of one channel running at the same moment may pass
    it together (by at most their number); a confirm of a request never raises the count."""
    r = booking.reservation
    default = 0 if r.channel in _OWN_CHANNELS else settings.max_unpaid_holds_per_channel
    cap = settings.unpaid_hold_caps.get(r.channel, default)
    if cap <= 0:
        return
    unpaid = or_(
        and_(
            col(Reservation.status) == ReservationStatus.REQUESTED,
            or_(col(Reservation.expires_at).is_(None), col(Reservation.expires_at) > utcnow()),
        ),
        and_(col(Reservation.status) == ReservationStatus.CONFIRMED, _guarantee_pending()),
    )
    others = (
        select(col(Reservation.room_count).label("rooms"))
        .where(Reservation.channel == r.channel, unpaid, Reservation.id != r.id)
        .limit(cap)
        .subquery()
    )
    held = (await session.exec(select(func.coalesce(func.sum(others.c.rooms), 0)))).one()
    if held + r.room_count > cap:
        raise ProblemError(
            409,
            "hold_cap_reached",
            f"Channel {r.channel} has {held} unpaid rooms on hold (cap {cap}): confirm or "
            "cancel some, or guarantee them, before confirming more.",
        )


_TABLE = Reservation.__table__  # type: ignore[attr-defined]
_COLUMNS = [column.key for column in _TABLE.columns]
# No conflict target: a taken confirmation number or external id, whichever it is.
_INSERT = {
    dialect: dialect_insert(_TABLE).on_conflict_do_nothing()
    for dialect, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_LINES = ReservationLine.__table__  # type: ignore[attr-defined]
_LINE_COLUMNS = [column.key for column in _LINES.columns if column.key != "id"]


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
    reservation, room_type, prop = row
    if reservation.room_count <= 1:
        return Booking(reservation, room_type, prop)
    lines = await lines_of(session, [reservation.id])
    return Booking(reservation, room_type, prop, lines.get(reservation.id, []))


async def lines_of(
    session: AsyncSession, reservation_ids: Sequence[str]
) -> dict[str, list[tuple[ReservationLine, RoomType]]]:
    """The lines of bookings of several rooms, in line order, in one round trip."""
    found: dict[str, list[tuple[ReservationLine, RoomType]]] = {}
    if not reservation_ids:
        return found
    rows = await session.exec(
        select(ReservationLine, RoomType)
        .join(RoomType, col(RoomType.id) == ReservationLine.room_type_id)
        .where(col(ReservationLine.reservation_id).in_(list(reservation_ids)))
        .order_by(col(ReservationLine.reservation_id), col(ReservationLine.line))
    )
    for line, room_type in rows.all():
        found.setdefault(line.reservation_id, []).append((line, room_type))
    return found


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
    several = await lines_of(session, [r.id for r, _ in page.items if r.room_count > 1])
    return page.map(
        lambda row: shown(
            ReservationPublic.from_row(row[0], row[1], several.get(row[0].id, ())), reach
        )
    )


def shown(public: ReservationPublic, reach: Reach) -> ReservationPublic:
    """A booking as the caller may see it (the guest's contact masked for marketing)."""
    return public.masked() if reach.masked else public
