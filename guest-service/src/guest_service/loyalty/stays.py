"""What bookings mean for loyalty: a member's confirmed booking holds its points pending, a
change moves them, a cancellation or a no-show reverses them, and the check-out posts them from
the settled folio, enrols a guest whose folio reached the minimum and re-evaluates the tier.

Subscribed after the handlers that link the stay to its profile (handlers.py), so the stay
names the guest; if it does not yet (the confirmation is still to come) the event is retried.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import NamedTuple, cast

from hotel_common.contracts.reservations import (
    ReservationCancelled,
    ReservationCheckedOut,
    ReservationConfirmed,
    ReservationModified,
    ReservationNoShow,
)
from sqlalchemy import Table, bindparam
from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import matching, money
from guest_service.config import Settings
from guest_service.loyalty import ledger, members
from guest_service.models import Guest, GuestStatus, GuestStay, StayStatus
from guest_service.models.loyalty import EnrolledBy, LoyaltyMember, MemberStatus

log = logging.getLogger(__name__)


class _Stay(NamedTuple):
    guest_id: str
    status: str
    member_status: str | None  # the guest's membership's, None: not a member


# Built once (their cache keys too): the hold runs for every confirmed booking.
_stays = cast(Table, GuestStay.__table__)  # type: ignore[attr-defined]
_guests = cast(Table, Guest.__table__)  # type: ignore[attr-defined]
_members = cast(Table, LoyaltyMember.__table__)  # type: ignore[attr-defined]
_STAY_GUEST = sa_select(_stays.c.guest_id).where(
    _stays.c.reservation_id == bindparam("reservation_id")
)
_LOCK_GUEST = (
    sa_select(_guests.c.status).where(_guests.c.id == bindparam("guest_id")).with_for_update()
)
_STAY_AND_MEMBER = (
    sa_select(_stays.c.guest_id, _stays.c.status, _members.c.status)
    .select_from(_stays.outerjoin(_members, _members.c.guest_id == _stays.c.guest_id))
    .where(_stays.c.reservation_id == bindparam("reservation_id"))
)


async def _members_stay(session: AsyncSession, reservation_id: str) -> _Stay | None:
    """The reservation's stay and its guest's membership status, the profile locked until
    commit and active; None when the profile was erased (the hotel forgot the person: no
    points, no membership).

    The profile is locked before the membership is read, the order merging and erasure take
    them in: a check-out racing an erasure or a merge of its guest waits for it (no deadlock,
    no membership opened for a profile erased meanwhile, no line left on an absorbed account).
    Locked, the profile's stays cannot move, so the stay read again still names it.

    Core statements, not the ORM (the same reads and lock): this runs for every confirmed
    booking, most of them not a member's."""
    conn = await session.connection()
    params = {"reservation_id": reservation_id}
    guest_id = (await conn.execute(_STAY_GUEST, params)).scalar()
    for _ in range(3):  # a merge or its undo moved the stay to another profile meanwhile
        if guest_id is None:
            raise matching.StayNotLinkedYet(reservation_id)
        status = (await conn.execute(_LOCK_GUEST, {"guest_id": guest_id})).scalar()
        row = (await conn.execute(_STAY_AND_MEMBER, params)).first()
        if row is None:
            raise matching.StayNotLinkedYet(reservation_id)
        stay = _Stay(*row)
        if stay.guest_id != guest_id:
            guest_id = stay.guest_id
            continue
        if status != GuestStatus.ACTIVE.value:
            log.info("stay of a profile no longer active", extra={"guest_id": guest_id})
            return None
        return stay
    raise matching.StayNotLinkedYet(reservation_id)  # still moving: the bus retries


async def _active_member(session: AsyncSession, stay: _Stay) -> LoyaltyMember | None:
    """The stay's guest's membership if active (the profile is locked: it stays so); no
    read at all for a guest who is not a member, most of them."""
    if stay.member_status != MemberStatus.ACTIVE.value:
        return None
    member = await members.member_of(session, stay.guest_id)
    return member if member is not None and member.status == MemberStatus.ACTIVE else None


def on_confirmed(
    settings: Settings,
) -> Callable[[AsyncSession, ReservationConfirmed], Awaitable[None]]:
    async def hold_points(session: AsyncSession, booking: ReservationConfirmed) -> None:
        stay = await _members_stay(session, booking.reservation_id)
        if stay is None:
            return
        if stay.status != StayStatus.CONFIRMED.value:
            return  # cancelled or checked out meanwhile: nothing to hold
        member = await _active_member(session, stay)
        if member is None:
            return  # only members earn; a first stay counts at check-out
        points = money.whole_yuan(booking.total_amount, booking.currency, settings.fx_to_cny)
        await ledger.hold(session, member, booking.reservation_id, points)

    return hold_points


def on_modified(
    settings: Settings,
) -> Callable[[AsyncSession, ReservationModified], Awaitable[None]]:
    async def move_points(session: AsyncSession, change: ReservationModified) -> None:
        if await matching.stay_for(session, change.reservation_id) is None:
            return
        stay = await _members_stay(session, change.reservation_id)
        if stay is None or stay.status != StayStatus.CONFIRMED.value:
            return
        member = await _active_member(session, stay)
        if member is None:
            return
        points = money.whole_yuan(change.total_amount, change.currency, settings.fx_to_cny)
        await ledger.hold(session, member, change.reservation_id, points)

    return move_points


async def reverse_points(
    session: AsyncSession, ended: ReservationCancelled | ReservationNoShow
) -> None:
    """A cancelled booking, or one the guest never came to (no-show), earns nothing: its
    pending points are reversed (a posted line, a stay checked out, is left)."""
    if await ledger.reverse(session, ended.reservation_id):
        log.info("pending points reversed", extra={"reservation_id": ended.reservation_id})


def on_checked_out(
    settings: Settings,
) -> Callable[[AsyncSession, ReservationCheckedOut], Awaitable[None]]:
    async def earn(session: AsyncSession, checkout: ReservationCheckedOut) -> None:
        stay = await _members_stay(session, checkout.reservation_id)
        if stay is None:
            return
        guest_id = stay.guest_id
        points = money.whole_yuan(checkout.amount_spent, checkout.currency, settings.fx_to_cny)
        member = await members.member_of(session, guest_id, lock=True)
        # A first qualifying stay enrols (a lapsed member rejoins); a merged or erased
        # membership is closed.
        joinable = member is None or member.status == MemberStatus.LAPSED
        if joinable and points >= settings.loyalty_enrol_min_cny:
            member, _ = await members.enrol(
                session, guest_id, EnrolledBy.STAY, settings, waive_minimum=True
            )
        if member is None or member.status != MemberStatus.ACTIVE:
            return
        await ledger.settle(
            session, member, checkout.reservation_id, points, settings, today=checkout.check_out
        )
        if member.last_stay_at is None or member.last_stay_at < checkout.check_out:
            member.last_stay_at = checkout.check_out
            session.add(member)
        await members.reevaluate(session, member, checkout.check_out, settings)
        log.info("stay points posted", extra={"guest_id": guest_id, "points": points})

    return earn
