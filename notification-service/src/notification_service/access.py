"""Who reads which notices (the access policy, docs/access.md): the front desk and managers
every notice; a signed-in guest the notices sent to their email; a booking holder its
booking's. Managers retry failed ones. Sign-in codes are never listed or shown to anyone
(delivery_log.LISTED), admin included.

The rule is a condition added to the query itself, so a notice the caller may not see is
neither listed nor found by id (404).
"""

from fastapi import Depends
from hotel_common.principal import Kind, Principal, Role, refused, require
from sqlalchemy import ColumnElement, and_, false, func
from sqlmodel import col

from notification_service.models import Kind as NoticeKind
from notification_service.models import Notification

SEES_ALL = (Role.FRONT_DESK, Role.MANAGER)

may_retry = Depends(require(Role.MANAGER))


def notices_visible_to(principal: Principal) -> ColumnElement[bool] | None:
    """The condition on notices `principal` may read (None: every listed notice); raises the
    401/403 refusal for a caller who may read none by their kind or role."""
    if principal.kind is Kind.STAFF and principal.has(*SEES_ALL):
        return None
    if principal.kind is Kind.GUEST:
        # Notices go to email addresses; a guest signed in by phone has none of their own.
        if not principal.email:
            return false()
        # Issue 21: a partner's notice is not a guest's, whoever shares its address.
        return and_(
            func.lower(Notification.email) == principal.email.lower(),
            col(Notification.kind) != NoticeKind.PARTNER_WEBHOOK_DISABLED,
        )
    if principal.kind is Kind.BOOKING and principal.reservation_id:
        return col(Notification.reservation_id) == principal.reservation_id
    raise refused(principal)


# Issue 20: notice templates. Reading and previewing: the managers, marketing (who write
# the words) and the front desk (who answer guests about them); changing them: managers.
may_read_templates = Depends(require(Role.MANAGER, Role.MARKETING, Role.FRONT_DESK))
may_write_templates = Depends(require(Role.MANAGER))
