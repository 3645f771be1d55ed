"""The guests' contact preferences as guest-service publishes them (GuestContactPreferencesChanged,
a whole snapshot each time): one row per guest profile, and an index of the profile's contacts
by hash, so a booking's notice (which names only an email and a phone) finds its guest's wishes.

The newest version of a profile wins (`newer_than_stored`); an erased profile leaves a tombstone
(its id, version and erasure time, nothing of the person) so a late snapshot cannot bring it back
and a late notice for it is not sent.

An email is one profile's (guest-service's rule): the latest snapshot that names it owns it. A
phone may be shared (an agency's call centre number): a notice found by phone alone takes the
profile's wishes only when exactly one profile holds that phone.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from hotel_common.contracts.guests import Consent, GuestContactPreferencesChanged, QuietHours
from hotel_common.events.envelope import newer_than_stored
from hotel_common.time import UtcDateTime, as_utc, utcnow
from sqlalchemy import JSON, Column, Table, bindparam, delete, or_
from sqlalchemy import select as sa_select
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)


class NoticePreferences(SQLModel, table=True):
    __tablename__ = "notice_preferences"

    guest_id: str = Field(primary_key=True, max_length=36)
    version: int | None = None  # the profile's version of the snapshot held
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language: str | None = Field(default=None, max_length=35)
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    quiet_timezone: str | None = Field(default=None, max_length=64)
    # The snapshot's consents as published ({channel, purpose, granted, at, source}).
    consents: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # The profile's contacts: where a notice goes when its event names none for a channel.
    emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    phones: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    erased_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class NoticeContact(SQLModel, table=True):
    """A profile's email or phone by hash: how a notice that names only a contact finds it."""

    __tablename__ = "notice_contacts"

    contact_hash: str = Field(primary_key=True, max_length=64)
    guest_id: str = Field(primary_key=True, max_length=36, index=True)


# Built once (its cache key too): every notice looks its guest's contacts up.
_contacts = cast(Table, NoticeContact.__table__)  # type: ignore[attr-defined]
# Two comparisons, not IN (...): an IN list is re-rendered at every execution. A missing
# contact's hash is NULL, which matches nothing.
_HOLDERS = sa_select(_contacts.c.contact_hash, _contacts.c.guest_id).where(
    or_(
        _contacts.c.contact_hash == bindparam("email_hash"),
        _contacts.c.contact_hash == bindparam("phone_hash"),
    )
)


def contact_hash(kind: str, value: str) -> str:
    """sha256 of "email:<lower-case address>" or "phone:<E.164>"."""
    normal = value.strip().lower() if kind == "email" else value.strip()
    return hashlib.sha256(f"{kind}:{normal}".encode()).hexdigest()


def _hashes(emails: list[str], phones: list[str]) -> tuple[list[str], list[str]]:
    return [contact_hash("email", e) for e in emails], [contact_hash("phone", p) for p in phones]


@dataclass(frozen=True)
class Wishes:
    """How a guest wants to be reached, as the newest snapshot says (reach.py applies it)."""

    guest_id: str
    channels: tuple[str, ...]
    language: str | None
    quiet_hours: QuietHours | None
    # The latest word per (channel, purpose).
    consents: dict[tuple[str, str], bool]
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    erased: bool = False


def _wishes(row: NoticePreferences) -> Wishes:
    quiet = None
    if row.quiet_start and row.quiet_end and row.quiet_timezone:
        quiet = QuietHours(start=row.quiet_start, end=row.quiet_end, timezone=row.quiet_timezone)
    latest: dict[tuple[str, str], tuple[datetime, bool]] = {}
    for raw in row.consents:
        consent = Consent.model_validate(raw)
        key = (consent.channel, consent.purpose)
        at = as_utc(consent.at)
        if key not in latest or at >= latest[key][0]:  # the latest word wins
            latest[key] = (at, consent.granted)
    return Wishes(
        guest_id=row.guest_id,
        channels=tuple(row.channels),
        language=row.language,
        quiet_hours=quiet,
        consents={key: granted for key, (_, granted) in latest.items()},
        emails=tuple(row.emails),
        phones=tuple(row.phones),
        erased=row.erased_at is not None,
    )


