"""Transfer jobs: opening the arrival pickup and the departure drop-off a booking asked for,
planning a job's times and places (booking, departure, ad hoc), moving it when the booking
changes, shared rides ending when one party is left, cancelling, and listing them. Nothing here
commits: the consumer wrapper or the route owns the transaction.

Concurrency and order: the handlers calling these run one at a time per reservation (the
inbox's lock, hotel_common/events/inbox.py), so each sees what the other committed. Events of
one booking may still arrive in any order, twice, or late; the reservation's version on each
event (`aggregate_version`) says which is newer. A cancellation leaves a tombstone with its
version, so a confirmation that is not newer opens nothing; a job remembers the version that
last shaped it (its confirmation, a change), so a cancellation or a change older than that
leaves it alone; a change asking for no pickup while no job exists leaves a `WithdrawnPickup`
with its version (a `WithdrawnDeparture` for the drop-off), so an older confirmation opens
nothing. Unknown versions (events from
before versions existed) count as not newer: the cancellation wins.
"""

import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotel_common.contacts import contact_columns
from hotel_common.contracts.reservations import (
    DepartureRequest,
    ReservationConfirmed,
    ReservationModified,
    TransferRequest,
)
from hotel_common.errors import NotFound
from hotel_common.events.envelope import newer
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import as_utc, utcnow
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    event,
    exists,
    inspect,
    or_,
)
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from transfer_service.audit import SYSTEM
from transfer_service.config import Settings
from transfer_service.models import (
    CancelledReservation,
    Driver,
    Place,
    PlaceKind,
    TransferAudit,
    TransferJob,
    TransferKind,
    TransferPublic,
    TransferStatus,
    Transport,
    Vehicle,
    WithdrawnDeparture,
    WithdrawnPickup,
)
from transfer_service.places import Atlas

log = logging.getLogger(__name__)

ARRIVAL_PICKUP = TransferKind.ARRIVAL_PICKUP
DEPARTURE_DROPOFF = TransferKind.DEPARTURE_DROPOFF
# Until the guest is on board a job can be called off: by the booking's cancellation, a removed
# pickup or dispatch (docs/domain.md, Job states); a driver on his way is called back.
CANCELLABLE = (
    TransferStatus.REQUESTED,
    TransferStatus.ASSIGNED,
    TransferStatus.EN_ROUTE,
    TransferStatus.DRIVER_ON_SITE,
)
# Before the driver is on his way to the meeting point a job can still be moved; once he is on
# site or the guest on board, dispatch handles a change with the driver and the guest.
MOVABLE = (TransferStatus.REQUESTED, TransferStatus.ASSIGNED)
# An event that shapes the arrival pickup: the booking as it is at its version.
Shaping = ReservationConfirmed | ReservationModified


def local_date(instant: datetime, timezone: str) -> date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        # Raising parks the event as a dead letter, visible and replayable once fixed.
        raise ValueError(f"unknown property time zone {timezone!r}") from exc
    return instant.astimezone(zone).date()


# Built once: both checks of an opening in one statement (one round trip, a cached compile).
_rid: BindParameter[str] = bindparam("reservation_id")
_OPENING_CHECKS = select(
    exists().where(col(CancelledReservation.reservation_id) == _rid).label("cancelled"),
    select(CancelledReservation.version)
    .where(col(CancelledReservation.reservation_id) == _rid)
    .scalar_subquery()
    .label("cancelled_version"),
    select(TransferJob.id)
    .where(col(TransferJob.reservation_id) == _rid, col(TransferJob.kind) == ARRIVAL_PICKUP)
    .limit(1)
    .scalar_subquery()
    .label("job_id"),
    select(WithdrawnPickup.version)
    .where(col(WithdrawnPickup.reservation_id) == _rid)
    .scalar_subquery()
    .label("withdrawn_version"),
)


