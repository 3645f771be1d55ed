"""Room assignment: which room a confirmed booking stays in, and which rooms would suit it best.

A room is never given to two overlapping stays. The database says so to every writer:
- PostgreSQL: the exclusion constraint `ex_room_assignments_no_overlap` (btree_gist) over
  (room_id, daterange(starts_on, ends_on)). Two transactions inserting overlapping rows for
  one room: the second waits for the first and fails if it commits (a 409 here).
- SQLite: every transaction is BEGIN IMMEDIATE (one writer at a time), and the row goes in with
  an INSERT ... SELECT ... WHERE NOT EXISTS (an overlapping row of the room): checked and
  written in one statement of the writer's transaction.

A row stops counting when its booking no longer stays: cancelled, no-show, expired, or moved to
other dates by a modification. Such rows are swept from the room before a new one goes in (in
the same transaction), so the constraint only ever sees stays that are live; `release` is there
for the lifecycle to drop a booking's row at once (cancel, no-show, modification).
"""

import re
from dataclasses import dataclass
from datetime import date

from hotel_common.errors import ProblemError
from sqlalchemy import and_, delete, exists, insert, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import history
from reservation_service.access import Actor
from reservation_service.bookings import Booking
from reservation_service.models import (
    HousekeepingStatus,
    OutOfOrderPeriod,
    Reservation,
    ReservationStatus,
    Room,
)
from reservation_service.problems import invalid_field
from reservation_service.stay_models import (
    AssignmentPublic,
    RoomAssignment,
    RoomSuggestion,
    SpecialRequest,
)
from reservation_service.stays import today_at

S = ReservationStatus
R = SpecialRequest

# -- what the booking asks for ---------------------------------------------------------------------

# The booking's typed requests (Reservation.requests: [{"code", "value"}]) count, and so do
# these words in its free text.
_WORDS = {
    R.NON_SMOKING: r"non[- ]?smok",
    R.ACCESSIBLE: r"accessib|wheelchair",
    R.BED_TWIN: r"\btwin",
    R.BED_KING: r"\bking",
    R.HIGH_FLOOR: r"high(er)? floor",
    R.QUIET_ROOM: r"quiet",
    R.CRIB: r"\bcrib|\bcot\b",
    R.LATE_ARRIVAL: r"late arrival|arriv\w* late",
}
_ALIASES = {"bed_type:twin": R.BED_TWIN, "bed_type:king": R.BED_KING, "twin": R.BED_TWIN}


def requests_of(r: Reservation) -> set[SpecialRequest]:
    """The typed requests of the booking (its list if it has one, else its free text's)."""
    wanted: set[SpecialRequest] = set()
    for item in r.requests or []:
        code, value = item.get("code", ""), item.get("value")
        key = f"{code}:{value}" if value else code
        if key in _ALIASES:
            wanted.add(_ALIASES[key])
        elif code in R._value2member_map_:
            wanted.add(R(code))
    text = (r.special_requests or "").lower()
    for request, pattern in _WORDS.items():
        if re.search(pattern, text):
            wanted.add(request)
    return wanted


# -- scoring ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    room: Room
    score: int
    reasons: list[str]

    def public(self) -> RoomSuggestion:
        assert self.room.id is not None
        return RoomSuggestion(
            room_id=self.room.id,
            number=self.room.number,
            floor=self.room.floor,
            features=self.room.features,
            housekeeping_status=self.room.housekeeping_status,
            score=self.score,
            reasons=self.reasons,
        )


def score(
    room: Room, wanted: set[SpecialRequest], vip_level: int, bed_type: str, arrives_today: bool
) -> Candidate:
    """How well `room` suits the booking: requests first, then readiness, then VIP comfort."""
    features = set(room.features)
    points, reasons = 0, []

    def add(amount: int, reason: str) -> None:
        nonlocal points
        points += amount
        reasons.append(reason)

    if R.NON_SMOKING in wanted:
        add(40, "non_smoking") if "non-smoking" in features else add(-60, "smoking_room")
    if R.ACCESSIBLE in wanted:
        add(60, "accessible") if "accessible" in features else add(-80, "not_accessible")
    elif "accessible" in features:
        add(-10, "kept_for_accessible")  # keep accessible rooms for guests who need them
    for request, word in ((R.BED_TWIN, "twin"), (R.BED_KING, "king")):
        if request in wanted and word in bed_type.lower():
            add(20, request.value)
    if R.HIGH_FLOOR in wanted:
        add(3 * room.floor, "high_floor")
    if R.QUIET_ROOM in wanted and "quiet" in features:
        add(25, "quiet_room")
    if R.CRIB in wanted and "crib" in features:
        add(15, "crib")
    status = room.housekeeping_status
    if status == HousekeepingStatus.INSPECTED:
        add(15 + 5 * vip_level, "inspected")
    elif status == HousekeepingStatus.CLEAN:
        add(10, "clean")
    elif arrives_today:
        add(-30, "not_ready")
    if vip_level:
        comfort = room.floor + 10 * len(features - {"accessible"})
        add(vip_level * comfort, f"vip_{vip_level}")
    return Candidate(room, points, reasons)