async def wishes_of(
    session: AsyncSession,
    *,
    guest_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    held: dict[str, list[str]] | None = None,
) -> Wishes | None:
    """The wishes of the profile named by id, else the one holding `email`, else the only one
    holding `phone`; None when the CRM has told us of none. `held`: the profiles holding the
    two contacts' hashes, when the caller read them already (bad_addresses.holders_and_bad)."""
    if guest_id is not None:
        row = await session.get(NoticePreferences, guest_id)
        if row is not None:
            return _wishes(row)
    wanted = [
        contact_hash(kind, value) if value else None
        for kind, value in (("email", email), ("phone", phone))
    ]
    if not any(wanted):
        return None
    if held is None:
        # Both contacts' holders in one indexed query (most notices find none: no
        # preferences). Core on the connection, after flushing what the caller left pending
        # (as autoflush would).
        if session.new or session.dirty or session.deleted:
            await session.flush()
        conn = await session.connection()
        held = {}
        params = {"email_hash": wanted[0], "phone_hash": wanted[1]}
        for digest, holder in await conn.execute(_HOLDERS, params):
            held.setdefault(digest, []).append(holder)
    for digest in wanted:
        holders = held.get(digest, []) if digest else []
        if len(holders) == 1:  # a shared phone decides nothing
            row = await session.get(NoticePreferences, holders[0])
            if row is not None:
                return _wishes(row)
    return None


async def apply(session: AsyncSession, event: GuestContactPreferencesChanged) -> Wishes | None:
    """Hold the snapshot if it is newer than the one held: the wishes it holds; None when kept."""
    row = await session.get(NoticePreferences, event.guest_id)
    if row is not None and (
        row.erased_at is not None or not newer_than_stored(event.aggregate_version, row.version)
    ):
        log.info(
            "contact preferences not newer than held (or the guest is erased): kept",
            extra={"guest_id": event.guest_id, "version": event.aggregate_version},
        )
        return None
    if row is None:
        row = NoticePreferences(guest_id=event.guest_id)
    quiet = event.quiet_hours
    row.version = event.aggregate_version
    row.channels = list(event.channels)
    row.language = event.language
    row.quiet_start = quiet.start if quiet else None
    row.quiet_end = quiet.end if quiet else None
    row.quiet_timezone = quiet.timezone if quiet else None
    row.consents = [c.model_dump(mode="json") for c in event.consents]
    row.emails = list(event.emails)
    row.phones = list(event.phones)
    row.updated_at = utcnow()
    session.add(row)
    emails, phones = _hashes(row.emails, row.phones)
    await session.exec(delete(NoticeContact).where(col(NoticeContact.guest_id) == event.guest_id))
    if emails:  # an email is one profile's: this newest snapshot takes it
        await session.exec(delete(NoticeContact).where(col(NoticeContact.contact_hash).in_(emails)))
    for value in dict.fromkeys(emails + phones):
        session.add(NoticeContact(contact_hash=value, guest_id=event.guest_id))
    return _wishes(row)


async def forget(
    session: AsyncSession,
    guest_id: str,
    version: int | None,
    emails: list[str],
    phones: list[str],
) -> int:
    """Erasure: drop every contact of the guest and leave a tombstone of the profile (id,
    version, when); how many contact rows went. Another profile's index row of a shared phone
    stays (only its hash; the number is that profile's too)."""
    email_hashes, _ = _hashes(emails, phones)
    gone = await session.exec(
        delete(NoticeContact).where(
            (col(NoticeContact.guest_id) == guest_id)
            | col(NoticeContact.contact_hash).in_(email_hashes)
        )
    )
    row = await session.get(NoticePreferences, guest_id) or NoticePreferences(guest_id=guest_id)
    row.version = max(version or 0, row.version or 0) or None
    row.channels, row.consents, row.emails, row.phones = [], [], [], []
    row.language = row.quiet_start = row.quiet_end = row.quiet_timezone = None
    row.erased_at = row.erased_at or utcnow()
    row.updated_at = utcnow()
    session.add(row)
    return gone.rowcount
