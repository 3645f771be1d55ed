"""Consumed events: each queues one notice in the handler's transaction. Sending happens
after the commit (the delivery worker is woken by it), never inside the handler.
"""

import logging
from collections.abc import Callable

from hotel_common.contracts.reservations import ReservationCancelled, ReservationConfirmed
from hotel_common.contracts.transfers import TransferAssigned
from hotel_common.db import after_commit
from hotel_common.events.envelope import Envelope
from hotel_common.service import Runtime, settings_as
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import notices
from notification_service.config import Settings
from notification_service.delivery import delivery_of
from notification_service.models import Notification
from notification_service.rendering import LANGUAGES, resolve_language

log = logging.getLogger(__name__)


class NoticeHandlers:
    """One handler per consumed event; `wake` nudges the delivery worker once a notice commits."""

    def __init__(self, wake: Callable[[], None], signature: str) -> None:
        self.wake = wake
        self.signature = signature  # sign-off where the event names no property

    async def reservation_confirmed(self, session: AsyncSession, envelope: Envelope) -> None:
        event = ReservationConfirmed.from_envelope(_known_language(envelope))
        if await _cancelled(session, event.reservation_id):
            return
        await self._queue(session, envelope, notices.confirmation(event))

    async def transfer_assigned(self, session: AsyncSession, envelope: Envelope) -> None:
        event = TransferAssigned.from_envelope(_known_language(envelope))
        if await _cancelled(session, event.reservation_id):
            return
        await self._queue(session, envelope, notices.pickup(event, self.signature))

    async def reservation_cancelled(self, session: AsyncSession, envelope: Envelope) -> None:
        event = ReservationCancelled.from_envelope(_known_language(envelope))
        await self._queue(session, envelope, notices.cancellation(event))

    async def _queue(
        self, session: AsyncSession, envelope: Envelope, notice: notices.Notice
    ) -> None:
        existing = await session.exec(
            select(Notification.id).where(
                Notification.event_id == envelope.id, Notification.kind == notice.kind
            )
        )
        if existing.first() is not None:  # the inbox already guards; this survives a rename
            return
        rendered = notice.render()
        session.add(
            Notification(
                event_id=envelope.id,
                kind=notice.kind,
                reservation_id=notice.reservation_id,
                confirmation_number=notice.confirmation_number,
                recipient=notice.recipient.strip(),
                language=rendered.language,
                subject=rendered.subject,
                body=rendered.body,
            )
        )
        after_commit(session, self.wake)
        log.info(
            "notice queued",
            extra={"kind": notice.kind, "event_id": envelope.id, "language": rendered.language},
        )


async def _cancelled(session: AsyncSession, reservation_id: str) -> bool:
    """Has the guest been told this booking is cancelled? A confirmation or pickup retried
    after the cancellation overtook it must not reach the guest after the cancellation."""
    told = await session.exec(
        select(Notification.id).where(
            Notification.reservation_id == reservation_id,
            Notification.kind == "reservation_cancelled",
        )
    )
    if told.first() is None:
        return False
    log.info("notice dropped: the booking was cancelled", extra={"reservation_id": reservation_id})
    return True


def _known_language(envelope: Envelope) -> Envelope:
    """Map the guest's language tag onto ours before the contract validates it.

    The contract accepts only en/zh-Hans/zh-Hant; a guest whose profile says "zh-TW" or "fr"
    should still get a notice (in zh-Hant, or in English) rather than a dead-lettered event.
    """
    guest = envelope.payload.get("guest")
    if not isinstance(guest, dict) or guest.get("language") in LANGUAGES:
        return envelope
    tag = guest.get("language")
    language = resolve_language(tag if isinstance(tag, str) else None)
    payload = {**envelope.payload, "guest": {**guest, "language": language}}
    return envelope.model_copy(update={"payload": payload})


def subscribe(runtime: Runtime) -> None:
    handlers = NoticeHandlers(delivery_of(runtime).wake, settings_as(runtime, Settings).sender_name)
    runtime.handle(ReservationConfirmed.event_type, handlers.reservation_confirmed)
    runtime.handle(TransferAssigned.event_type, handlers.transfer_assigned)
    runtime.handle(ReservationCancelled.event_type, handlers.reservation_cancelled)
