"""Who reaches surveys, follow-ups and complaints (docs/access.md, guest-service feedback).

Answering a survey needs no sign-in: the link's one-time token is the credential. Results are
for marketing and managers; follow-up calls and complaint cases for desk staff (front desk,
reservations, managers); approving a remedy for managers alone. A signed-in guest files
complaints and reads their own cases.
"""

from fastapi import Depends
from hotel_common.principal import Kind, Principal, PrincipalDep, Role, refused, require

DESK = (Role.FRONT_DESK, Role.RESERVATIONS, Role.MANAGER)
RESULT_READERS = (Role.MARKETING, Role.MANAGER)

may_read_results = Depends(require(*RESULT_READERS))
may_follow_up = Depends(require(*DESK))
may_handle_complaints = Depends(require(*DESK))
may_file_complaints = Depends(require(*DESK, kinds=[Kind.GUEST]))


async def _signed_in_guest(principal: PrincipalDep) -> Principal:
    """A signed-in guest only (`require` would admit the admin, who holds every role)."""
    if principal.kind is not Kind.GUEST:
        raise refused(principal)
    return principal


may_read_own_complaints = Depends(_signed_in_guest)
