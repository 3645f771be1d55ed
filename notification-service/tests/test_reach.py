"""How a notice reaches its guest (reach.py), decided from the guest's wishes: channel order,
consents per channel and purpose, the language, and the end of quiet hours for a notice that can
wait. Pure decisions: no service needed."""

from datetime import UTC, datetime

import pytest
from hotel_common.contracts.guests import QuietHours
from notification_service import reach
from notification_service.models import Channel, Kind, Purpose
from notification_service.preferences import Wishes
from notification_service.reach import quiet_until, route

EMAIL, PHONE = "lin.mei@example.com", "+8613800138000"
SHANGHAI_NIGHT = QuietHours(start="22:00", end="08:00", timezone="Asia/Shanghai")


def wishes(
    channels: tuple[str, ...] = ("email", "sms"),
    consents: dict[tuple[str, str], bool] | None = None,
    quiet: QuietHours | None = None,
    language: str | None = "zh-Hant",
    phones: tuple[str, ...] = (PHONE,),
) -> Wishes:
    return Wishes(
        guest_id="g-1",
        channels=channels,
        language=language,
        quiet_hours=quiet,
        consents=consents or {},
        emails=(EMAIL,),
        phones=phones,
    )


NOON = datetime(2030, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def test_without_wishes_a_notice_goes_by_email_in_its_own_language() -> None:
    way = route(None, purpose=Purpose.SERVICE, can_wait=True, email=EMAIL, phone=None, now=NOON)
    assert way is not None
    assert (way.channel, way.email, way.phone, way.language, way.not_before) == (
        Channel.EMAIL,
        EMAIL,
        None,
        None,
        None,
    )


def test_the_guests_first_channel_and_language() -> None:
    way = route(
        wishes(channels=("phone", "sms", "email")),
        purpose=Purpose.SERVICE,
        can_wait=False,
        email=EMAIL,
        phone=None,  # the event has none: the profile's number
        now=NOON,
    )
    assert way is not None
    assert (way.channel, way.phone, way.email, way.language) == (Channel.SMS, PHONE, "", "zh-Hant")


def test_service_avoids_a_withdrawn_channel_while_another_is_left() -> None:
    withdrawn = wishes(consents={("email", "service"): False})
    way = route(
        withdrawn, purpose=Purpose.SERVICE, can_wait=False, email=EMAIL, phone=PHONE, now=NOON
    )
    assert way is not None and way.channel is Channel.SMS
    # No number to text (neither the event's nor the profile's): it still goes, by email.
    alone = route(
        wishes(consents={("email", "service"): False}, phones=()),
        purpose=Purpose.SERVICE,
        can_wait=False,
        email=EMAIL,
        phone=None,
        now=NOON,
    )
    assert alone is not None and alone.channel is Channel.EMAIL


@pytest.mark.parametrize(
    ("consents", "channels", "expected"),
    [
        ({}, ("email", "sms"), None),  # no word: no marketing
        ({("email", "marketing"): False}, ("email", "sms"), None),
        ({("sms", "marketing"): True}, ("email", "sms"), Channel.SMS),
        ({("email", "marketing"): True}, ("sms",), None),  # consented, but not a listed channel
        ({("email", "marketing"): True, ("sms", "marketing"): True}, ("sms", "email"), Channel.SMS),
    ],
)
def test_marketing_needs_consent_on_a_channel_the_guest_named(
    consents: dict[tuple[str, str], bool], channels: tuple[str, ...], expected: Channel | None
) -> None:
    way = route(
        wishes(channels=channels, consents=consents),
        purpose=Purpose.MARKETING,
        can_wait=True,
        email=EMAIL,
        phone=PHONE,
        now=NOON,
    )
    assert (way.channel if way else None) == expected


def test_no_address_at_all_is_no_route() -> None:
    assert (
        route(None, purpose=Purpose.SERVICE, can_wait=False, email=None, phone=None, now=NOON)
        is None
    )


@pytest.mark.parametrize(
    ("now", "until"),
    [
        # 23:30 in Shanghai: until 08:00 the next morning.
        (datetime(2030, 6, 1, 15, 30, tzinfo=UTC), datetime(2030, 6, 2, 0, 0, tzinfo=UTC)),
        # 03:00 in Shanghai: until 08:00 that morning.
        (datetime(2030, 6, 1, 19, 0, tzinfo=UTC), datetime(2030, 6, 2, 0, 0, tzinfo=UTC)),
        # 22:00 sharp is quiet, 08:00 sharp is not.
        (datetime(2030, 6, 1, 14, 0, tzinfo=UTC), datetime(2030, 6, 2, 0, 0, tzinfo=UTC)),
        (datetime(2030, 6, 2, 0, 0, tzinfo=UTC), None),
        (NOON, None),
    ],
)
def test_quiet_hours_spanning_midnight(now: datetime, until: datetime | None) -> None:
    assert quiet_until(SHANGHAI_NIGHT, now) == until


def test_quiet_hours_within_a_day_and_across_a_clock_change() -> None:
    lunch = QuietHours(start="12:00", end="14:00", timezone="Asia/Shanghai")
    assert quiet_until(lunch, NOON) == datetime(2030, 6, 1, 6, 0, tzinfo=UTC)
    # New York falls back on 3 Nov 2030: 01:30 EDT (05:30 UTC) is quiet until 07:00 EST.
    night = QuietHours(start="22:00", end="07:00", timezone="America/New_York")
    assert quiet_until(night, datetime(2030, 11, 3, 5, 30, tzinfo=UTC)) == datetime(
        2030, 11, 3, 12, 0, tzinfo=UTC
    )


def test_only_a_notice_that_can_wait_is_held() -> None:
    w = wishes(quiet=SHANGHAI_NIGHT)
    late = datetime(2030, 6, 1, 15, 30, tzinfo=UTC)
    held = route(w, purpose=Purpose.SERVICE, can_wait=True, email=EMAIL, phone=None, now=late)
    now = route(w, purpose=Purpose.SERVICE, can_wait=False, email=EMAIL, phone=None, now=late)
    assert held is not None and held.not_before == datetime(2030, 6, 2, 0, 0, tzinfo=UTC)
    assert now is not None and now.not_before is None


@pytest.mark.parametrize("bad", ["24:61", "noon", "22:00:00"])
def test_unreadable_quiet_hours_hold_nothing(bad: str) -> None:
    quiet = QuietHours(start=bad, end="08:00", timezone="Asia/Shanghai")
    assert quiet_until(quiet, datetime(2030, 6, 1, 15, 30, tzinfo=UTC)) is None


def test_the_plan_lists_the_other_usable_channels_in_order() -> None:
    way = route(
        wishes(channels=("push", "sms", "email")),
        purpose=Purpose.SERVICE,
        can_wait=False,
        email=EMAIL,
        phone=None,
        now=NOON,
        push=True,
    )
    assert way is not None and way.channel is Channel.PUSH
    assert (way.email, way.phone) == (EMAIL, PHONE)  # push finds the devices by both
    assert list(way.fallback) == [
        {"channel": "sms", "address": PHONE},
        {"channel": "email", "address": EMAIL},
    ]


def test_push_needs_devices_and_bad_addresses_are_skipped() -> None:
    way = route(
        wishes(channels=("push", "sms", "email")),
        purpose=Purpose.SERVICE,
        can_wait=False,
        email=EMAIL,
        phone=None,
        now=NOON,
        bad=frozenset({PHONE}),
    )
    assert way is not None and way.channel is Channel.EMAIL and way.fallback == ()
    nowhere = route(
        None,
        purpose=Purpose.SERVICE,
        can_wait=False,
        email=EMAIL,
        phone=None,
        now=NOON,
        bad=frozenset({EMAIL}),
    )
    assert nowhere is None


def test_marketing_falls_back_only_to_consented_channels() -> None:
    way = route(
        wishes(channels=("sms", "email"), consents={("sms", "marketing"): True}),
        purpose=Purpose.MARKETING,
        can_wait=True,
        email=EMAIL,
        phone=PHONE,
        now=NOON,
    )
    assert way is not None and way.channel is Channel.SMS and way.fallback == ()


def test_reminders_and_follow_ups_wait_for_the_morning_bookings_and_pickups_do_not() -> None:
    for waits in (Kind.ARRIVAL_REMINDER, Kind.STAY_THANKS, Kind.LOYALTY_DEMOTION):
        assert reach.can_wait(waits)
    for urgent in (Kind.RESERVATION_CREATED, Kind.DRIVER_ON_SITE, Kind.STAFF_DIGEST):
        assert not reach.can_wait(urgent)
