"""Incidents: a vehicle broken down or a driver unavailable from a time, optionally until one.

Reporting one reassigns at once every live job of that vehicle or driver not yet with the guest
on board (assigned, en route, driver on site) whose crew window meets the period: the other
crew member is kept where still valid, the vehicle or driver hit is avoided; each guest is told
the new car and driver (`transfer.reassigned`) before the pickup. A job nobody can take goes back
to `requested` with flags `uncovered` and `escalated` and its `uncovered_reason`: it stays on the
board for dispatch (and is retried with the others). While open, the incident keeps the vehicle
or driver off jobs meeting its period (assignment.py). Resolving it frees them: the
uncovered jobs are retried. A second open incident of the same vehicle (driver) meeting its
period is refused (409 `incident_overlaps`): the same breakdown reported twice.

Locks: the affected jobs (by id), then the vehicle and driver rows as assignment takes them, and
only then is the incident written (`report`).
"""

from datetime import datetime, timedelta

from hotel_common.errors import NotFound, ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import utcnow
from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit, coverage, jobs, outbound
from transfer_service.assignment import assign, lock_crew
from transfer_service.config import Settings
from transfer_service.dispatch import lock_jobs
from transfer_service.models import (
    Driver,
    Incident,
    IncidentCreate,
    IncidentKind,
    IncidentOutcome,
    IncidentPublic,
    TransferJob,
    TransferStatus,
    Vehicle,
)

# An incident's period (_check_period): reported at most a day late, at most a year ahead, at
# most a year long (the longest maintenance period, fleet.MAX_MAINTENANCE_DAYS).
MAX_PAST = timedelta(hours=24)
MAX_AHEAD = timedelta(days=366)
MAX_PERIOD = timedelta(days=366)
# Before the guest is on board, another car or driver can still be sent.
REPLACEABLE = (TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE, TransferStatus.DRIVER_ON_SITE)


def public(incident: Incident) -> IncidentPublic:
    return IncidentPublic.model_validate(incident, from_attributes=True)


def _check_period(body: IncidentCreate, now: datetime) -> datetime:
    """The incident's start (now if not given), its period bounded (422, nothing written):
    started at most a day ago (`incident_start_past`: an older one is history, not an
    incident), starting at most `MAX_AHEAD` ahead (`incident_start_too_far`), ending after it
    starts (`invalid_period`) and at most `MAX_PERIOD` later (`incident_too_long`: leave it
    open-ended and resolve it). Compared as given, before any conversion: year 1 or 9999 has no
    room for one."""
    starts = body.starts_at or now
    if starts < now - MAX_PAST:
        raise ProblemError(
            422, "incident_start_past", "An incident starts at most a day before it is reported."
        )
    if starts > now + MAX_AHEAD:
        raise ProblemError(
            422,
            "incident_start_too_far",
            f"An incident starts at most {MAX_AHEAD.days} days ahead.",
            max_days_ahead=MAX_AHEAD.days,
        )
    if body.ends_at is not None and body.ends_at <= starts:
        raise ProblemError(422, "invalid_period", "ends_at must be after starts_at.")
    if body.ends_at is not None and body.ends_at - starts > MAX_PERIOD:
        raise ProblemError(
            422,
            "incident_too_long",
            f"An incident's period is at most {MAX_PERIOD.days} days; leave ends_at out for "
            "one until resolved.",
            max_days=MAX_PERIOD.days,
        )
    return starts


async def report(
    session: AsyncSession, settings: Settings, body: IncidentCreate, actor: str
) -> IncidentOutcome:
    if body.vehicle_id is not None and await session.get(Vehicle, body.vehicle_id) is None:
        raise NotFound("vehicle", body.vehicle_id)
    if body.driver_id is not None and await session.get(Driver, body.driver_id) is None:
        raise NotFound("driver", body.driver_id)
    starts = _check_period(body, utcnow())
    incident = Incident(
        kind=body.kind,
        vehicle_id=body.vehicle_id,
        driver_id=body.driver_id,
        starts_at=starts,
        ends_at=body.ends_at,
        description=body.description,
        reported_by=actor,
    )
    # The jobs it hits, locked; then the crew, as every assignment locks it; only then is the
    # incident written, and the jobs it hits looked for again: an assignment that gave the
    # vehicle (driver) a job meanwhile has committed (we waited for its crew locks), and one
    # still to come waits for ours and then sees the incident. Written first, the incident was
    # invisible to an assignment running at the same time, which could give the broken vehicle
    # a job this report never saw.
    locked = await lock_jobs(session, await _hit(session, incident))
    await lock_crew(session)
    await _refuse_overlap(session, incident)  # after the crew lock: two twins queue there
    session.add(incident)
    await session.flush()
    missed = [i for i in await _hit(session, incident) if i not in locked]
    if missed:
        locked |= await lock_jobs(session, missed)
    reassigned, escalated = await _cover(session, settings, incident, locked, actor)
    return IncidentOutcome(incident=public(incident), reassigned=reassigned, escalated=escalated)


async def _refuse_overlap(session: AsyncSession, incident: Incident) -> None:
    """One open incident per vehicle (driver) at a time: the same breakdown reported twice (a
    second dispatcher, a retry without its Idempotency-Key) is 409 `incident_overlaps` naming
    the open one, which stays the one to resolve; another period of it, not meeting that one's,
    is another incident."""
    subject = (
        col(Incident.vehicle_id) == incident.vehicle_id
        if incident.vehicle_id is not None
        else col(Incident.driver_id) == incident.driver_id
    )
    meets = [or_(col(Incident.ends_at).is_(None), col(Incident.ends_at) > incident.starts_at)]
    if incident.ends_at is not None:
        meets.append(col(Incident.starts_at) < incident.ends_at)
    found = (
        await session.exec(
            select(Incident).where(subject, col(Incident.status) == "open", *meets).limit(1)
        )
    ).first()
    if found is not None:
        raise ProblemError(
            409,
            "incident_overlaps",
            f"Incident {found.id} is open for this "
            f"{'vehicle' if incident.vehicle_id is not None else 'driver'} over that time "
            "already: resolve it, or report a period that does not meet it.",
            incident_id=found.id,
        )


