"""Modifying a booking (`PATCH /api/v1/reservations/{id}`): dates, room type, guests, rate
plan and the arrival pickup.

A requested or confirmed booking may change. What the change asks is checked as a new booking
would be (dates, capacity, the pickup's window), re-priced by `pricing.quote_stay` (which also
refuses a restricted stay), and for a confirmed booking its holds move in the same
transaction: the old nights are released and the new ones held, and if a new night is full the
old holds are put back and nothing changes (409 `no_availability`). The booking's row lock
(bookings.load(lock=True)) puts a modification and a cancel or another modification of the same
booking one after the other; night rows are locked in one global order (night_locks.py).

A change bumps the version, writes one history line `modified` with what changed, and announces
`reservation.modified` with `changes` ({"field": {"from", "to"}}). A PATCH that changes nothing
answers the booking unchanged, with no new version and no event.
"""

from datetime import date, datetime
from typing import Any

from hotel_common.contracts.reservations import (
    ReservationModified,
    TransferRequest,
)
from hotel_common.errors import ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.principal import Principal
from hotel_common.strict import StrictModel
from hotel_common.time import IsoDate, utcnow
from pydantic import Field as PydanticField
from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import (
    assignment,
    departures,
    history,
    inventory,
    member_rates,
    partner_mappings,
    pricing,
)
from reservation_service.access import Actor, Reach
from reservation_service.bookings import Booking, clock, guest_contact, load, owed_guarantee
from reservation_service.catalog import room_type_by_code
from reservation_service.config import Settings
from reservation_service.lifecycle import departure_request, guarantee_due
from reservation_service.models import (
    DepartureIn,
    InventoryNight,
    RequestedRoomTypeCode,
    Reservation,
    ReservationStatus,
    TransferIn,
    transfers_included,
)
from reservation_service.night_locks import lock_nights
from reservation_service.problems import invalid_field
from reservation_service.stays import check_in_passed, today_at, validate_arrival, validate_stay

MODIFIABLE = (ReservationStatus.REQUESTED, ReservationStatus.CONFIRMED)


class ReservationUpdate(StrictModel):
    """What a booking's modification may change; a field left out stays as it is. `transfer`:
    null removes the pickup; an object replaces it."""

    check_in: IsoDate | None = None
    check_out: IsoDate | None = None
    room_type_code: RequestedRoomTypeCode | None = None
    guests: int | None = PydanticField(default=None, ge=1, le=20)
    rate_plan_code: str | None = PydanticField(
        default=None,
        min_length=1,
        max_length=32,
        description="Re-price under this plan; defaults to the booking's plan (a partner with "
        "a code mapping at the property sends its own code)",
    )
    transfer: TransferIn | None = None
    departure: DepartureIn | None = PydanticField(
        default=None, description="null removes the drop-off; an object replaces it"
    )


_TRANSFER_COLUMNS = (
    "transfer_flight_number",
    "transfer_arrival_time",
    "transfer_pickup_place",
    "transfer_passengers",
    "transfer_luggage",
    "transfer_needs",
)


def _transfer_of(r: Reservation) -> dict[str, Any] | None:
    if r.transfer_arrival_time is None:
        return None
    return {
        "flight_number": r.transfer_flight_number,
        "arrival_time": r.transfer_arrival_time.isoformat(),
        "pickup_place": r.transfer_pickup_place,
        "passengers": r.transfer_passengers,
        "luggage": r.transfer_luggage,
        **(r.transfer_needs or {}),
    }