# -- which rooms are free --------------------------------------------------------------------------


def _overlapping(room_id: object, starts_on: date, ends_on: date) -> object:
    a = RoomAssignment
    return and_(col(a.room_id) == room_id, col(a.starts_on) < ends_on, col(a.ends_on) > starts_on)


def _out_of_order(room_id: object, starts_on: date, ends_on: date) -> object:
    """A period takes the room out on a night of the stay (inventory does not count it)."""
    p = OutOfOrderPeriod
    return exists().where(
        col(p.room_id) == room_id, col(p.from_date) < ends_on, col(p.to_date) > starts_on
    )


def _stale() -> object:
    """The assignment's booking no longer stays there: gone, or moved to other dates."""
    a, r = RoomAssignment, Reservation
    return exists().where(
        col(r.id) == a.reservation_id,
        or_(
            col(r.status).notin_([S.CONFIRMED, S.CHECKED_IN, S.CHECKED_OUT]),
            and_(
                col(r.status) == S.CONFIRMED,
                or_(col(r.check_in) != a.starts_on, col(r.check_out) != a.ends_on),
            ),
        ),
    )


async def suggestions(
    session: AsyncSession, booking: Booking, vip_level: int, limit: int = 10
) -> list[Candidate]:
    """The booking's room type's rooms in service and free for its nights, best first."""
    r = booking.reservation
    taken = exists().where(
        _overlapping(Room.id, r.check_in, r.check_out),  # type: ignore[arg-type]
        col(RoomAssignment.reservation_id) != r.id,
        ~_stale(),  # type: ignore[operator]
    )
    rooms = await session.exec(
        select(Room).where(
            Room.room_type_id == r.room_type_id,
            Room.housekeeping_status != HousekeepingStatus.OUT_OF_ORDER,
            ~taken,
            ~_out_of_order(Room.id, r.check_in, r.check_out),  # type: ignore[operator]
        )
    )
    wanted = requests_of(r)
    arrives_today = r.check_in <= today_at(booking.property.timezone)
    ranked = [
        score(room, wanted, vip_level, booking.room_type.bed_type, arrives_today) for room in rooms
    ]
    ranked.sort(key=lambda c: (-c.score, c.room.number))
    return ranked[:limit]


# -- the booking's room ----------------------------------------------------------------------------


