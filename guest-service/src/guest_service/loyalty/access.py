"""Who reaches loyalty (docs/access.md): desk staff and marketing read members and statements;
desk staff enrol a guest who asks (a manager may waive the qualifying stay); the front desk and
managers redeem points for a guest; a signed-in guest reads, joins and redeems their own
(`/me`). Member views hold no contact data, so nobody needs them masked."""

from fastapi import Depends
from hotel_common.principal import Principal, Role, require

DESK = (Role.FRONT_DESK, Role.RESERVATIONS, Role.MANAGER)
READERS = (*DESK, Role.MARKETING)
REDEEMERS = (Role.FRONT_DESK, Role.MANAGER)

may_read = Depends(require(*READERS))
may_enrol = Depends(require(*DESK))
may_redeem = Depends(require(*REDEEMERS))


def may_waive(principal: Principal) -> bool:
    """Only a manager enrols a guest without a qualifying stay."""
    return principal.is_staff and principal.has(Role.MANAGER)