async def modify(
    session: AsyncSession,
    reservation_id: str,
    data: ReservationUpdate,
    reach: Reach,
    actor: Actor,
    settings: Settings,
    principal: Principal | None = None,
) -> Booking:
    booking = await load(session, reservation_id, reach, lock=True)
    r, prop = booking.reservation, booking.property
    if principal is not None:
        data = await _translated(session, principal, prop.id, data)
    asked = data.model_fields_set
    if not asked:
        return booking
    if r.status not in MODIFIABLE:
        raise ProblemError(
            409,
            "not_modifiable",
            f"A {r.status} booking cannot be modified; only requested and confirmed ones can.",
        )
    if booking.lines and asked - {"transfer", "departure"}:
        # Several rooms: each line has its own type, plan and party; moving them together is
        # not built yet (docs/DECISIONS.md, Issue 17: integration).
        raise ProblemError(
            409,
            "multi_room_not_modifiable",
            "This booking has several rooms: only its transfers can be changed here; "
            "cancel and book again to change its stay.",
        )
    check_in = data.check_in if data.check_in is not None else r.check_in
    check_out = data.check_out if data.check_out is not None else r.check_out
    guests = data.guests if data.guests is not None else r.guests
    room_type = booking.room_type
    if data.room_type_code is not None and data.room_type_code != room_type.code:
        room_type = await room_type_by_code(
            session, prop, data.room_type_code, "body.room_type_code"
        )
    plan_code = data.rate_plan_code or r.rate_plan_code
    dates_changed = (check_in, check_out) != (r.check_in, r.check_out)
    stay_changed = (
        dates_changed
        or room_type.id != r.room_type_id
        or guests != r.guests
        or plan_code != r.rate_plan_code
    )
    if dates_changed:
        validate_stay(
            check_in,
            check_out,
            today=today_at(prop.timezone),
            max_nights=settings.max_stay_nights,
            max_days_ahead=settings.max_booking_horizon_days,
            where="body",
        )
    elif stay_changed and (passed := check_in_passed(check_in, prop.timezone)) is not None:
        raise ProblemError(
            409, "check_in_passed", "The check-in date has passed: change it at the desk."
        ) from passed
    if guests > room_type.capacity:
        raise invalid_field(
            "too_many_guests",
            "body.guests" if data.guests is not None else "body.room_type_code",
            f"Room type {room_type.code} sleeps at most {room_type.capacity} guests.",
        )
    transfer = _new_transfer(r, data, asked, check_in, guests, prop.timezone, settings)
    departure = _new_departure(r, data, asked, check_out, guests, prop.timezone, settings)

    changes: dict[str, Any] = {}
    if stay_changed:
        assert room_type.id is not None  # read from the database
        quote = await pricing.quote_stay(
            session,
            prop,
            room_type,
            check_in,
            check_out,
            rate_plan_code=plan_code,
            where="body",
        )
        quote = await member_rates.priced(session, quote, prop, r.guest_email)
        moved = dates_changed or room_type.id != r.room_type_id
        if moved and r.status == ReservationStatus.CONFIRMED:
            await _move_holds(session, booking, room_type.id, check_in, check_out)
            await assignment.release(session, r.id)  # its room may not be free on new nights
        changes |= _set(r, "check_in", check_in) | _set(r, "check_out", check_out)
        if room_type.id != r.room_type_id:
            changes["room_type_code"] = history.change(booking.room_type.code, room_type.code)
            r.room_type_id = room_type.id
        changes |= _set(r, "guests", guests)
        if guests != r.adults + len(r.children_ages or []):
            # A new head count names no ages: the party becomes that many adults.
            r.adults, r.children_ages = guests, []
        changes |= _set(r, "rate_plan_code", quote.rate_plan_code)
        changes |= _set(r, "nightly_amounts", [n.amount for n in quote.nights])
        changes |= _set(r, "total_amount", quote.total_amount)
        changes |= _set(r, "tax_amount", quote.tax_amount)
        changes |= _set(r, "currency", quote.currency)
        r.nightly_amount = quote.nights[0].amount
        policy = pricing.policy_snapshot(quote)
        changes |= _set(r, "policy", policy)
        if r.status == ReservationStatus.CONFIRMED and r.guaranteed_at is None:
            # The new terms may ask a guarantee the old ones did not, or no longer ask one.
            due = r.guarantee_due_at or guarantee_due(r, utcnow())
            changes |= _set(r, "guarantee_due_at", due if guarantee_due(r, utcnow()) else None)
    if transfer is not _UNCHANGED:
        before = _transfer_of(r)
        empty = (None,) * len(_TRANSFER_COLUMNS)
        for column, value in zip(_TRANSFER_COLUMNS, transfer or empty, strict=True):
            setattr(r, column, value)
        if (after := _transfer_of(r)) != before:
            changes["transfer"] = {"from": before, "to": after}
    if departure is not _UNCHANGED:
        changes |= _set(r, "departure", departure)
    if not changes:
        return booking
    booking = Booking(r, room_type, prop, booking.lines)  # several rooms: only the pickup moved
    r.updated_at = utcnow()
    r.version += 1
    history.record(session, r, "modified", actor, from_status=r.status, changes=changes)
    add_event(session, modified_event(booking, changes))
    return booking


async def _translated(
    session: AsyncSession, principal: Principal, property_id: int | None, data: ReservationUpdate
) -> ReservationUpdate:
    """A mapped partner's room type and plan codes replaced by ours (partner_mappings.py)."""
    codes = await partner_mappings.codes_for(session, principal, property_id)
    if codes is None:
        return data
    update: dict[str, str | None] = {}
    if data.room_type_code is not None:
        update["room_type_code"] = codes.room_type(data.room_type_code, "body.room_type_code")
    if data.rate_plan_code is not None:
        update["rate_plan_code"] = codes.rate_plan(data.rate_plan_code, "body.rate_plan_code")
    return data.model_copy(update=update) if update else data


_UNCHANGED: Any = object()


