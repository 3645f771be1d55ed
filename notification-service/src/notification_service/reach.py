"""How a notice reaches its guest: which channel and address, which language, and when, by the
guest's contact preferences (preferences.py) and consents (docs/domain.md, Guests / Notices).

- Channels in the guest's order; those we cannot send on (a phone call) are skipped. A service
  notice may still go on a channel the guest did not list (after the listed ones): the booking's
  confirmation must reach them. A marketing notice goes only where marketing is consented.
- Service notices need no consent, but avoid a channel whose service consent was withdrawn while
  another channel with an address is left; with none left they still go (a booking's
  confirmation is part of the contract).
- A notice that can wait (survey, birthday, points, membership, reminders, thanks, a case's
  progress) found in the guest's quiet hours waits until they end; booking, pickup and case
  acknowledgements go at once.
- The guest's language (from the preferences) before the event's own.
- Issue 20: the route is a plan: the chosen channel and the other usable channels in order (the
  fallback); addresses known to be bad are skipped, push is usable only with app devices.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from hotel_common.contracts.guests import QuietHours

from notification_service import formatting as fmt
from notification_service.models import Channel, Kind, Purpose
from notification_service.preferences import Wishes

# The channels a notice can be sent on here, and the default order without preferences (mail
# first, as before issue 19).
# Push (issue 20) last by default, and only for a guest with app devices.
SENDABLE = (Channel.EMAIL.value, Channel.SMS.value, Channel.PUSH.value)

# Notices that may wait for the end of the guest's quiet hours; the others go at once: bookings
# (created, guarantee reminder and expiry, no-show), pickups (the driver on site, a cancelled
# ride), a complaint's acknowledgement the guest is waiting for, sign-in codes, and the staff
# digest (staff_inbox.py queues it without a route: it never waits).
CAN_WAIT = frozenset(
    {
        Kind.SURVEY_INVITATION,
        Kind.COMPLAINT_RESOLVED,
        Kind.COMPLAINT_REJECTED,
        Kind.POINTS_EXPIRING,
        Kind.BIRTHDAY_GREETING,
        Kind.LOYALTY_WELCOME,
        Kind.LOYALTY_PROMOTION,
        # Issue 20: reminders, thanks and follow-ups, a case's progress, a lower tier.
        Kind.ARRIVAL_REMINDER,
        Kind.DEPARTURE_REMINDER,
        Kind.STAY_THANKS,
        Kind.SURVEY_FOLLOW_UP,
        Kind.COMPLAINT_PROGRESS,
        Kind.LOYALTY_DEMOTION,
    }
)
# Greetings with an offer: only where the guest consented to marketing.
MARKETING = frozenset({Kind.BIRTHDAY_GREETING})


def purpose_of(kind: Kind | None) -> Purpose:
    return Purpose.MARKETING if kind in MARKETING else Purpose.SERVICE


def can_wait(kind: Kind | None) -> bool:
    return kind in CAN_WAIT


@dataclass(frozen=True)
class Route:
    """The plan: the chosen channel and address, and the other usable ones in order (where the
    notice goes next if it fails for good, or is not delivered in time, on this one)."""

    channel: Channel
    email: str  # "" for a text message; the guest's email (device lookup) for push
    phone: str | None  # set for a text message; the guest's phone (device lookup) for push
    language: str | None  # the guest's, None: the event's own
    not_before: datetime | None  # set: held until the guest's quiet hours end (UTC)
    # [{"channel": "sms", "address": "+86..."}, ...]: push's address is "", its devices are
    # found by the entry's "email" and "phone".
    fallback: tuple[dict[str, str], ...] = ()


def route(
    wishes: Wishes | None,
    *,
    purpose: Purpose,
    can_wait: bool,
    email: str | None,
    phone: str | None,
    now: datetime,
    bad: frozenset[str] = frozenset(),
    push: bool = False,
) -> Route | None:
    """Where and when the notice goes, and where next; None: nowhere (no usable address, or no
    consent). `bad`: addresses known to bounce (bad_addresses.py), skipped; `push`: the guest
    has app devices."""
    listed = [c for c in (wishes.channels if wishes else ()) if c in SENDABLE]
    order = listed + [c for c in SENDABLE if c not in listed]
    if purpose is Purpose.MARKETING:
        order = listed  # never on a channel the guest did not name
    emails = [email] if email else []
    phones = [phone] if phone else []
    if wishes:
        emails += [e for e in wishes.emails if e not in emails]
        phones += [p for p in wishes.phones if p not in phones]
    good_email = next((e for e in emails if e not in bad), None)
    good_phone = next((p for p in phones if p not in bad), None)
    address = {
        Channel.EMAIL.value: good_email,
        Channel.SMS.value: good_phone,
        Channel.PUSH.value: "device" if push else None,
    }
    open_ = [c for c in order if address[c]]
    # Consents name channels with our words ("email", "sms", "push").
    consents = wishes.consents if wishes else {}
    if purpose is Purpose.MARKETING:
        chosen = [c for c in open_ if consents.get((c, purpose.value)) is True]
    else:
        not_withdrawn = [c for c in open_ if consents.get((c, purpose.value)) is not False]
        chosen = not_withdrawn or open_
    if not chosen:
        return None
    channel = Channel(chosen[0])
    quiet = wishes.quiet_hours if wishes and can_wait else None
    # Push finds the guest's devices by their email and phone.
    device_email, device_phone = (emails[0] if emails else ""), (phones[0] if phones else "")
    if channel is Channel.PUSH:
        mail, text = device_email, device_phone or None
    else:
        mail = (address[channel.value] or "") if channel is Channel.EMAIL else ""
        text = address[channel.value] if channel is Channel.SMS else None
    return Route(
        channel=channel,
        email=mail,
        phone=text,
        language=wishes.language if wishes else None,
        not_before=quiet_until(quiet, now) if quiet else None,
        fallback=tuple(
            {"channel": c, "address": "", "email": device_email, "phone": device_phone}
            if c == Channel.PUSH.value
            else {"channel": c, "address": address[c] or ""}
            for c in chosen[1:]
        ),
    )


def quiet_until(quiet: QuietHours, now: datetime) -> datetime | None:
    """When the guest's quiet hours that `now` falls in end (UTC); None outside them. `start`
    after `end` spans midnight; equal: no quiet hours."""
    start, end = _clock(quiet.start), _clock(quiet.end)
    if start is None or end is None or start == end:
        return None
    tz = fmt.zone(quiet.timezone)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(UTC)


def _clock(value: str) -> time | None:
    """ "HH:MM" as a time of day; None if it is not one (the notice is then not held)."""
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return None