async def open_arrival_pickup(
    session: AsyncSession, booking: Shaping, settings: Settings, atlas: Atlas
) -> TransferJob | None:
    """The pickup the booking asked for; None if it asked for none or already has one, or a
    later version of it is known to have been cancelled or to ask for none.

    Not yet in the session: the caller adds it once it is assigned, so the job is written by
    one INSERT instead of an INSERT and an UPDATE.
    """
    request = booking.transfer
    if request is None:
        return None
    conn = await session.connection()
    checks = (await conn.execute(_OPENING_CHECKS, {"reservation_id": booking.reservation_id})).one()
    if checks.cancelled and not newer(booking.aggregate_version, checks.cancelled_version):
        log.info(
            "confirmation arrived after the cancellation; no pickup",
            extra={"reservation_id": booking.reservation_id},
        )
        return None
    if checks.withdrawn_version is not None and not newer(
        booking.aggregate_version, checks.withdrawn_version
    ):
        log.info(
            "a later change of the booking asked for no pickup; none opened",
            extra={"reservation_id": booking.reservation_id},
        )
        return None
    if checks.job_id is not None:
        log.info(
            "reservation already has its arrival pickup",
            extra={"reservation_id": booking.reservation_id, "transfer_id": checks.job_id},
        )
        return None
    columns, unknown = plan(booking, request, settings, atlas)
    job = TransferJob(
        reservation_id=booking.reservation_id,
        kind=ARRIVAL_PICKUP,
        **columns,
        reservation_version=booking.aggregate_version,
    )
    flag(job, UNKNOWN_PLACE, unknown)
    return job


async def open_departure(
    session: AsyncSession, booking: Shaping, settings: Settings, atlas: Atlas
) -> TransferJob | None:
    """The departure drop-off the booking asked for; None if it asked for none, already has
    one, or is known cancelled at this version or later. Not yet in the session."""
    request = booking.departure
    if request is None:
        return None
    if await cancelled_since(session, booking.reservation_id, booking.aggregate_version):
        return None
    withdrawn = await session.get(WithdrawnDeparture, booking.reservation_id)
    if withdrawn is not None and not newer(booking.aggregate_version, withdrawn.version):
        log.info(
            "a later change of the booking asked for no drop-off; none opened",
            extra={"reservation_id": booking.reservation_id},
        )
        return None
    if await job_of(session, booking.reservation_id, DEPARTURE_DROPOFF) is not None:
        return None
    columns, unknown = plan_departure(booking, request, settings, atlas)
    job = TransferJob(
        reservation_id=booking.reservation_id,
        kind=DEPARTURE_DROPOFF,
        **columns,
        reservation_version=booking.aggregate_version,
    )
    flag(job, UNKNOWN_PLACE, unknown)
    return job


# What a plan sets that the guest and the driver see, or that the crew must fit: a change of
# any of these moves the pickup (and re-checks its crew).
PICKUP_FIELDS = (
    "flight_number",
    "pickup_place",
    "destination",
    "pickup_time",
    "passengers",
    "luggage",
    "child_seats",
    "wheelchair",
    "language",
    "share_ok",
)
# What a plan derives from the pickup: with PICKUP_FIELDS, what a job under way keeps as it is.
SCHEDULE = (
    *PICKUP_FIELDS,
    "transport",
    "flight_time",
    "flight_date",
    "booked_flight_time",
    "pickup_place_id",
    "destination_place_id",
    "driver_on_site_at",
    "ends_at",
    "busy_from",
    "busy_until",
    "driven_minutes",
    "pickup_date",
    "property_timezone",
)
UNKNOWN_PLACE = "unknown_place"


def flag(job: TransferJob, name: str, on: bool) -> None:
    """Set or clear one of the job's flags (a new list: the JSON column sees the change)."""
    flags = [f for f in job.flags or [] if f != name]
    job.flags = [*flags, name] if on else flags


def transport_of(given: str | None, place: Place | None) -> str:
    """The transport a request names; unnamed, a train from a station, else an international
    flight (the longest free wait and check-in buffer: never too early a no-show or too late a
    departure)."""
    if given in {t.value for t in Transport}:
        return str(given)
    if place is not None and place.kind == PlaceKind.STATION:
        return Transport.TRAIN
    return Transport.INTERNATIONAL_FLIGHT


