"""The guest's word on being contacted: consents and contact preferences.

Consents are a history: each thing the guest said (granted or withdrawn, on a channel, for a
purpose, at a time, from a source) is a row that never changes, and the latest `at` per
(channel, purpose) is the guest's current word. A word recorded late with an earlier `at` joins
the history without overriding what the guest said since. Nothing recorded means: service
notices allowed (the guest booked with us), marketing not (opt-in).

Every change publishes `GuestContactPreferencesChanged`, a whole snapshot (contacts, channel
order, language, quiet hours, current consents) carrying the profile's version, so
notification-service keeps the newest one and needs no earlier event. The profile row is
locked first, so two changes at once publish two versions in order.
"""

from collections.abc import Sequence
from datetime import datetime

from hotel_common.contracts.guests import (
    Consent,
    GuestContactPreferencesChanged,
    QuietHours,
)
from hotel_common.errors import NotFound, ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.principal import Principal
from hotel_common.time import utcnow
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, profiles, versions
from guest_service.models import (
    ConsentPublic,
    ContactKind,
    ContactPreferencesIn,
    ContactPreferencesPublic,
    Guest,
    GuestConsent,
    GuestContactPreferences,
    GuestStatus,
)
from guest_service.models.privacy import QuietHoursPublic


async def locked_guest(session: AsyncSession, guest_id: str) -> Guest:
    """The profile, locked until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite holds
    its write lock from the first statement)."""
    query = select(Guest).where(Guest.id == guest_id).with_for_update()
    guest = (await session.exec(query.execution_options(populate_existing=True))).first()
    if guest is None:
        raise NotFound("guest", guest_id)
    return guest


def require_active(guest: Guest) -> Guest:
    """409 for a profile merged into another (change the survivor) or erased."""
    if guest.status == GuestStatus.MERGED:
        raise ProblemError(
            409,
            "guest_merged",
            "This profile was merged into another: use that one.",
            merged_into_id=guest.merged_into_id,
        )
    if guest.status == GuestStatus.ERASED:
        raise ProblemError(409, "guest_erased", "This profile was erased.")
    return guest


async def my_guest(session: AsyncSession, principal: Principal) -> Guest:
    """The signed-in guest's profile (profiles.find_own: their email's, else the ONE profile
    holding their phone; a phone on several profiles names nobody)."""
    guest = await profiles.find_own(session, principal.email, principal.phone)
    if guest is None:
        raise NotFound("guest", "me")
    return guest


# -- reading ----------------------------------------------------------------------------------
async def stored_preferences(
    session: AsyncSession, guest_id: str
) -> GuestContactPreferences | None:
    """The row as the database has it now (a merge moves rows between profiles in SQL)."""
    query = select(GuestContactPreferences).where(GuestContactPreferences.guest_id == guest_id)
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def consents_of(session: AsyncSession, guest_id: str) -> list[GuestConsent]:
    """The whole history, oldest word first."""
    query = (
        select(GuestConsent)
        .where(GuestConsent.guest_id == guest_id)
        .order_by(col(GuestConsent.at), col(GuestConsent.recorded_at), col(GuestConsent.id))
    )
    return list((await session.exec(query)).all())


def current(history: Sequence[GuestConsent]) -> list[GuestConsent]:
    """The latest word per (channel, purpose), from a history oldest first."""
    latest: dict[tuple[str, str], GuestConsent] = {}
    for consent in history:
        latest[(consent.channel, consent.purpose)] = consent
    return sorted(latest.values(), key=lambda c: (c.channel, c.purpose))


async def history_page(session: AsyncSession, guest_id: str, paging: Paging) -> Page[ConsentPublic]:
    """The history newest first, keyset-paged on (at, id)."""
    query = select(GuestConsent).where(GuestConsent.guest_id == guest_id)
    page = await keyset_page(
        session, query, paging, col(GuestConsent.at), col(GuestConsent.id), descending=True
    )
    return page.map(ConsentPublic.model_validate)


