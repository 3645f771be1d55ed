"""Who sees which transfer jobs (the access policy, docs/access.md): dispatch, the front desk
and managers every job; a driver only the jobs assigned to them; a signed-in guest the jobs
booked under their address; a booking holder the job of its booking. Everyone else is refused.

The rule is a condition added to the query itself, so a job the caller may not see is neither
listed nor found by id (404, as if it did not exist).
"""

from hotel_common.principal import Kind, Principal, Role, refused
from sqlalchemy import ColumnElement, false, func, or_
from sqlmodel import col

from transfer_service.models import TransferJob

# Staff roles that see every job (admin holds every role).
SEES_ALL = (Role.DISPATCHER, Role.FRONT_DESK, Role.MANAGER)
# Who may report a job's progress: dispatch for any job, a driver for their own.
REPORTS_PROGRESS = (Role.DISPATCHER, Role.DRIVER)


def sees_all(principal: Principal) -> bool:
    return principal.kind is Kind.STAFF and principal.has(*SEES_ALL)


def jobs_visible_to(principal: Principal) -> ColumnElement[bool] | None:
    """The condition on `TransferJob` rows `principal` may see (None: every row); raises the
    401/403 refusal for a caller who may see none by their kind or role."""
    if sees_all(principal):
        return None
    if principal.kind is Kind.STAFF and principal.has(Role.DRIVER):
        if principal.driver_id is None:  # a driver account not linked to a driver row
            return false()
        return col(TransferJob.driver_id) == principal.driver_id
    if principal.kind is Kind.GUEST:
        # By the address the guest signed in with; events carry emails in any case.
        mine: list[ColumnElement[bool]] = []
        if principal.email:
            mine.append(func.lower(TransferJob.guest_email) == principal.email.lower())
        if principal.phone:
            mine.append(col(TransferJob.guest_phone) == principal.phone)
        return or_(*mine) if mine else false()
    if principal.kind is Kind.BOOKING and principal.reservation_id:
        return col(TransferJob.reservation_id) == principal.reservation_id
    raise refused(principal)


def progress_jobs_of(principal: Principal) -> ColumnElement[bool] | None:
    """The jobs whose progress `principal` may report (None: every job); refused otherwise."""
    if principal.kind is not Kind.STAFF or not principal.has(*REPORTS_PROGRESS):
        raise refused(principal)
    if principal.has(Role.DISPATCHER):
        return None
    if principal.driver_id is None:
        return false()
    return col(TransferJob.driver_id) == principal.driver_id
