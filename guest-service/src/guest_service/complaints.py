"""Complaint cases along the manual's steps, with their SLA clock, escalation and compensation.

    received -> validated | rejected
    validated -> assigned -> investigating -> remedy_proposed
    remedy_proposed -> approved (a manager) -> remedied, or -> remedied directly when the remedy
        is worth no more than `complaint_approval_above_cny`
    remedied -> guest_informed -> closed

Every step is a `ComplaintStep` with who took it. Deadlines by severity (Settings) start when
the case is received; time spent waiting on the guest moves them later. The guest is told at
acknowledgement (received), at rejection and at resolution (guest informed): `ComplaintNotice`;
and (issue 20) as "progress" at the steps they would ask about (PROGRESS): the investigation
started, a remedy proposed (or waiting for a manager's approval). The steps in between
(validated, assigned, approved, remedied, closed) are the hotel's own: the next told step or
the outcome follows them.
Compensation is carried out by its owner: points by the ledger, money on the folio and rides by
events reservation- and transfer-service consume.
"""

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from hotel_common.contracts.complaints import (
    FolioCompensationGranted,
    TransferCompensationGranted,
)
from hotel_common.contracts.guests import ComplaintNotice
from hotel_common.errors import NotFound, ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.principal import Kind, Principal
from hotel_common.time import as_utc
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, history, money, profiles, surveys
from guest_service.config import Settings
from guest_service.loyalty import ledger
from guest_service.models import ContactKind, Guest, GuestStatus, GuestStay
from guest_service.models.complaints import (
    CompensationKind,
    Complaint,
    ComplaintChannel,
    ComplaintCreate,
    ComplaintStatus,
    ComplaintStep,
    Severity,
    Transition,
)

log = logging.getLogger(__name__)

S = ComplaintStatus
K = CompensationKind
SYSTEM = "system"

NEXT: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.REJECTED}),
    S.VALIDATED: frozenset({S.ASSIGNED}),
    S.ASSIGNED: frozenset({S.INVESTIGATING}),
    S.INVESTIGATING: frozenset({S.REMEDY_PROPOSED}),
    S.REMEDY_PROPOSED: frozenset({S.APPROVED, S.REMEDIED}),
    S.APPROVED: frozenset({S.REMEDIED}),
    S.REMEDIED: frozenset({S.GUEST_INFORMED}),
    S.GUEST_INFORMED: frozenset({S.CLOSED}),
}
# The SLA clock runs until the guest has the answer (rejected) or the outcome (informed).
CLOCK_STOPPED = frozenset({S.REJECTED, S.GUEST_INFORMED, S.CLOSED})
# What each step takes besides `note` (anything else is refused: nothing is half-applied).
FIELDS: dict[ComplaintStatus, frozenset[str]] = {
    S.VALIDATED: frozenset({"severity"}),
    S.REJECTED: frozenset({"reason"}),
    S.ASSIGNED: frozenset({"department", "owner"}),
    S.REMEDY_PROPOSED: frozenset({"cause", "responsible", "remedy", "compensation"}),
    S.GUEST_INFORMED: frozenset({"guest_reaction"}),
}
REQUIRED: dict[ComplaintStatus, tuple[str, ...]] = {
    S.REJECTED: ("reason",),
    S.ASSIGNED: ("department", "owner"),
    S.REMEDY_PROPOSED: ("cause", "remedy"),
}
MONEY = frozenset({K.REFUND, K.FOLIO_CREDIT, K.VOUCHER})
# Issue 20: the steps the guest hears of as "progress", with the code `outcome` carries (the
# notice's template words it in the guest's language). The machine has no loops, so each is
# told at most once per case.
PROGRESS: dict[ComplaintStatus, str] = {
    S.INVESTIGATING: "investigating",
    S.REMEDY_PROPOSED: "remedy_proposed",
}
AWAITING_APPROVAL = "awaiting_approval"  # a remedy proposed that a manager approves first


def _invalid(code: str, field: str, detail: str) -> ProblemError:
    return ProblemError(422, code, detail, errors=[{"field": field, "message": detail}])


def new_case_number(now: datetime) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"C{now:%y%m%d}-" + "".join(secrets.choice(alphabet) for _ in range(6))