def checkin_minutes(transport: str, settings: Settings) -> int:
    return {
        Transport.INTERNATIONAL_FLIGHT: settings.checkin_international_minutes,
        Transport.DOMESTIC_FLIGHT: settings.checkin_domestic_minutes,
        Transport.TRAIN: settings.checkin_train_minutes,
    }[Transport(transport)]


def window(
    pickup: datetime, out: int, ride: int, back: int, timezone: str, settings: Settings
) -> dict[str, Any]:
    """The job's times from its pickup and its three legs (minutes): base -> pickup point,
    pickup point -> destination, destination -> base (docs/domain.md, the crew window)."""
    on_site = pickup - settings.on_site_lead
    ends = pickup + timedelta(minutes=ride)
    return {
        "pickup_time": pickup,
        "driver_on_site_at": on_site,
        "ends_at": ends,
        "busy_from": on_site - timedelta(minutes=out),
        "busy_until": ends + timedelta(minutes=back),
        "driven_minutes": out + ride + back,
        "pickup_date": local_date(pickup, timezone),
        "property_timezone": timezone,
    }


def _needs(request: TransferRequest | DepartureRequest) -> dict[str, Any]:
    return {
        "passengers": request.passengers,
        "luggage": request.luggage,
        "child_seats": request.child_seats or 0,
        "wheelchair": bool(request.wheelchair),
        "language": request.language,
        "sign_name": request.sign_name,
        "notes": request.notes,
        "share_ok": bool(request.share_ok),
    }


def plan(
    booking: Shaping, request: TransferRequest, settings: Settings, atlas: Atlas
) -> tuple[dict[str, Any], bool]:
    """The arrival pickup's columns for `request` of `booking` as it is at its version, and
    whether a place is unknown (its legs then take the default trip length). The property is
    the base: the crew starts there and the ride ends there."""
    pickup = as_utc(request.arrival_time)
    origin = atlas.resolve(request.pickup_place)
    home = atlas.resolve(booking.property_name)
    origin_id, home_id = _id(origin), _id(home)
    default = settings.trip_minutes
    leg = atlas.minutes(home_id, origin_id, default)
    ride = atlas.minutes(origin_id, home_id, default)
    return {
        "confirmation_number": booking.confirmation_number,
        **contact_columns(booking.guest),
        "flight_number": request.flight_number,
        "transport": transport_of(request.transport, origin),
        "flight_time": pickup,
        "flight_date": local_date(pickup, booking.property_timezone),
        "booked_flight_time": pickup,
        "pickup_place": request.pickup_place,
        "destination": booking.property_name,
        "pickup_place_id": origin_id,
        "destination_place_id": home_id,
        **window(pickup, leg, ride, 0, booking.property_timezone, settings),
        **_needs(request),
        "fare_included": bool(booking.transfers_included),
    }, origin is None or home is None


def plan_departure(
    booking: Shaping, request: DepartureRequest, settings: Settings, atlas: Atlas
) -> tuple[dict[str, Any], bool]:
    """The departure drop-off: it leaves the property (the base) early enough for the check-in
    buffer of its transport plus the drive, and the crew drives back afterwards."""
    departs = as_utc(request.departure_time)
    home = atlas.resolve(booking.property_name)
    target = atlas.resolve(request.dropoff_place)
    home_id, target_id = _id(home), _id(target)
    default = settings.trip_minutes
    ride = atlas.minutes(home_id, target_id, default)
    back = atlas.minutes(target_id, home_id, default)
    transport = transport_of(request.transport, target)
    pickup = departs - timedelta(minutes=checkin_minutes(transport, settings) + ride)
    return {
        "confirmation_number": booking.confirmation_number,
        **contact_columns(booking.guest),
        "flight_number": request.flight_number,
        "transport": transport,
        "flight_time": departs,
        "flight_date": local_date(departs, booking.property_timezone),
        "booked_flight_time": departs,
        "pickup_place": booking.property_name,
        "destination": request.dropoff_place,
        "pickup_place_id": home_id,
        "destination_place_id": target_id,
        **window(pickup, 0, ride, back, booking.property_timezone, settings),
        **_needs(request),
        "fare_included": bool(booking.transfers_included),
    }, home is None or target is None