async def _hit(session: AsyncSession, incident: Incident) -> list[str]:
    """The ids of the live jobs, not yet with the guest on board, the incident takes a crew
    member from."""
    hit = (
        col(TransferJob.vehicle_id) == incident.vehicle_id
        if incident.kind == IncidentKind.VEHICLE_BREAKDOWN
        else col(TransferJob.driver_id) == incident.driver_id
    )
    meets = [col(TransferJob.busy_until) > incident.starts_at]
    if incident.ends_at is not None:
        meets.append(col(TransferJob.busy_from) < incident.ends_at)
    ids = (
        await session.exec(
            select(TransferJob.id).where(hit, col(TransferJob.status).in_(REPLACEABLE), *meets)
        )
    ).all()
    return list(ids)


async def _cover(
    session: AsyncSession,
    settings: Settings,
    incident: Incident,
    locked: dict[str, TransferJob],
    actor: str,
) -> tuple[list[str], list[str]]:
    return await cover(
        session,
        settings,
        locked,
        actor,
        reason=str(incident.kind),
        avoid_vehicles=frozenset({incident.vehicle_id}) if incident.vehicle_id else frozenset(),
        avoid_drivers=frozenset({incident.driver_id}) if incident.driver_id else frozenset(),
        incident_id=incident.id,
    )


async def cover(
    session: AsyncSession,
    settings: Settings,
    locked: dict[str, TransferJob],
    actor: str,
    *,
    reason: str,
    avoid_vehicles: frozenset[int] = frozenset(),
    avoid_drivers: frozenset[int] = frozenset(),
    **cause: object,
) -> tuple[list[str], list[str]]:
    """Give the `locked` jobs not yet with the guest on board another crew, avoiding the
    vehicles and drivers named (the other crew member kept where still valid): reassigned (the
    guest told, `transfer.reassigned` with `reason`) or escalated (requested, flagged uncovered
    and escalated). An incident's and a maintenance period's (fleet.py) way; `cause` goes into
    each audit line. Answers (reassigned, escalated) ids."""
    # Still hit once locked (a concurrent change may have moved one), earliest pickup first.
    affected = sorted(
        (j for j in locked.values() if j.status in REPLACEABLE),
        key=lambda j: (j.pickup_time, j.id),
    )
    reassigned: list[str] = []
    escalated: list[str] = []
    for job in affected:
        previous = job.status
        before = (job.vehicle_id, job.driver_id)
        keep = (
            None if job.vehicle_id in avoid_vehicles else job.vehicle_id,
            None if job.driver_id in avoid_drivers else job.driver_id,
        )
        jobs.release_crew(job)
        job.en_route_at = job.on_site_at = None  # the new crew has done neither yet
        jobs.touch(job)
        picked = await assign(
            session,
            job,
            settings,
            keep=keep,
            avoid_vehicles=avoid_vehicles,
            avoid_drivers=avoid_drivers,
        )
        session.add(job)
        detail = {
            **cause,
            "reason": reason,
            "previous_vehicle_id": before[0],
            "previous_driver_id": before[1],
        }
        if picked is not None:
            outbound.drop_flag(job, "uncovered", "escalated")
            audit.record(
                session,
                job.id,
                actor,
                "reassigned",
                vehicle_id=picked.vehicle.id,
                driver_id=picked.driver.id,
                **detail,
            )
            add_event(session, outbound.reassigned(job, reason, picked.vehicle, picked.driver))
            reassigned.append(job.id)
        else:
            outbound.add_flag(job, "uncovered", "escalated")
            audit.record(
                session, job.id, actor, "escalated", uncovered_reason=job.uncovered_reason, **detail
            )
            add_event(session, outbound.status_changed(job, previous, job.updated_at))
            escalated.append(job.id)
        await session.flush()  # the next job's checks see this one's crew
    return reassigned, escalated


async def resolve(
    session: AsyncSession, settings: Settings, incident_id: int, actor: str
) -> IncidentPublic:
    incident = (
        await session.exec(select(Incident).where(Incident.id == incident_id).with_for_update())
    ).first()
    if incident is None:
        raise NotFound("incident", incident_id)
    if incident.status != "open":
        raise ProblemError(409, "incident_resolved", "The incident is already resolved.")
    incident.status = "resolved"
    incident.resolved_at = utcnow()
    session.add(incident)
    await session.flush()
    await coverage.retry_uncovered(session, settings)
    return public(incident)


async def get(session: AsyncSession, incident_id: int) -> IncidentPublic:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("incident", incident_id)
    return public(incident)


async def list_incidents(
    session: AsyncSession,
    paging: Paging,
    *,
    status: str | None,
    vehicle_id: int | None,
    driver_id: int | None,
) -> Page[IncidentPublic]:
    query = select(Incident)
    if status is not None:
        query = query.where(Incident.status == status)
    # Only the filters given: `column == None` would read "IS NULL" and match every
    # incident without a driver (each vehicle breakdown) when only the vehicle is asked.
    wanted = []
    if vehicle_id is not None:
        wanted.append(col(Incident.vehicle_id) == vehicle_id)
    if driver_id is not None:
        wanted.append(col(Incident.driver_id) == driver_id)
    if wanted:
        query = query.where(or_(*wanted))
    page = await keyset_page(session, query, paging, col(Incident.id))
    return page.map(public)