def deadlines(
    settings: Settings, severity: Severity, start: datetime, paused_seconds: int
) -> tuple[datetime, datetime]:
    """(respond by, resolve by) for a case received at `start` that has waited on the guest
    `paused_seconds` so far."""
    paused = timedelta(seconds=paused_seconds)
    respond = timedelta(hours=settings.complaint_response_hours[str(severity)])
    resolve = timedelta(hours=settings.complaint_resolution_hours[str(severity)])
    return as_utc(start) + respond + paused, as_utc(start) + resolve + paused


def record(
    session: AsyncSession,
    case: Complaint,
    step: str,
    actor: str,
    at: datetime,
    note: str | None = None,
    **details: Any,
) -> None:
    session.add(
        ComplaintStep(
            complaint_id=case.id, step=step, actor=actor, at=at, note=note, details=details
        )
    )


def notice(
    case: Complaint,
    stage: Literal["acknowledged", "progress", "resolved", "rejected"],
    outcome: str | None,
) -> ComplaintNotice:
    return ComplaintNotice(
        case_id=case.id,
        case_number=case.case_number,
        stage=stage,
        guest_id=case.guest_id,
        name=case.name,
        email=case.email,
        phone=case.phone,
        language=case.language,
        summary=case.subject,
        outcome=outcome,
        aggregate_version=case.version,
    )


async def get(session: AsyncSession, case_id: str, lock: bool = False) -> Complaint:
    query = select(Complaint).where(Complaint.id == case_id)
    if lock:
        query = query.with_for_update()  # steps of one case one after the other (PostgreSQL)
    case = (await session.exec(query)).first()
    if case is None:
        raise NotFound("complaint", case_id)
    return case


async def steps_of(session: AsyncSession, case_id: str) -> list[ComplaintStep]:
    query = (
        select(ComplaintStep)
        .where(ComplaintStep.complaint_id == case_id)
        .order_by(col(ComplaintStep.at), col(ComplaintStep.id))
    )
    return list((await session.exec(query)).all())


def open_case(
    session: AsyncSession, settings: Settings, case: Complaint, actor: str, now: datetime
) -> Complaint:
    """A new case: its deadlines, its first step, and the acknowledgement to the guest."""
    case.created_at = case.updated_at = now
    case.case_number = new_case_number(now)
    case.response_due_at, case.resolution_due_at = deadlines(settings, case.severity, now, 0)
    session.add(case)
    record(session, case, S.RECEIVED.value, actor, now, channel=str(case.channel))
    add_event(session, notice(case, "acknowledged", None))
    return case


async def file(
    session: AsyncSession,
    settings: Settings,
    body: ComplaintCreate,
    principal: Principal,
    now: datetime,
) -> Complaint:
    """A complaint from desk staff (for a guest they name or a profile they pick) or from the
    signed-in guest (their own profile, channel "app"). 422 for a complainant nobody can
    reach, a profile or stay that does not fit."""
    name: str | None
    booked_by = await surveys.guest_of_stay(session, body.reservation_id)
    if principal.kind is Kind.GUEST:
        for field in ("guest_id", "name", "email", "phone", "channel"):
            if field in body.model_fields_set:
                raise _invalid(
                    "field_not_for_guest", f"body.{field}", f"{field} comes from your profile."
                )
        guest = await profiles.find_own(session, principal.email, principal.phone)
        if guest is None:
            raise ProblemError(
                404, "guest_not_found", "No profile has the address you signed in with."
            )
        channel = ComplaintChannel.APP
        name, email, phone = guest.name, principal.email, principal.phone
    else:
        if body.channel is None:
            raise _invalid("field_required", "body.channel", "Say how the complaint came in.")
        channel = body.channel
        guest = None
        guest_id = body.guest_id or booked_by
        if guest_id is not None:
            guest = await session.get(Guest, guest_id)
            if guest is None or guest.status != GuestStatus.ACTIVE:
                raise _invalid("unknown_guest", "body.guest_id", "No active profile with this id.")
        contacts = await contact_book.contacts_of(session, guest.id) if guest else []
        name = body.name or (guest.name if guest else None)
        email = body.email or contact_book.primary(contacts, ContactKind.EMAIL)
        phone = body.phone or contact_book.primary(contacts, ContactKind.PHONE)
        if name is None:
            raise _invalid("field_required", "body.name", "Name the complainant (or the profile).")
        if email is None and phone is None:
            raise _invalid(
                "contact_required", "body.email", "Give an email or a phone to answer the guest on."
            )
    if guest is not None and booked_by is not None and booked_by != guest.id:
        raise _invalid(
            "reservation_not_guests",
            "body.reservation_id",
            "This booking belongs to another guest.",
        )
    assert name is not None  # both branches made sure
    case = Complaint(
        guest_id=guest.id if guest else None,
        name=name,
        email=email,
        phone=phone,
        language=body.language or (guest.language if guest else None) or "en",
        channel=channel,
        category=body.category,
        severity=body.severity,
        reservation_id=body.reservation_id,
        transfer_id=body.transfer_id,
        subject=body.subject,
        description=body.description,
        demand=body.demand,
        created_by=principal.id,
        case_number="",
        response_due_at=now,
        resolution_due_at=now,
    )
    open_case(session, settings, case, principal.id, now)
    if case.guest_id is not None:
        await history.note_feedback(session, case.guest_id, kind="complaint", reference=case.id)
    if case.reservation_id is not None:
        await surveys.flag_follow_up(session, case.reservation_id)
    await session.flush()
    return case