def plan_ad_hoc(
    pickup: datetime,
    pickup_place: str,
    destination: str,
    timezone: str,
    settings: Settings,
    atlas: Atlas,
) -> tuple[dict[str, Any], bool]:
    """An ad-hoc ride between any two places. Its base is the property among its two places,
    else the first property place known (the crew drives out from the hotel and back)."""
    origin, target = atlas.resolve(pickup_place), atlas.resolve(destination)
    if origin is not None and origin.kind == PlaceKind.PROPERTY:
        base: Place | None = origin
    elif target is not None and target.kind == PlaceKind.PROPERTY:
        base = target
    else:
        base = atlas.first_property()
    origin_id, target_id, base_id = _id(origin), _id(target), _id(base)
    default = settings.trip_minutes
    out = atlas.minutes(base_id, origin_id, default)
    ride = atlas.minutes(origin_id, target_id, default)
    back = atlas.minutes(target_id, base_id, default)
    return {
        "pickup_place": pickup_place,
        "destination": destination,
        "pickup_place_id": origin_id,
        "destination_place_id": target_id,
        **window(as_utc(pickup), out, ride, back, timezone, settings),
    }, origin is None or target is None


def _id(place: Place | None) -> int | None:
    return None if place is None else place.id


async def lock_with_rides(session: AsyncSession, where: ColumnElement[bool]) -> list[TransferJob]:
    """The jobs `where` selects, locked (FOR UPDATE) in id order, and with them every job of
    their shared rides, in the same statement; answers those `where` selects, by id.

    The way a job that may leave its ride is locked (a cancellation, a new crew or none, a
    move): when it leaves, its ride ends if one live party is left (_end_lone_rides), which needs
    the ride mates' rows. Taken up front with the job's, in id order, before any crew row (the
    order: jobs, then vehicles, then drivers), two parties of one ride called off at once wait for
    each other instead of each holding its own row and waiting for the other's (a deadlock).

    The rides are read first without a lock; a job that joined another ride meanwhile (seen once
    locked) has that ride's jobs locked too, in a further round."""
    query = select(TransferJob.ride_id).where(where, col(TransferJob.ride_id).is_not(None))
    rides = {str(r) for r in (await session.exec(query)).all()}
    while True:
        scope = or_(where, col(TransferJob.ride_id).in_(rides)) if rides else where
        rows = (
            await session.exec(
                select(TransferJob, where.label("wanted"))
                .where(scope)
                .order_by(col(TransferJob.id))
                .with_for_update(of=TransferJob)
            )
        ).all()
        joined = {j.ride_id for j, _ in rows if j.ride_id is not None} - rides
        if not joined:
            return [job for job, wanted in rows if wanted]
        rides |= joined


async def job_of(
    session: AsyncSession, reservation_id: str, kind: TransferKind = ARRIVAL_PICKUP
) -> TransferJob | None:
    """The reservation's job of `kind`, locked against dispatch's progress reports (with its
    ride mates: lock_with_rides)."""
    where = and_(col(TransferJob.reservation_id) == reservation_id, col(TransferJob.kind) == kind)
    found = await lock_with_rides(session, where)
    return found[0] if found else None


async def arrival_pickup(session: AsyncSession, reservation_id: str) -> TransferJob | None:
    return await job_of(session, reservation_id, ARRIVAL_PICKUP)


async def cancelled_since(session: AsyncSession, reservation_id: str, version: int | None) -> bool:
    """Is the reservation known to be cancelled at `version` or later (the event is stale)?"""
    tombstone = await session.get(CancelledReservation, reservation_id)
    return tombstone is not None and not newer(version, tombstone.version)


