"""Complaint cases: filed by desk staff or the signed-in guest, taken step by step by desk staff
(a manager approves a large remedy), the clock paused while waiting on the guest. Who may do
what: `guest_service.feedback_access`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from hotel_common.contract import example
from hotel_common.deps import SessionDep, get_settings
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep, keyset_page
from hotel_common.principal import Kind, PrincipalDep, Role
from hotel_common.time import utcnow
from sqlmodel import col, select

from guest_service import complaints, profiles
from guest_service import feedback_access as access
from guest_service.api.routes.common import GUEST_ID, UNAUTHENTICATED
from guest_service.config import Settings
from guest_service.models.complaints import (
    Complaint,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintPublic,
    ComplaintStatus,
    ComplaintStepPublic,
    MyComplaint,
    Severity,
    Transition,
    Waiting,
)

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])

SettingsDep = Annotated[Settings, Depends(get_settings)]
CASE: dict[str, Any] = {
    "id": "2e4f6a8c-0b1d-4e3f-a5b7-c9d1e3f5a7b9",
    "case_number": "C300601-7K3Q9D",
    "status": "received",
    "guest_id": GUEST_ID,
    "name": "Lin Mei",
    "email": "lin.mei@example.com",
    "phone": "+8613900139000",
    "language": "zh-Hans",
    "channel": "front_desk",
    "category": "noise",
    "severity": "high",
    "reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
    "transfer_id": None,
    "subject": "Construction noise at 7 am",
    "description": None,
    "demand": "A quieter room",
    "department": None,
    "owner": None,
    "cause": None,
    "responsible": None,
    "remedy": None,
    "compensation_kind": "none",
    "compensation_amount": None,
    "compensation_currency": None,
    "compensation_points": None,
    "voucher_code": None,
    "needs_approval": False,
    "approved_by": None,
    "rejection_reason": None,
    "guest_reaction": None,
    "waiting_on_guest": False,
    "response_due_at": "2030-06-01T12:00:00Z",
    "resolution_due_at": "2030-06-04T08:00:00Z",
    "escalation_level": 0,
    "created_by": "staff:7",
    "created_at": "2030-06-01T08:00:00Z",
    "updated_at": "2030-06-01T08:00:00Z",
    "closed_at": None,
}
STEP = {"step": "received", "actor": "staff:7", "at": "2030-06-01T08:00:00Z", "note": None}
DETAIL = CASE | {"steps": [STEP | {"details": {"channel": "front_desk"}}]}
MINE = {k: CASE[k] for k in MyComplaint.model_fields}
DESK_ONLY = {403: "forbidden: desk staff (front desk, reservations, manager) only"}
NOT_FOUND = {404: "complaint_not_found"}


def _detail(case: Complaint, steps: list[Any]) -> ComplaintDetail:
    public = ComplaintPublic.model_validate(case, from_attributes=True)
    return ComplaintDetail.model_validate(
        public.model_dump()
        | {"steps": [ComplaintStepPublic.model_validate(s, from_attributes=True) for s in steps]}
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="File a complaint",
    dependencies=[access.may_file_complaints],
    responses={
        201: example(DETAIL, "Created"),
        **problems(
            {
                **UNAUTHENTICATED,
                403: "forbidden: desk staff, or a signed-in guest for themselves",
                404: "guest_not_found: (a guest) no profile has the address you signed in with",
                422: "field_required, contact_required, unknown_guest, reservation_not_guests, "
                "field_not_for_guest",
            }
        ),
    },
)
async def file_complaint(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, body: ComplaintCreate
) -> ComplaintDetail:
    """Record a complaint (manual: complainant, subject, demand; channel, category, severity,
    the booking or transfer involved). Staff name the complainant or pick their profile (or
    the booking's); a signed-in guest files for themselves. The guest is told it was received
    (`complaint.guest_notice`, acknowledged), and the SLA clock starts."""
    case = await complaints.file(session, settings, body, principal, utcnow())
    await session.commit()
    return _detail(case, await complaints.steps_of(session, case.id))


@router.get(
    "",
    summary="List complaint cases",
    dependencies=[access.may_handle_complaints],
    responses={
        200: example({"items": [CASE], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **DESK_ONLY}),
    },
)
async def list_complaints(
    session: SessionDep,
    paging: PagingDep,
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    severity: Severity | None = None,
    escalated: Annotated[bool | None, Query(description="Only cases past a deadline")] = None,
    guest_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[ComplaintPublic]:
    """Cases newest first; `escalated=true` lists those past a deadline (the managers'
    queue)."""
    query = select(Complaint)
    if status_ is not None:
        query = query.where(Complaint.status == status_)
    if severity is not None:
        query = query.where(Complaint.severity == severity)
    if escalated is not None:
        level = col(Complaint.escalation_level)
        query = query.where(level > 0 if escalated else level == 0)
    if guest_id is not None:
        query = query.where(Complaint.guest_id == guest_id)
    page = await keyset_page(
        session, query, paging, col(Complaint.created_at), col(Complaint.id), descending=True
    )
    return page.map(lambda c: ComplaintPublic.model_validate(c, from_attributes=True))


# Before /{complaint_id}, which would otherwise take "me" for an id.
@router.get(
    "/me",
    summary="My complaints",
    dependencies=[access.may_read_own_complaints],
    responses={
        200: example([MINE]),
        **problems({**UNAUTHENTICATED, 403: "forbidden: only a signed-in guest has their own"}),
    },
)
async def list_my_complaints(session: SessionDep, principal: PrincipalDep) -> list[MyComplaint]:
    """The signed-in guest's cases, newest first, as the guest sees them: where each stands,
    the remedy and any voucher, never staff names or internal findings."""
    guest = await profiles.find_own(session, principal.email, principal.phone)
    if guest is None:
        return []
    query = (
        select(Complaint)
        .where(Complaint.guest_id == guest.id)
        .order_by(col(Complaint.created_at).desc(), col(Complaint.id).desc())
        .limit(100)
    )
    found = (await session.exec(query)).all()
    return [MyComplaint.model_validate(c, from_attributes=True) for c in found]


@router.get(
    "/{complaint_id}",
    summary="Get a complaint with its steps",
    dependencies=[access.may_handle_complaints],
    responses={
        200: example(DETAIL),
        **problems({**UNAUTHENTICATED, **DESK_ONLY, **NOT_FOUND}),
    },
)
async def get_complaint(session: SessionDep, complaint_id: str) -> ComplaintDetail:
    """The case and every step it took, with who took it and when."""
    case = await complaints.get(session, complaint_id)
    return _detail(case, await complaints.steps_of(session, case.id))


@router.post(
    "/{complaint_id}/transitions",
    summary="Move a complaint to its next step",
    dependencies=[access.may_handle_complaints],
    responses={
        200: example(DETAIL | {"status": "validated"}),
        **problems(
            {
                **UNAUTHENTICATED,
                403: "forbidden (desk staff only), or approval_by_manager",
                **NOT_FOUND,
                409: "invalid_transition (off the steps), approval_required",
                422: "field_required, field_not_for_step, compensation_needs_guest, "
                "compensation_needs_booking, compensation_currency (money back in another "
                "currency than the booking's)",
            }
        ),
    },
)
async def move_complaint(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    complaint_id: str,
    body: Transition,
) -> ComplaintDetail:
    """One step: received -> validated | rejected (a reason; the guest is told) -> assigned
    (department, owner) -> investigating -> remedy_proposed (cause, remedy, compensation:
    refund, folio credit, points, voucher or a free transfer) -> approved (a manager; required
    when the remedy is worth more than the configured amount) -> remedied (the compensation is
    carried out by its owner) -> guest_informed (the guest is told the outcome) -> closed."""
    case = await complaints.get(session, complaint_id, lock=True)
    is_manager = principal.kind is Kind.STAFF and principal.has(Role.MANAGER)
    await complaints.move(session, settings, case, body, principal.id, is_manager, utcnow())
    await session.commit()
    return _detail(case, await complaints.steps_of(session, case.id))


@router.put(
    "/{complaint_id}/waiting-on-guest",
    summary="Pause or resume a complaint's SLA clock",
    dependencies=[access.may_handle_complaints],
    responses={
        200: example(DETAIL | {"waiting_on_guest": True}),
        **problems(
            {
                **UNAUTHENTICATED,
                **DESK_ONLY,
                **NOT_FOUND,
                409: "waiting_unchanged, clock_stopped",
            }
        ),
    },
)
async def set_waiting_on_guest(
    session: SessionDep, principal: PrincipalDep, complaint_id: str, body: Waiting
) -> ComplaintDetail:
    """`waiting: true` while the case waits on the guest (an answer, a document): its
    deadlines stand still and it is not escalated; `false` starts the clock again, the
    deadlines moved later by the wait."""
    case = await complaints.get(session, complaint_id, lock=True)
    await complaints.set_waiting(session, case, body.waiting, principal.id, body.note, utcnow())
    await session.commit()
    return _detail(case, await complaints.steps_of(session, case.id))