def remedy_value_cny(settings: Settings, case: Complaint) -> float | None:
    """What the proposed remedy is worth in yuan; None when it cannot be told (a currency
    without a rate), which asks for approval like a large one."""
    kind = case.compensation_kind
    if kind in MONEY:
        currency = (case.compensation_currency or "").upper()
        if currency != "CNY" and currency not in settings.fx_to_cny:
            return None
        return float(money.to_cny(case.compensation_amount or 0, currency, settings.fx_to_cny))
    if kind == K.POINTS:
        return (case.compensation_points or 0) * settings.points_value_cny
    return 0.0  # none, or a free ride (within the desk's say, like a room move)


def _check_fields(case: Complaint, change: Transition) -> None:
    given = {f for f in change.model_fields_set if f not in ("to", "note")}
    allowed = FIELDS.get(change.to, frozenset())
    for field in sorted(given - allowed):
        raise _invalid(
            "field_not_for_step",
            f"body.{field}",
            f"{field} is not given when moving to {change.to}.",
        )
    for field in REQUIRED.get(change.to, ()):
        if getattr(change, field) is None:
            raise _invalid(
                "field_required", f"body.{field}", f"Moving to {change.to} needs {field}."
            )
    compensation = change.compensation
    if compensation is None:
        return
    if compensation.kind == K.POINTS and case.guest_id is None:
        raise _invalid(
            "compensation_needs_guest",
            "body.compensation.kind",
            "Points go to a guest profile: this case has none.",
        )
    if compensation.kind in (K.REFUND, K.FOLIO_CREDIT) and case.reservation_id is None:
        raise _invalid(
            "compensation_needs_booking",
            "body.compensation.kind",
            "A refund or folio credit goes on a booking's folio: this case names none.",
        )
    if compensation.kind == K.FREE_TRANSFER and not (case.transfer_id or case.reservation_id):
        raise _invalid(
            "compensation_needs_booking",
            "body.compensation.kind",
            "A free transfer needs the case's transfer or booking.",
        )


async def _check_folio_currency(session: AsyncSession, case: Complaint, change: Transition) -> None:
    """Money back on the folio is in the folio's currency: reservation-service posts nothing
    in another, so the case would be remedied and the guest told of a refund that never
    comes. 422 `compensation_currency` when the booking's stay says another currency (a
    booking this service does not know is left to reservation-service)."""
    compensation = change.compensation
    if compensation is None or compensation.kind not in (K.REFUND, K.FOLIO_CREDIT):
        return
    query = select(GuestStay.currency).where(GuestStay.reservation_id == case.reservation_id)
    booked = (await session.exec(query)).first()
    given = (compensation.currency or "").upper()
    if booked is not None and booked.upper() != given:
        raise _invalid(
            "compensation_currency",
            "body.compensation.currency",
            f"The booking's folio is in {booked.upper()}: a {compensation.kind.value} goes on "
            f"it in {booked.upper()}, not {given}.",
        )