async def withdraw(
    session: AsyncSession,
    reservation_id: str,
    version: int | None,
    kind: TransferKind = ARRIVAL_PICKUP,
) -> None:
    """Remember that the reservation asked for no pickup (or no drop-off: `kind`) at
    `version`, while it has no such job: an older confirmation or change arriving later opens
    none."""
    if version is None:
        return  # an unknown version orders nothing
    table: type[WithdrawnPickup | WithdrawnDeparture] = (
        WithdrawnDeparture if kind == DEPARTURE_DROPOFF else WithdrawnPickup
    )
    known: WithdrawnPickup | WithdrawnDeparture | None = await session.get(table, reservation_id)
    if known is None:
        session.add(table(reservation_id=reservation_id, version=version))
    elif newer(version, known.version):
        known.version = version
        known.withdrawn_at = utcnow()
        session.add(known)


# The times a flight update moves (flights.shift), with `pickup_date` recomputed.
FLIGHT_MOVED = ("pickup_time", "driver_on_site_at", "ends_at", "busy_from", "busy_until")


def keep_flight_move(job: TransferJob, columns: dict[str, Any]) -> None:
    """A plan from the booking, whose flight is still as booked (same number, same time) while
    a flight update has moved the job's: the plan's times move by as much. The booking never
    hears of the delay; without this, any later change of it (the stay, the guest's phone) would
    put the pickup back at a landing that will not happen."""
    booked, moved = job.booked_flight_time, job.flight_time
    if booked is None or moved is None or moved == booked:
        return
    if columns.get("booked_flight_time") != booked or "".join(
        (columns.get("flight_number") or "").upper().split()
    ) != "".join((job.flight_number or "").upper().split()):
        return  # the booking changed its flight: the new one is planned as booked
    by = moved - booked
    for name in FLIGHT_MOVED:
        columns[name] = columns[name] + by
    columns["flight_time"] = moved
    columns["pickup_date"] = local_date(columns["pickup_time"], columns["property_timezone"])


def replan(job: TransferJob, columns: dict[str, Any]) -> bool:
    """Give `job` the plan's `columns`; True if the pickup itself moved (time, place, flight,
    party), not only the guest's contact."""
    moved = any(getattr(job, name) != columns[name] for name in PICKUP_FIELDS)
    for name, value in columns.items():
        setattr(job, name, value)
    job.updated_at = utcnow()
    return moved


def touch(job: TransferJob) -> None:
    """Mark a change of the job: its version (the aggregate version of its events) moves on."""
    job.version += 1
    job.updated_at = utcnow()


def leave_ride(job: TransferJob) -> None:
    """The job leaves its shared ride (if any): the jobs of one ride have one vehicle and one
    driver, and only they are exempt from each other's turnaround (assignment.py), so a job
    given another crew, or none, is alone again. The others keep their ride."""
    if job.ride_id is not None:
        job.ride_id = None
        flag(job, "shared", False)


def _left_rides(session: Session) -> set[str]:
    """The rides a job of this flush leaves: its ride id taken off (leave_ride, a new crew), or
    the job cancelled (it keeps its ride id for the history)."""
    left: set[str] = set()
    for job in session.dirty:
        if not isinstance(job, TransferJob):
            continue
        attrs = inspect(job).attrs
        left.update(r for r in attrs.ride_id.history.deleted if r and r != job.ride_id)
        if job.ride_id and TransferStatus.CANCELLED in attrs.status.history.added:
            left.add(job.ride_id)
    return left


@event.listens_for(Session, "before_flush")
def _end_lone_rides(session: Session, _context: object, _instances: object) -> None:
    """A shared ride left with one live party is no ride (docs/domain.md, Shared rides): that
    party keeps its vehicle and driver but rides alone, without ride id nor `shared` flag (an
    `unshared` audit line, the job's version moved on). Whoever leaves the ride, however (a
    cancellation, a crew changed or taken off, from any route or handler), it ends here, as
    the flush writes the change: the ride's other jobs are read (locked) in the same
    transaction. Whoever locked the leaving job with its ride mates (lock_with_rides, before
    any crew row) already holds them; else they are locked here, in id order."""
    left = _left_rides(session)
    if not left:
        return
    with session.no_autoflush:
        found = session.scalars(
            select(TransferJob)
            .where(col(TransferJob.ride_id).in_(left))
            .order_by(col(TransferJob.id))
            .with_for_update()
        ).all()
    members = {j.id: j for j in found} | {
        j.id: j for j in session.new if isinstance(j, TransferJob) and j.ride_id in left
    }
    for ride in left:
        riding = [
            j
            for j in members.values()
            if j.ride_id == ride and j.status != TransferStatus.CANCELLED
        ]
        if len(riding) != 1:
            continue  # still shared, or nobody left on it
        lone = riding[0]
        lone.ride_id = None
        flag(lone, "shared", False)
        touch(lone)
        session.add(
            TransferAudit(
                transfer_id=lone.id, actor=SYSTEM, action="unshared", detail={"ride_id": ride}
            )
        )