def _new_departure(
    r: Reservation,
    data: ReservationUpdate,
    asked: set[str],
    check_out: date,
    guests: int,
    timezone: str,
    settings: Settings,
) -> Any:
    """The departure after the change (None: no drop-off), or _UNCHANGED. A kept drop-off is
    checked again when the check-out day or the guests change."""
    if "departure" in asked:
        if data.departure is None:
            return None
        return departures.departure_of(data.departure, check_out, guests, timezone, settings)
    if r.departure and (check_out != r.check_out or guests != r.guests):
        departures.recheck(r.departure, check_out, guests, timezone, settings)
    return _UNCHANGED


def _new_transfer(
    r: Reservation,
    data: ReservationUpdate,
    asked: set[str],
    check_in: date,
    guests: int,
    timezone: str,
    settings: Settings,
) -> Any:
    """The transfer columns after the change (None: no pickup), or _UNCHANGED. A kept pickup is
    checked again when the check-in day or the guests change."""
    if "transfer" in asked:
        t = data.transfer
        if t is None:
            return None
        values: tuple[Any, ...] = (
            t.flight_number,
            t.arrival_time,
            t.pickup_place,
            t.passengers or guests,
            t.luggage,
            t.needs(),
        )
        recheck_window = True
    elif r.transfer_arrival_time is not None and (check_in != r.check_in or guests != r.guests):
        values = (
            r.transfer_flight_number,
            r.transfer_arrival_time,
            r.transfer_pickup_place,
            r.transfer_passengers or guests,
            r.transfer_luggage,
            r.transfer_needs,
        )
        recheck_window = check_in != r.check_in
    else:
        return _UNCHANGED
    arrival: datetime = values[1]
    if recheck_window:
        validate_arrival(
            arrival,
            check_in,
            timezone,
            window=settings.arrival_window,
            min_lead=settings.transfer_min_lead,
        )
    if values[3] > guests:
        raise invalid_field(
            "too_many_passengers",
            "body.transfer.passengers",
            "A transfer carries at most the booking's guests.",
        )
    return values


def _set(r: Reservation, field: str, value: Any) -> dict[str, Any]:
    old = getattr(r, field)
    if old == value:
        return {}
    setattr(r, field, value)
    return {field: history.change(old, value)}


async def _move_holds(
    session: AsyncSession, booking: Booking, room_type_id: int, check_in: date, check_out: date
) -> None:
    """Release the booking's nights and hold the new stay's, all in the caller's transaction;
    when a new night is full the released nights are taken back and 409 `no_availability` is
    raised, so a caller that commits anyway changes nothing."""
    r = booking.reservation
    old = (r.room_type_id, r.check_in, r.check_out)
    await lock_nights(session, [old, (room_type_id, check_in, check_out)])
    await inventory.release(session, *old)
    if await inventory.hold(session, room_type_id, check_in, check_out):
        return
    await session.exec(
        update(InventoryNight)
        .where(
            col(InventoryNight.room_type_id) == old[0],
            col(InventoryNight.night) >= old[1],
            col(InventoryNight.night) < old[2],
        )
        .values(held=col(InventoryNight.held) + 1)
        .execution_options(synchronize_session=False)
    )
    raise ProblemError(
        409,
        "no_availability",
        f"No room of the asked type is free on every night from {check_in.isoformat()} to "
        f"{check_out.isoformat()}; the booking is unchanged.",
    )


def modified_event(booking: Booking, changes: dict[str, Any]) -> ReservationModified:
    r, room_type, prop = booking.reservation, booking.room_type, booking.property
    transfer = None
    if r.transfer_arrival_time is not None:
        transfer = TransferRequest(
            flight_number=r.transfer_flight_number,
            arrival_time=r.transfer_arrival_time,
            pickup_place=r.transfer_pickup_place or "",
            passengers=r.transfer_passengers or r.guests,
            luggage=r.transfer_luggage or 0,
            **(r.transfer_needs or {}),
        )
    return ReservationModified(
        aggregate_version=r.version,
        reservation_id=r.id,
        confirmation_number=r.confirmation_number,
        status=r.status,
        property_name=prop.name,
        property_timezone=prop.timezone,
        room_type_code=room_type.code,
        room_type_name=room_type.name,
        check_in=r.check_in,
        check_out=r.check_out,
        guests=r.guests,
        total_amount=r.total_amount,
        currency=r.currency,
        guest=guest_contact(r),
        transfer=transfer,
        departure=departure_request(r),
        transfers_included=_included_now(booking, changes),
        changes=changes,
        # Issue 20: the guarantee still owed (None: none asked, or met) and the clock times.
        guarantee=owed_guarantee(r),
        check_in_time=clock(prop.check_in_time),
        check_out_time=clock(prop.check_out_time),
    )


def _included_now(booking: Booking, changes: dict[str, Any]) -> bool | None:
    """True while the booking's plan includes transfers; False when this change took that
    away (a new plan); absent otherwise, as before issue 18."""
    if transfers_included(booking.reservation, booking.lines):
        return True
    before = changes.get("policy", {}).get("from") or {}
    return False if before.get("transfers_included") else None