async def current(session: AsyncSession, booking: Booking) -> tuple[RoomAssignment, Room] | None:
    row = (
        await session.exec(
            select(RoomAssignment, Room)
            .join(Room, col(Room.id) == RoomAssignment.room_id)
            .where(RoomAssignment.reservation_id == booking.reservation.id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


def public(assignment: RoomAssignment, room: Room) -> AssignmentPublic:
    return AssignmentPublic(
        reservation_id=assignment.reservation_id,
        room_id=assignment.room_id,
        room_number=room.number,
        starts_on=assignment.starts_on,
        ends_on=assignment.ends_on,
        assigned_at=assignment.assigned_at,
        assigned_by=assignment.assigned_by,
    )


def covers_stay(assignment: RoomAssignment, booking: Booking) -> bool:
    r = booking.reservation
    return assignment.starts_on == r.check_in and assignment.ends_on == r.check_out


async def _room(session: AsyncSession, booking: Booking, room_id: int) -> Room:
    room = await session.get(Room, room_id)
    if room is None or room.room_type_id != booking.reservation.room_type_id:
        # Another property's rooms, or another type's: this booking cannot have it.
        raise invalid_field(
            "room_not_for_booking",
            "body.room_id",
            f"Room {room_id} is not a {booking.room_type.code} room of this booking's property.",
        )
    r = booking.reservation
    period = _out_of_order(room.id, r.check_in, r.check_out)
    if room.housekeeping_status == HousekeepingStatus.OUT_OF_ORDER or await session.scalar(
        select(period)  # type: ignore[call-overload]
    ):
        raise ProblemError(
            409, "room_out_of_order", f"Room {room.number} is out of order on a night of the stay."
        )
    return room


async def assign(
    session: AsyncSession,
    booking: Booking,
    room_id: int | None,
    vip_level: int,
    actor: Actor,
) -> tuple[RoomAssignment, Room]:
    """Give the (locked) confirmed booking `room_id`, or the best suggestion; assigning the
    room it already has changes nothing. 409 `room_unavailable` if another stay has it."""
    r = booking.reservation
    status = ReservationStatus(r.status)
    if status is S.CHECKED_IN:
        raise ProblemError(
            409, "already_checked_in", "The guest is in the room: a room move is not supported."
        )
    if status is not S.CONFIRMED:
        raise ProblemError(
            409,
            "not_assignable",
            f"A {status.value} booking has no room to assign: only confirmed bookings do.",
        )
    if room_id is None:
        best = await suggestions(session, booking, vip_level, limit=1)
        if not best:
            raise ProblemError(
                409,
                "no_room_free",
                f"No {booking.room_type.code} room is free from {r.check_in.isoformat()} "
                f"to {r.check_out.isoformat()}.",
            )
        room = best[0].room
    else:
        room = await _room(session, booking, room_id)
    assert room.id is not None
    before = await current(session, booking)
    if before is not None and before[0].room_id == room.id and covers_stay(before[0], booking):
        return before  # nothing changed
    # Assignments of one room queue on the room's row lock (PostgreSQL): two inserts racing on
    # the exclusion constraint each wait for the other's tuple and deadlock; queued, the second
    # sees the first's committed row in its NOT EXISTS and answers a clean 409.
    if (await session.connection()).dialect.name == "postgresql":
        await session.exec(select(Room.id).where(Room.id == room.id).with_for_update())
    await session.exec(delete(RoomAssignment).where(col(RoomAssignment.reservation_id) == r.id))
    await session.exec(
        delete(RoomAssignment)
        .where(_overlapping(room.id, r.check_in, r.check_out), _stale())  # type: ignore[arg-type]
        .execution_options(synchronize_session=False)
    )
    row = RoomAssignment(
        reservation_id=r.id,
        room_id=room.id,
        starts_on=r.check_in,
        ends_on=r.check_out,
        assigned_by=actor.id,
    )
    names = ("reservation_id", "room_id", "starts_on", "ends_on", "assigned_at", "assigned_by")
    columns = RoomAssignment.__table__.c  # type: ignore[attr-defined]
    checked = insert(RoomAssignment).from_select(
        list(names),
        sa_select(*(literal(getattr(row, n), type_=columns[n].type) for n in names)).where(
            ~exists().where(_overlapping(room.id, r.check_in, r.check_out))  # type: ignore[arg-type]
        ),
    )
    try:
        inserted = (await session.exec(checked)).rowcount
    except IntegrityError:  # PostgreSQL: the exclusion constraint (a concurrent assignment)
        inserted = 0
    if inserted != 1:
        raise ProblemError(
            409,
            "room_unavailable",
            f"Room {room.number} is assigned to another stay overlapping "
            f"{r.check_in.isoformat()} to {r.check_out.isoformat()}.",
        )
    r.version += 1
    old = before[1].number if before is not None else None
    history.record(
        session,
        r,
        "room_assigned",
        actor,
        from_status=r.status,
        changes={"room_number": history.change(old, room.number)},
    )
    session.add(r)
    await session.flush()
    saved = await current(session, booking)
    assert saved is not None
    return saved


async def release(session: AsyncSession, reservation_id: str) -> None:
    """Drop the booking's assignment (cancellation, no-show, a modification of its stay)."""
    await session.exec(
        delete(RoomAssignment).where(col(RoomAssignment.reservation_id) == reservation_id)
    )


async def end(session: AsyncSession, assignment: RoomAssignment, departure: date) -> None:
    """The guest left on `departure` (an early departure frees the room's later nights)."""
    if departure < assignment.ends_on:
        assignment.ends_on = departure
        session.add(assignment)