def release_crew(job: TransferJob) -> None:
    """The job back to `requested` without vehicle or driver: they are free for others (and
    it leaves its shared ride)."""
    leave_ride(job)
    job.vehicle_id = job.driver_id = None
    job.assigned_at = None
    job.status = TransferStatus.REQUESTED
    job.updated_at = utcnow()


def cancel(job: TransferJob, reason: str) -> None:
    job.status = TransferStatus.CANCELLED
    job.cancel_reason = reason
    job.cancelled_at = job.updated_at = utcnow()


async def cancel_for_reservation(
    session: AsyncSession, reservation_id: str, reason: str, version: int | None = None
) -> list[TransferJob]:
    """Cancel the reservation's jobs not yet under way; their vehicle and driver become free
    (a cancelled job holds nothing) and stay recorded on the job for the history.

    The cancellation is remembered, with its version, even when no job exists yet: its
    confirmation may still come. Jobs opened by a newer version than `version` stay.
    """
    tombstone = await session.get(CancelledReservation, reservation_id)
    if tombstone is None:
        session.add(CancelledReservation(reservation_id=reservation_id, version=version))
    elif newer(version, tombstone.version):
        tombstone.version = version
        session.add(tombstone)
    jobs = await lock_with_rides(
        session,
        and_(
            col(TransferJob.reservation_id) == reservation_id,
            col(TransferJob.status).in_(CANCELLABLE),
        ),
    )
    jobs = [j for j in jobs if not newer(j.reservation_version, version)]
    for job in jobs:
        cancel(job, reason)
        session.add(job)
    await session.flush()
    return jobs


def _with_crew() -> Select[TransferJob, Vehicle, Driver]:
    """Jobs with their vehicle and driver (None in the rows of unassigned jobs)."""
    return (
        select(TransferJob, Vehicle, Driver)
        .outerjoin(Vehicle, col(TransferJob.vehicle_id) == col(Vehicle.id))
        .outerjoin(Driver, col(TransferJob.driver_id) == col(Driver.id))
    )


async def list_jobs(
    session: AsyncSession,
    paging: Paging,
    *,
    visible: ColumnElement[bool] | None,
    reservation_id: str | None,
    status: TransferStatus | None,
    pickup_date: date | None,
    driver_id: int | None,
) -> Page[TransferPublic]:
    """Jobs in pickup order, with their crew; only those `visible` (None: all)."""
    query = _with_crew()
    if visible is not None:
        query = query.where(visible)
    if reservation_id is not None:
        query = query.where(TransferJob.reservation_id == reservation_id)
    if status is not None:
        query = query.where(TransferJob.status == status)
    if pickup_date is not None:
        query = query.where(TransferJob.pickup_date == pickup_date)
    if driver_id is not None:
        query = query.where(TransferJob.driver_id == driver_id)
    order = (col(TransferJob.pickup_time), col(TransferJob.id))
    page = await keyset_page(session, query, paging, *order)
    return page.map(lambda row: TransferPublic.of(*row))


async def get_job(
    session: AsyncSession, transfer_id: str, visible: ColumnElement[bool] | None = None
) -> TransferPublic:
    """One job with its crew; 404 if there is none or the caller may not see it."""
    query = _with_crew().where(TransferJob.id == transfer_id)
    if visible is not None:
        query = query.where(visible)
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("transfer", transfer_id)
    return TransferPublic.of(*row)
