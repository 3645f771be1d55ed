"""The guest CRM's events (issue 19): the guest's contact preferences held (preferences.py), an
erased guest purged (erasure.py), and the CRM's notices queued by those preferences (reach.py).

Each handler runs in the inbox's transaction (once per event); a snapshot of preferences is
ordered by the profile's version, so a redelivered or overtaken one changes nothing.
"""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from hotel_common.contracts.guests import (
    BirthdayBenefitGranted,
    ComplaintNotice,
    GuestContactPreferencesChanged,
    GuestErased,
    LoyaltyTierChanged,
    PointsExpiring,
    SurveyRequested,
)
from hotel_common.time import as_utc, utcnow
from sqlalchemy import or_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import erasure, guest_notices, preferences, reach, reminders, statuses
from notification_service.models import Kind, Notification, Purpose, Reason, Status
from notification_service.notices import Notice

if TYPE_CHECKING:  # handlers.py builds these beside its own
    from notification_service.handlers import NoticeHandlers

log = logging.getLogger(__name__)
# The events whose notice goes to the one guest they carry the address of.
E = TypeVar("E", SurveyRequested, ComplaintNotice, PointsExpiring, BirthdayBenefitGranted)


class GuestHandlers:
    def __init__(self, notices: "NoticeHandlers") -> None:
        self.notices = notices
        self.signature = notices.signature

    async def _tell(
        self,
        session: AsyncSession,
        event: E,
        build: Callable[[E, str | None, str], Notice],
        kind: Kind,
    ) -> None:
        """Queue the notice `build` makes of an event addressed to one guest (its `guest_id`,
        `email`, `phone`), signed with the hotel's signature."""
        await self.notices.tell(
            session,
            event,
            lambda lang: build(event, lang, self.signature),
            guest_id=event.guest_id,
            email=event.email,
            phone=event.phone,
            kind=kind,
        )

    async def preferences_changed(
        self, session: AsyncSession, event: GuestContactPreferencesChanged
    ) -> None:
        if (wishes := await preferences.apply(session, event)) is not None:
            await _withhold_unconsented(session, wishes)

    async def guest_erased(self, session: AsyncSession, event: GuestErased) -> None:
        # Issue 20: their reminders first. A reminder being fired holds its row locked while
        # it queues the notice; forgetting the reminders waits for that firing to commit, so the
        # notices' purge below (a later statement, PostgreSQL READ COMMITTED) sees its notice.
        # The other way round the purge ran first and missed it: queued, with the address.
        await reminders.forget(session, event)
        await erasure.erase(session, event)

    async def survey_requested(self, session: AsyncSession, event: SurveyRequested) -> None:
        if as_utc(event.expires_at) <= utcnow():
            log.info("survey link expired before it could be sent", extra={"id": event.event_id})
            return
        await self._tell(session, event, guest_notices.survey, Kind.SURVEY_INVITATION)

    async def complaint_notice(self, session: AsyncSession, event: ComplaintNotice) -> None:
        await self._tell(
            session, event, guest_notices.complaint, guest_notices.complaint_kind(event)
        )

    async def points_expiring(self, session: AsyncSession, event: PointsExpiring) -> None:
        await self._tell(session, event, guest_notices.points_expiring, Kind.POINTS_EXPIRING)

    async def birthday(self, session: AsyncSession, event: BirthdayBenefitGranted) -> None:
        await self._tell(session, event, guest_notices.birthday, Kind.BIRTHDAY_GREETING)

    async def tier_changed(self, session: AsyncSession, event: LoyaltyTierChanged) -> None:
        kind = guest_notices.tier_kind(event)
        if kind is None:
            log.info("tier change not announced", extra={"reason": event.reason})
            return
        await self.notices.tell(
            session,
            event,
            lambda lang: guest_notices.tier_changed(event, lang, self.signature),
            guest_id=event.guest_id,
            email=event.emails[0] if event.emails else None,
            phone=event.phones[0] if event.phones else None,
            kind=kind,
        )


async def _withhold_unconsented(session: AsyncSession, wishes: preferences.Wishes) -> None:
    """A marketing notice still waiting (quiet hours) on a channel the guest no longer consents
    to for marketing is not sent: the latest word wins, also over what was queued before it."""
    allowed = [c for c in reach.SENDABLE if wishes.consents.get((c, "marketing")) is True]
    now = utcnow()
    withheld = await statuses.change(
        session,
        col(Notification.guest_id) == wishes.guest_id,
        col(Notification.purpose) == Purpose.MARKETING,
        col(Notification.status) == Status.QUEUED,
        col(Notification.channel).not_in(allowed),
        or_(col(Notification.leased_until).is_(None), col(Notification.leased_until) <= now),
        values={"status": Status.SUPPRESSED, "reason": Reason.WITHHELD, "next_attempt_at": None},
        at=now,
    )
    if withheld:
        log.info(
            "waiting marketing notices withheld: consent withdrawn",
            extra={"guest_id": wishes.guest_id, "count": withheld},
        )
