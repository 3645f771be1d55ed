"""The guest's rights over what the hotel holds of them: export it all, or be forgotten.

Both walk every part of the CRM (lifecycle.py) in one transaction, so they reach tables this
module does not know.

Erasure, in the caller's transaction, with the profile locked:
1. a profile already erased is a 409 `guest_erased` (never a second event); one merged into
   another is a 409 `guest_merged` naming the survivor: erasing the survivor erases the
   person, and with it every profile merged into it;
2. what other services need to find their copies is read first (the stays' reservation ids,
   the contacts, the names), because the parts then remove it here;
3. each part erases what it holds of each of those profiles; the profiles are marked erased;
4. `GuestErased` is published with those values, and every service removes its copies.
   guest-service consumes it too (`forget_published_erasure`): its shared tables (outbox,
   Idempotency-Key answers) are scrubbed of the values (hotel_common.erasure) once the event
   is out - not here, where the event itself and what parts staged in this transaction (a
   loyalty "erased" tier change) must still go out with the contacts their consumers find
   their copies by. Every earlier row of the transaction has a lower `seq`, so it went out
   before `guest.erased` came back.
"""

from hotel_common.contracts.guests import GuestErased
from hotel_common.erasure import scrub
from hotel_common.events.outbox import add_event
from hotel_common.principal import Principal
from hotel_common.time import utcnow
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, lifecycle, pii_audit, privacy, versions
from guest_service.models import (
    ContactKind,
    ErasurePublic,
    Guest,
    GuestExport,
    GuestRightsRequest,
    GuestStatus,
    GuestStay,
    PiiField,
)


async def export(session: AsyncSession, guest: Guest, by: Principal) -> GuestExport:
    """Everything each part holds of the guest, as one document (the export is recorded). The
    profile part exports the ID document whole, so an export of a profile holding one is also
    a full read of it, audited as `GET /guests/{id}/document` is (pii_audit)."""
    now = utcnow()
    parts = {part.name: await part.export(session, guest.id) for part in lifecycle.parts()}
    session.add(GuestRightsRequest(guest_id=guest.id, kind="export", requested_by=by.id, at=now))
    if guest.document_number is not None:
        pii_audit.record(session, guest.id, PiiField.DOCUMENT, by)
    return GuestExport(guest_id=guest.id, exported_at=now, parts=parts)


async def absorbed_into(session: AsyncSession, guest_id: str) -> list[str]:
    """Every profile merged into this one, directly or through another, oldest first."""
    found: list[str] = []
    frontier = [guest_id]
    while frontier:
        query = (
            select(Guest.id)
            .where(col(Guest.merged_into_id).in_(frontier), Guest.status == GuestStatus.MERGED)
            .order_by(col(Guest.created_at), col(Guest.id))
        )
        frontier = [i for i in (await session.exec(query)).all() if i not in found]
        found.extend(frontier)
    return found


async def erase(session: AsyncSession, guest_id: str, by: str) -> ErasurePublic:
    guest = privacy.require_active(await privacy.locked_guest(session, guest_id))
    ids = [guest.id, *await absorbed_into(session, guest.id)]
    stays = await session.exec(
        select(GuestStay.reservation_id)
        .where(col(GuestStay.guest_id).in_(ids))
        .order_by(col(GuestStay.created_at), col(GuestStay.id))
    )
    reservation_ids = list(dict.fromkeys(stays.all()))
    held = await contact_book.contacts_for(session, ids)
    contacts = [c for i in ids for c in held.get(i, [])]
    emails = list(dict.fromkeys(contact_book.values(contacts, ContactKind.EMAIL)))
    phones = list(dict.fromkeys(contact_book.values(contacts, ContactKind.PHONE)))
    names: list[str] = []
    for profile_id in ids:
        profile = await session.get(Guest, profile_id)
        if profile is not None:
            names += [n for n in (profile.name, profile.native_name, profile.latin_name) if n]
    names = list(dict.fromkeys(names))

    for part in lifecycle.parts():
        for profile_id in ids:
            await part.erase(session, profile_id)
    now = utcnow()
    for profile_id in ids:  # the profile part anonymised them; the status is ours to set
        profile = await session.get(Guest, profile_id)
        if profile is not None:
            profile.status = GuestStatus.ERASED
            profile.erased_at = profile.erased_at or now
            profile.updated_at = now
            session.add(profile)

    version = await versions.next_version(session, guest.id)
    add_event(
        session,
        GuestErased(
            guest_id=guest.id,
            reservation_ids=reservation_ids,
            emails=emails,
            phones=phones,
            names=names,
            erased_at=now,
            aggregate_version=version,
        ),
    )
    detail = {"profiles": ids, "reservation_ids": reservation_ids}
    session.add(
        GuestRightsRequest(
            guest_id=guest.id, kind="erasure", requested_by=by, at=now, detail=detail
        )
    )
    return ErasurePublic(
        guest_id=guest.id,
        erased_at=now,
        erased_by=by,
        profiles=ids,
        reservation_ids=reservation_ids,
    )


async def forget_published_erasure(session: AsyncSession, erased: GuestErased) -> None:
    """guest-service's own `guest.erased`, once out: its outbox row carried the values to the
    other services and is now scrubbed like every other copy."""
    await scrub(session, [*erased.emails, *erased.phones, *erased.names])