async def move(
    session: AsyncSession,
    settings: Settings,
    case: Complaint,
    change: Transition,
    actor: str,
    is_manager: bool,
    now: datetime,
) -> Complaint:
    """Take one step (409 `invalid_transition` off the machine; 422 for a missing or foreign
    field; 403 `approval_by_manager`). Nothing is written unless the whole step holds."""
    current = ComplaintStatus(case.status)
    if change.to not in NEXT.get(current, frozenset()):
        raise ProblemError(
            409,
            "invalid_transition",
            f"A case {current.value} cannot move to {change.to.value}.",
            current=current.value,
            allowed=sorted(s.value for s in NEXT.get(current, frozenset())),
        )
    _check_fields(case, change)
    await _check_folio_currency(session, case, change)
    if change.to == S.APPROVED and not is_manager:
        raise ProblemError(403, "approval_by_manager", "Only a manager approves a remedy.")
    if change.to == S.REMEDIED and current == S.REMEDY_PROPOSED and case.needs_approval:
        raise ProblemError(
            409,
            "approval_required",
            "This remedy is worth more than the desk may grant: a manager approves it first.",
        )
    details: dict[str, Any] = {}
    outcome_notice: ComplaintNotice | None = None
    to = change.to
    if to == S.VALIDATED:
        if change.severity is not None and change.severity != case.severity:
            details["severity"] = {"from": str(case.severity), "to": change.severity.value}
            case.severity = change.severity
            case.response_due_at, case.resolution_due_at = deadlines(
                settings, case.severity, case.created_at, case.paused_seconds
            )
        case.responded_at = now
    elif to == S.REJECTED:
        case.rejection_reason = change.reason
        case.responded_at = case.resolved_at = now
    elif to == S.ASSIGNED:
        case.department, case.owner = change.department, change.owner
        details = {"department": case.department, "owner": case.owner}
    elif to == S.REMEDY_PROPOSED:
        case.cause, case.responsible, case.remedy = change.cause, change.responsible, change.remedy
        compensation = change.compensation
        case.compensation_kind = compensation.kind if compensation else K.NONE
        case.compensation_amount = compensation.amount if compensation else None
        case.compensation_currency = compensation.currency if compensation else None
        case.compensation_points = compensation.points if compensation else None
        value = remedy_value_cny(settings, case)
        case.needs_approval = value is None or value > settings.complaint_approval_above_cny
        details = {
            "compensation": str(case.compensation_kind),
            "needs_approval": case.needs_approval,
        }
    elif to == S.APPROVED:
        case.approved_by = actor
    elif to == S.REMEDIED:
        details = await _compensate(session, case)
    elif to == S.GUEST_INFORMED:
        case.guest_reaction = change.guest_reaction
        case.resolved_at = now
    elif to == S.CLOSED:
        case.closed_at = now
    if to in CLOCK_STOPPED and case.waiting_on_guest:
        _resume(case, now)
    case.status = to
    case.version += 1
    case.updated_at = now
    if to == S.REJECTED:
        outcome_notice = notice(case, "rejected", case.rejection_reason)
    elif to == S.GUEST_INFORMED:
        outcome_notice = notice(case, "resolved", outcome_text(case))
    elif to in PROGRESS:
        outcome_notice = notice(case, "progress", progress_code(case, to))
    session.add(case)
    record(session, case, to.value, actor, now, change.note, **details)
    if outcome_notice is not None:
        add_event(session, outcome_notice)
    await session.flush()
    return case


def progress_code(case: Complaint, to: ComplaintStatus) -> str:
    """The step as the guest's progress notice names it (a code, not words)."""
    if to == S.REMEDY_PROPOSED and case.needs_approval:
        return AWAITING_APPROVAL
    return PROGRESS[to]


def outcome_text(case: Complaint) -> str:
    text = case.remedy or ""
    if case.voucher_code:
        text += f" (voucher {case.voucher_code})"
    return text.strip()