async def preferences_of(session: AsyncSession, guest: Guest) -> ContactPreferencesPublic:
    stored = await stored_preferences(session, guest.id)
    return _shown(guest, stored, current(await consents_of(session, guest.id)))


def _shown(
    guest: Guest, stored: GuestContactPreferences | None, consents: Sequence[GuestConsent]
) -> ContactPreferencesPublic:
    """The preferences as the API shows them, from the stored row and the current consents."""
    quiet = None
    if stored is not None and stored.quiet_start and stored.quiet_end and stored.quiet_timezone:
        quiet = QuietHoursPublic(
            start=stored.quiet_start, end=stored.quiet_end, timezone=stored.quiet_timezone
        )
    return ContactPreferencesPublic(
        guest_id=guest.id,
        channels=list(stored.channels) if stored else [],
        language=(stored.language if stored else None) or guest.language,
        quiet_hours=quiet,
        consents=[ConsentPublic.model_validate(c) for c in consents],
        updated_at=stored.updated_at if stored else None,
    )


# -- changing ---------------------------------------------------------------------------------
async def set_preferences(
    session: AsyncSession, guest: Guest, data: ContactPreferencesIn, by: str
) -> ContactPreferencesPublic:
    """Replace the guest's preferences (the caller holds the profile's lock) and publish."""
    stored = await stored_preferences(session, guest.id)
    if stored is None:
        stored = GuestContactPreferences(guest_id=guest.id, updated_by=by)
    quiet = data.quiet_hours
    stored.channels = list(data.channels)
    stored.language = data.language
    stored.quiet_start = quiet.start if quiet else None
    stored.quiet_end = quiet.end if quiet else None
    stored.quiet_timezone = quiet.timezone if quiet else None
    stored.updated_by = by
    stored.updated_at = utcnow()
    session.add(stored)
    return await announce(session, guest)


async def record_consent(
    session: AsyncSession,
    guest: Guest,
    *,
    channel: str,
    purpose: str,
    granted: bool,
    source: str,
    by: str,
    at: datetime | None = None,
) -> GuestConsent:
    """Add the guest's word to the history (the caller holds the profile's lock) and
    publish."""
    now = utcnow()
    consent = GuestConsent(
        guest_id=guest.id,
        channel=channel,
        purpose=purpose,
        granted=granted,
        at=at or now,
        source=source,
        recorded_by=by,
        recorded_at=now,
    )
    session.add(consent)
    await announce(session, guest)
    return consent


async def announce(session: AsyncSession, guest: Guest) -> ContactPreferencesPublic:
    """Publish the guest's preferences as they now are (a new profile version), and return
    them as the API shows them. Call it, in the transaction, whenever what the snapshot holds
    changes: preferences, consents, and the profile's contacts or language."""
    await session.flush()
    stored = await stored_preferences(session, guest.id)
    contacts = await contact_book.contacts_of(session, guest.id)
    consents = current(await consents_of(session, guest.id))
    quiet = None
    if stored is not None and stored.quiet_start and stored.quiet_end and stored.quiet_timezone:
        quiet = QuietHours(
            start=stored.quiet_start, end=stored.quiet_end, timezone=stored.quiet_timezone
        )
    version = await versions.next_version(session, guest.id)
    add_event(
        session,
        GuestContactPreferencesChanged(
            guest_id=guest.id,
            emails=contact_book.values(contacts, ContactKind.EMAIL),
            phones=contact_book.values(contacts, ContactKind.PHONE),
            channels=list(stored.channels) if stored else [],
            language=(stored.language if stored else None) or guest.language,
            quiet_hours=quiet,
            consents=[
                Consent(
                    channel=c.channel,
                    purpose=c.purpose,
                    granted=c.granted,
                    at=c.at,
                    source=c.source,
                )
                for c in consents
            ],
            aggregate_version=version,
        ),
    )
    return _shown(guest, stored, consents)
