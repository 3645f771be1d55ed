"""Issue 20: the booking's events told to its guest beyond handlers.py's (booking_notices.py):
the request taken, a no-show, thanks after check-out. A guarantee that expired is picked by
NoticeHandlers.reservation_cancelled. Each goes through NoticeHandlers.tell (preferences,
consent, quiet hours, channels), once per event (the inbox), never after the booking's
cancellation or the guest's erasure.
"""

import logging
from typing import TYPE_CHECKING

from hotel_common.contracts.reservations import (
    ReservationCheckedOut,
    ReservationCreated,
    ReservationNoShow,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import booking_notices, erasure
from notification_service.models import Kind

if TYPE_CHECKING:
    from notification_service.handlers import NoticeHandlers

log = logging.getLogger(__name__)


class BookingHandlers:
    def __init__(self, notices: "NoticeHandlers") -> None:
        self.notices = notices

    async def reservation_created(self, session: AsyncSession, event: ReservationCreated) -> None:
        from notification_service.handlers import _cancelled  # one rule for every notice

        if await _cancelled(session, event.reservation_id):
            return
        await self.notices.tell(
            session,
            event,
            lambda lang: booking_notices.created(event, lang),
            contact=event.guest,
            kind=Kind.RESERVATION_CREATED,
        )

    async def reservation_no_show(self, session: AsyncSession, event: ReservationNoShow) -> None:
        if await erasure.booking_erased(session, event.reservation_id):
            return
        await self.notices.tell(
            session,
            event,
            lambda lang: booking_notices.no_show(event, lang),
            contact=event.guest,
            kind=Kind.RESERVATION_NO_SHOW,
        )

    async def reservation_checked_out(
        self, session: AsyncSession, event: ReservationCheckedOut
    ) -> None:
        if await erasure.booking_erased(session, event.reservation_id):
            return
        await self.notices.tell(
            session,
            event,
            lambda lang: booking_notices.stay_thanks(event, lang),
            contact=event.guest,
            kind=Kind.STAY_THANKS,
        )