async def _compensate(session: AsyncSession, case: Complaint) -> dict[str, Any]:
    """Carry out the remedy's compensation through its owner, once per case."""
    kind = case.compensation_kind
    reason = f"Complaint {case.case_number}: {case.subject}"[:200]
    if kind == K.POINTS and case.guest_id is not None and case.compensation_points:
        await ledger.award(
            session, case.guest_id, case.compensation_points, "compensation", f"complaint:{case.id}"
        )
    elif kind in (K.REFUND, K.FOLIO_CREDIT) and case.reservation_id is not None:
        add_event(
            session,
            FolioCompensationGranted(
                case_id=case.id,
                case_number=case.case_number,
                reservation_id=case.reservation_id,
                kind="refund" if kind == K.REFUND else "credit",
                amount=case.compensation_amount or 0,
                currency=case.compensation_currency or "CNY",
                reason=reason,
                aggregate_version=case.version + 1,
            ),
        )
    elif kind == K.FREE_TRANSFER:
        add_event(
            session,
            TransferCompensationGranted(
                case_id=case.id,
                case_number=case.case_number,
                transfer_id=case.transfer_id,
                reservation_id=case.reservation_id,
                reason=reason,
                aggregate_version=case.version + 1,
            ),
        )
    elif kind == K.VOUCHER:
        case.voucher_code = "V" + secrets.token_hex(5).upper()
    return {"compensation": str(kind)}


def _resume(case: Complaint, now: datetime) -> int:
    """End a wait on the guest: the deadlines move later by its length."""
    since = as_utc(case.paused_since) if case.paused_since else now
    waited = max(int((now - since).total_seconds()), 0)
    case.paused_seconds += waited
    case.response_due_at = as_utc(case.response_due_at) + timedelta(seconds=waited)
    case.resolution_due_at = as_utc(case.resolution_due_at) + timedelta(seconds=waited)
    case.waiting_on_guest = False
    case.paused_since = None
    return waited


async def set_waiting(
    session: AsyncSession,
    case: Complaint,
    waiting: bool,
    actor: str,
    note: str | None,
    now: datetime,
) -> Complaint:
    """Stop the clock while the case waits on the guest, or start it again (409 when it
    already is so, or the case's clock has stopped)."""
    if case.status in CLOCK_STOPPED:
        raise ProblemError(409, "clock_stopped", "This case is answered: its clock has stopped.")
    if waiting == case.waiting_on_guest:
        state = "waits on the guest" if waiting else "is not waiting on the guest"
        raise ProblemError(409, "waiting_unchanged", f"This case already {state}.")
    if waiting:
        case.waiting_on_guest = True
        case.paused_since = now
        record(session, case, "paused", actor, now, note)
    else:
        waited = _resume(case, now)
        record(session, case, "resumed", actor, now, note, waited_seconds=waited)
    case.version += 1
    case.updated_at = now
    session.add(case)
    await session.flush()
    return case


async def escalate_breached(session: AsyncSession, now: datetime) -> list[Complaint]:
    """Escalate every running case past a deadline (a worker step; tests pass `now`): level 1
    when it was not answered in time, 2 when it was not resolved in time. A case waiting on
    the guest is not escalated: its clock stands still. Each level is reached once."""
    running = [s.value for s in S if s not in CLOCK_STOPPED]
    query = (
        select(Complaint)
        .where(
            col(Complaint.status).in_(running),
            col(Complaint.waiting_on_guest).is_(False),
            col(Complaint.escalation_level) < 2,
        )
        .order_by(col(Complaint.created_at), col(Complaint.id))
        .with_for_update(skip_locked=True)
    )
    escalated = []
    for case in (await session.exec(query)).all():
        level, deadline = case.escalation_level, ""
        if as_utc(case.resolution_due_at) <= now:
            level, deadline = 2, "resolution"
        elif case.responded_at is None and as_utc(case.response_due_at) <= now:
            level, deadline = max(level, 1), "response"
        if level == case.escalation_level:
            continue
        case.escalation_level = level
        case.escalated_at = now
        case.version += 1
        case.updated_at = now
        session.add(case)
        record(session, case, "escalated", SYSTEM, now, level=level, deadline=deadline)
        escalated.append(case)
    await session.flush()
    if escalated:
        log.warning("complaints escalated", extra={"count": len(escalated)})
    return escalated
