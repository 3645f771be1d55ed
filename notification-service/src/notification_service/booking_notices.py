"""Issue 20: the booking's own notices beyond confirmation, change and cancellation (the
request taken with how to guarantee it, a guarantee that expired, a no-show, thanks after
check-out) and the reminders scheduled from the booking (reminders.py).

Like notices.py: each builder takes the language already chosen and formats every value for
it, so templates only place them. A reminder is built when it fires, from the raw values its
schedule stored (`payload`), in the language the guest prefers then.
"""

from datetime import date, datetime, time, timedelta
from typing import Any, TypeAlias

from hotel_common.contracts.reservations import (
    GuaranteeTerms,
    ReservationCancelled,
    ReservationCheckedOut,
    ReservationCreated,
    ReservationNoShow,
)

from notification_service import formatting as fmt
from notification_service.models import Kind
from notification_service.notices import Notice
from notification_service.rendering import resolve_language

# What the guest is told when a request does not say (a property's usual clock).
DEFAULT_CHECK_IN = "14:00"
DEFAULT_CHECK_OUT = "12:00"

BookingEvent: TypeAlias = (
    ReservationCreated | ReservationCancelled | ReservationNoShow | ReservationCheckedOut
)


def _booking(kind: Kind, event: BookingEvent, lang: str, **context: Any) -> Notice:
    return Notice(
        kind=kind,
        reservation_id=event.reservation_id,
        confirmation_number=event.confirmation_number,
        email=event.guest.email,
        phone=event.guest.phone,
        language=lang,
        context={
            "guest_name": event.guest.name,
            "confirmation_number": event.confirmation_number,
            "property_name": event.property_name,
            "check_in": fmt.day(event.check_in, lang),
            "check_out": fmt.day(event.check_out, lang),
            **context,
        },
        version=event.aggregate_version,
    )


def guarantee_context(terms: GuaranteeTerms | None, currency: str, lang: str) -> dict[str, Any]:
    """How to guarantee: a `deposit` or `prepayment` (flags; neither: nothing asked), the
    amount, within how many hours of confirmation."""
    if terms is None or terms.kind not in ("deposit", "prepayment"):
        return {"deposit": False, "prepayment": False}
    return {
        "deposit": terms.kind == "deposit",
        "prepayment": terms.kind == "prepayment",
        "guarantee_amount": fmt.money(terms.amount, currency),
        "guarantee_hours": terms.due_hours,
    }


def created(event: ReservationCreated, language: str | None = None) -> Notice:
    """The request is received, not yet confirmed: the stay, the total, how to guarantee it
    and until when the request holds."""
    lang = resolve_language(language or event.guest.language)
    tz = fmt.zone(event.property_timezone or "UTC")
    return _booking(
        Kind.RESERVATION_CREATED,
        event,
        lang,
        room_type=event.room_type_name or event.room_type_code,
        nights=(event.check_out - event.check_in).days,
        guests=event.guests,
        total=fmt.money(event.total_amount, event.currency),
        holds_until=fmt.local_time(event.expires_at, tz, lang) if event.expires_at else None,
        **guarantee_context(event.guarantee, event.currency, lang),
    )


def _money(amount: int, currency: str | None) -> str | None:
    return fmt.money(amount, currency) if amount and currency else None


def guarantee_expired(event: ReservationCancelled, language: str | None = None) -> Notice:
    """Cancelled by the hotel's system: the deposit or prepayment was not received in time;
    the fee and refund when there are any."""
    lang = resolve_language(language or event.guest.language)
    return _booking(
        Kind.GUARANTEE_EXPIRED,
        event,
        lang,
        fee=_money(event.cancellation_fee_amount, event.currency),
        refund=_money(event.refund_amount, event.currency),
    )


def no_show(event: ReservationNoShow, language: str | None = None) -> Notice:
    """Nobody came: the booking is closed and the fee its policy charges."""
    lang = resolve_language(language or event.guest.language)
    return _booking(
        Kind.RESERVATION_NO_SHOW, event, lang, fee=_money(event.fee_amount, event.currency)
    )


def stay_thanks(event: ReservationCheckedOut, language: str | None = None) -> Notice:
    """Thanks for staying; the survey follows from guest-service."""
    lang = resolve_language(language or event.guest.language)
    return _booking(Kind.STAY_THANKS, event, lang, nights=event.nights)


# -- reminders: built when they fire, from the stored payload ----------------------------------


def local_moment(day: date, clock: str, timezone: str) -> datetime:
    """`day` at `clock` ("HH:MM") in `timezone`, as an aware instant."""
    hours, minutes = (int(x) for x in clock.split(":"))
    return datetime.combine(day, time(hours, minutes), fmt.zone(timezone))


def _pickup_context(pickup: dict[str, Any] | None, tz_name: str, lang: str) -> dict[str, Any]:
    if not pickup:
        return {"pickup": False}
    tz = fmt.zone(tz_name)
    return {
        "pickup": True,
        "pickup_time": fmt.local_time(datetime.fromisoformat(pickup["pickup_time"]), tz, lang),
        "pickup_place": pickup["pickup_place"],
        "destination": pickup["destination"],
        "driver_name": pickup["driver_name"] or "-",
        "driver_phone": pickup["driver_phone"] or "-",
        "vehicle_plate": pickup["vehicle_plate"] or "-",
        "vehicle_description": pickup["vehicle_description"] or "-",
    }


def reminder(
    kind: Kind,
    payload: dict[str, Any],
    language: str | None,
    pickup: dict[str, Any] | None = None,
) -> Notice:
    """A scheduled reminder of `kind` from its payload (reminders.py stores it), in `language`
    (the guest's preference; else the language stored with the reminder)."""
    lang = resolve_language(language or payload.get("language"))
    context: dict[str, Any] = {"guest_name": payload["guest_name"]}
    if kind is Kind.SURVEY_FOLLOW_UP:
        context |= {
            "survey_url": payload["survey_url"],
            "expires_on": fmt.day(date.fromisoformat(payload["expires_on"]), lang),
            "signature": payload["signature"],
        }
        return Notice(
            kind=kind,
            reservation_id=payload.get("reservation_id"),
            confirmation_number=None,
            email="",
            language=lang,
            context=context,
            guest_id=payload.get("guest_id"),
        )
    tz_name = payload["property_timezone"]
    check_in = date.fromisoformat(payload["check_in"])
    check_out = date.fromisoformat(payload["check_out"])
    context |= {
        "confirmation_number": payload["confirmation_number"],
        "property_name": payload["property_name"],
        "check_in": fmt.day(check_in, lang),
        "check_out": fmt.day(check_out, lang),
    }
    if kind is Kind.ARRIVAL_REMINDER:
        context |= {
            "room_type": payload["room_type"],
            "check_in_time": payload["check_in_time"],
            **_pickup_context(pickup, tz_name, lang),
        }
    elif kind is Kind.DEPARTURE_REMINDER:
        context |= {
            "check_out_time": payload["check_out_time"],
            **_pickup_context(pickup, tz_name, lang),
        }
    else:  # the guarantee
        due = datetime.fromisoformat(payload["due_at"])
        context |= {
            "deposit": payload["guarantee"] == "deposit",
            "guarantee_amount": payload["guarantee_amount"],
            "due_at": fmt.local_time(due, fmt.zone(tz_name), lang),
        }
    return Notice(
        kind=kind,
        reservation_id=payload["reservation_id"],
        confirmation_number=payload["confirmation_number"],
        email="",
        language=lang,
        context=context,
    )


def days(n: int) -> timedelta:
    return timedelta(days=n)
