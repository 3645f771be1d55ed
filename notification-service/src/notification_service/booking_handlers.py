"""Issue 20: the booking's events told to its guest beyond handlers.py's (booking_notices.py):
the request taken, a no-show, thanks after check-out. A guarantee that expired is picked by
NoticeHandlers.reservation_cancelled. Each goes through NoticeHandlers.tell (preferences,
consent, quiet hours, channels), once per event (the inbox), never after the booking's
cancellation or the guest's erasure.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from hotel_common.contracts.reservations import (
    ReservationCheckedOut,
    ReservationCreated,
    ReservationNoShow,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import booking_notices, erasure
from notification_service.models import Kind
from notification_service.notices import Notice

if TYPE_CHECKING:
    from notification_service.handlers import NoticeHandlers

log = logging.getLogger(__name__)


class BookingHandlers:
    def __init__(self, notices: "NoticeHandlers") -> None:
        self.notices = notices

    async def _tell(
        self,
        session: AsyncSession,
        event: ReservationCreated | ReservationNoShow | ReservationCheckedOut,
        build: Callable[[str | None], Notice],
        kind: Kind,
        *,
        stopped: Callable[[AsyncSession, str], Awaitable[bool]],
    ) -> None:
        """Tell the booking's guest, unless `stopped` says the booking may no longer be told."""
        if await stopped(session, event.reservation_id):
            return
        await self.notices.tell(session, event, build, contact=event.guest, kind=kind)

    async def reservation_created(self, session: AsyncSession, event: ReservationCreated) -> None:
        from notification_service.handlers import _cancelled  # one rule for every notice

        await self._tell(
            session,
            event,
            lambda lang: booking_notices.created(event, lang),
            Kind.RESERVATION_CREATED,
            stopped=_cancelled,
        )

    async def reservation_no_show(self, session: AsyncSession, event: ReservationNoShow) -> None:
        await self._tell(
            session,
            event,
            lambda lang: booking_notices.no_show(event, lang),
            Kind.RESERVATION_NO_SHOW,
            stopped=erasure.booking_erased,
        )

    async def reservation_checked_out(
        self, session: AsyncSession, event: ReservationCheckedOut
    ) -> None:
        await self._tell(
            session,
            event,
            lambda lang: booking_notices.stay_thanks(event, lang),
            Kind.STAY_THANKS,
            stopped=erasure.booking_erased,
        )
