"""A guest erased (GuestErased): every notice of theirs loses its address and text, the ones
still waiting are never sent, their contact preferences go (a tombstone of the profile id and
version stays), and the service's outbox and Idempotency-Key records holding their contacts are
scrubbed (hotel_common.erasure). Issue 20: their app inbox, push devices, reminders and
bad-address marks (hashes of their addresses, still theirs) go as well. The rows stay as
counts: kind, status, channel, times.

A notice is theirs by the profile id it went to, by one of their bookings, or by one of their
addresses (any case) or phone numbers.
"""

import logging
from datetime import datetime

from hotel_common.contracts.guests import GuestErased
from hotel_common.erasure import scrub
from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import bad_addresses, devices, inbox, preferences, statuses
from notification_service.models import Notification, Reason, Status

log = logging.getLogger(__name__)

BLANK = ""  # the subject and body of an erased notice


def _theirs(event: GuestErased) -> ColumnElement[bool]:
    emails = [e.strip().lower() for e in event.emails if e.strip()]
    phones = [p.strip() for p in event.phones if p.strip()]
    conditions: list[ColumnElement[bool]] = [col(Notification.guest_id) == event.guest_id]
    if event.reservation_ids:
        conditions.append(col(Notification.reservation_id).in_(event.reservation_ids))
    if emails:
        conditions.append(func.lower(Notification.email).in_(emails))
    if phones:
        conditions.append(col(Notification.phone).in_(phones))
    return or_(*conditions)


class ErasedBooking(SQLModel, table=True):
    """A booking whose guest was erased: no notice of it is queued any more. Its events still
    in flight (a confirmation retried, a pickup) carry the person's address; they are the
    booking's, not the guest's, so only the booking's id can stop them. Ids only, no person."""

    __tablename__ = "erased_bookings"

    reservation_id: str = Field(primary_key=True, max_length=64)
    erased_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


async def booking_erased(session: AsyncSession, reservation_id: str) -> bool:
    query = select(ErasedBooking.reservation_id).where(
        ErasedBooking.reservation_id == reservation_id
    )
    return (await session.exec(query)).first() is not None


async def erase(session: AsyncSession, event: GuestErased) -> dict[str, int]:
    """Purge what this service holds of the guest; counts of what was touched (no values)."""
    theirs = _theirs(event)
    # Issue 20: lock their notices before purging. A deadline or receipt falling back holds
    # the old notice's row while it inserts the next channel's; this waits for that commit,
    # so the purge's statements below (later snapshots, PostgreSQL READ COMMITTED) see the
    # fallback too. Without it the purge waited only on the old row and missed the new one,
    # left queued with the guest's address. (SQLite: the write lock serialises anyway.)
    await session.exec(select(Notification.id).where(theirs).with_for_update())
    # Waiting ones first, while their status still tells them apart: never sent now. One a
    # sender holds this instant may still go (its outcome then finds the row no longer queued).
    stopped = await statuses.change(
        session,
        theirs,
        col(Notification.status) == Status.QUEUED,
        values={
            "status": Status.SUPPRESSED,
            "reason": Reason.ERASED,
            "next_attempt_at": None,
            "leased_until": None,
        },
    )
    blanked = await session.exec(
        update(Notification)
        .where(theirs)
        .values(
            email=BLANK,
            phone=None,
            subject=BLANK,
            body=BLANK,
            html=None,  # issue 20: the email's HTML part holds the same words
            calendar=None,
            secret=None,
            last_error=None,
            # Issue 20: the other channels' addresses and texts, and no deadline fallback.
            fallback=None,
            deliver_by=None,
            guest_id=event.guest_id,  # still countable per profile
        )
        .execution_options(synchronize_session=False)
    )
    for reservation_id in event.reservation_ids:
        await session.merge(ErasedBooking(reservation_id=reservation_id))
    contacts = await preferences.forget(
        session, event.guest_id, event.aggregate_version, event.emails, event.phones
    )
    scrubbed = await scrub(session, [*event.emails, *event.phones])
    # Issue 20: the app's inbox copies and the push devices signed in with their contacts.
    inbox_messages = await inbox.erase(session, event.guest_id, event.emails, event.phones)
    push_devices = await devices.erase(session, event.emails, event.phones)
    # An address's hash is still the guest's data: their bad-address marks go too.
    bad = await bad_addresses.forget(session, event.emails, event.phones)
    counts = {
        "notices": blanked.rowcount,
        "notices_stopped": stopped,
        "contacts": contacts,
        "inbox_messages": inbox_messages,
        "push_devices": push_devices,
        "bad_addresses": bad,
        **{f"scrubbed_{table}": rows for table, rows in scrubbed.items()},
    }
    log.info("guest erased: notices purged", extra={"guest_id": event.guest_id, **counts})
    return counts


async def stop_late(session: AsyncSession, now: datetime) -> int:
    """Notices queued for an erased guest after the erasure purged theirs (a handler on another
    replica checked before the erasure committed and queued after it): never sent, blanked like
    the rest. The sender runs this as it claims, so such a notice cannot go out."""
    erased_booking = (
        select(ErasedBooking.reservation_id)
        .where(ErasedBooking.reservation_id == Notification.reservation_id)
        .exists()
    )
    erased_guest = (
        select(preferences.NoticePreferences.guest_id)
        .where(
            preferences.NoticePreferences.guest_id == Notification.guest_id,
            col(preferences.NoticePreferences.erased_at).is_not(None),
        )
        .exists()
    )
    stopped = await statuses.change(
        session,
        col(Notification.status) == Status.QUEUED,
        or_(col(Notification.leased_until).is_(None), col(Notification.leased_until) <= now),
        or_(erased_booking, erased_guest),
        values={
            "status": Status.SUPPRESSED,
            "reason": Reason.ERASED,
            "next_attempt_at": None,
            "email": BLANK,
            "phone": None,
            "subject": BLANK,
            "body": BLANK,
            "html": None,
            "calendar": None,
            "secret": None,
            "fallback": None,
            "deliver_by": None,
        },
        at=now,
        synchronize_session=False,
    )
    if stopped:
        log.info("notices queued after their guest's erasure stopped", extra={"count": stopped})
    return stopped
