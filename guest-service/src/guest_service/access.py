"""Who reaches guest profiles (the access policy, docs/access.md): desk staff (front desk,
reservations, managers) read and change them in full, the ID document number masked; marketing
reads them with contacts and address masked and the birth date withheld; the full ID document
goes to the front desk and managers only, each read audited; a signed-in guest reads and changes
only their own profile (`/me`). Everyone else is refused."""

from typing import TypeVar

from fastapi import Depends
from hotel_common.principal import Kind, Principal, PrincipalDep, Role, masked, refused, require

from guest_service.models import GuestPublic

DESK = (Role.FRONT_DESK, Role.RESERVATIONS, Role.MANAGER)
READERS = (*DESK, Role.MARKETING)
# The ID document is the most sensitive field: those who check guests in, and their manager.
DOCUMENT_READERS = (Role.FRONT_DESK, Role.MANAGER)
AUDITORS = (Role.MANAGER,)  # who reads the audit of personal-data reads (admin always)

# Route dependencies: who may call at all (401 anonymous, 403 other kinds and roles).
may_read = Depends(require(*READERS))
may_write = Depends(require(*DESK))
may_read_documents = Depends(require(*DOCUMENT_READERS))
may_audit = Depends(require(*AUDITORS))
may_administer = Depends(require())  # admin only

G = TypeVar("G", bound=GuestPublic)


def sees_contacts(principal: Principal) -> bool:
    """Whether the caller sees guests' contacts, address and birth date in full (marketing
    does not)."""
    return principal.kind is Kind.STAFF and principal.has(*DESK)


def shown_to(principal: Principal, guest: G) -> G:
    """The profile as `principal` may see it: for a role that does not need them, contacts and
    address masked, birth date and document withheld (a masked date would still be a date)."""
    if sees_contacts(principal):
        return guest
    contacts = [c.model_copy(update={"value": masked(c.value)}) for c in guest.contacts]
    return guest.model_copy(
        update={
            "email": masked(guest.email),
            "phone": masked(guest.phone),
            "contacts": contacts,
            "address": masked(guest.address),
            "birth_date": None,
            "document_number": None,
        }
    )


async def guest_address(principal: PrincipalDep) -> Principal:
    """Dependency of `/me`: a signed-in guest (401 anonymous, 403 any other caller)."""
    if principal.kind is not Kind.GUEST:
        raise refused(principal)
    return principal


# -- the guest's word and rights (privacy.py, rights.py) --------------------------------------
# Consents and contact preferences: readers as for profiles (marketing must know who agreed);
# recorded by desk staff from what the guest said. Export and erasure: managers (and the guest
# for themselves, under /me).
may_read_privacy = Depends(require(*READERS))
may_record_privacy = Depends(require(*DESK))
RIGHTS = (Role.MANAGER,)
may_exercise_rights = Depends(require(*RIGHTS))
