"""Bookings arriving as events become profiles with stays, seen through the HTTP API."""

from collections.abc import Callable
from typing import Any

from guest_service import matching
from hotel_common.contracts.reservations import ReservationCancelled, ReservationConfirmed
from hotel_common.events.envelope import Envelope
from hotel_common.testing import eventually

from .conftest import GuestService

Book = Callable[..., ReservationConfirmed]
Cancel = Callable[..., ReservationCancelled]


async def test_confirmed_booking_creates_a_profile_with_the_stay(
    service: GuestService, make_booking: Book
) -> None:
    booked = make_booking(email="  Li.Wei@Example.COM ", phone="+86 (138) 0013-8000")
    service.deliver(booked)

    profile = await service.profile_with_stays("LI.WEI@example.com", 1)

    assert profile["name"] == "Li Wei"
    assert profile["email"] == "li.wei@example.com"
    assert profile["phone"] == "+8613800138000"
    assert profile["language"] == "zh-Hans"
    assert profile["source"] == "booking"
    assert profile["created_at"].endswith(("Z", "+00:00"))
    [stay] = profile["stays"]
    assert stay == stay | {
        "reservation_id": booked.reservation_id,
        "confirmation_number": booked.confirmation_number,
        "property_name": "Harbour View Hotel",
        "room_type_code": "DLX",
        "check_in": "2026-05-01",
        "check_out": "2026-05-03",
        "status": "confirmed",
        "total_amount": 128000,
        "currency": "CNY",
        "guest_id": profile["id"],
    }


async def test_later_bookings_by_the_same_email_or_the_same_phone_and_name_join_that_profile(
    service: GuestService, make_booking: Book
) -> None:
    service.deliver(make_booking(email="li.wei@example.com", phone="+8613800138000"))
    service.deliver(make_booking(email="LI.WEI@EXAMPLE.COM", phone=None))
    service.deliver(make_booking(email="", phone="+86 138-0013-8000", name="LI  WEI"))

    profile = await service.profile_with_stays("li.wei@example.com", 3)

    assert [g["id"] for g in await service.find()] == [profile["id"]]
    assert [g["id"] for g in await service.find(phone="+86 138 0013 8000")] == [profile["id"]]
    assert profile["email"] == "li.wei@example.com"


async def test_another_email_with_the_profiles_phone_and_name_is_a_new_profile_and_a_suggestion(
    service: GuestService, make_booking: Book
) -> None:
    service.deliver(make_booking(email="li.wei@example.com", phone="+8613800138000"))
    first = await service.profile_with_stays("li.wei@example.com", 1)

    service.deliver(make_booking(email="wei.li@work.example", phone="+86 138-0013-8000"))

    second = await service.profile_with_stays("wei.li@work.example", 1)
    assert second["id"] != first["id"]
    assert len((await service.guest(first["id"]))["stays"]) == 1
    [suggestion] = await service.suggestions()
    assert [g["id"] for g in suggestion["guests"]] == [first["id"], second["id"]]
    assert suggestion["reasons"] == ["same_phone", "same_name", "other_email"]
    assert suggestion["score"] == 45


async def test_the_same_booking_delivered_twice_is_linked_once(
    service: GuestService, make_booking: Book
) -> None:
    booked = make_booking()
    envelope = service.deliver(booked)
    service.broker.route(envelope)  # broker redelivery: same envelope
    service.deliver(booked)  # publisher re-sent the booking: new envelope, same reservation
    service.deliver(make_booking(email="marker@example.com", phone=None))  # queued behind them

    await service.profile_with_stays("marker@example.com", 1)
    profile = await service.profile_with_stays("li.wei@example.com", 1)
    assert [s["reservation_id"] for s in profile["stays"]] == [booked.reservation_id]


async def test_cancellation_marks_the_stay_cancelled(
    service: GuestService, make_booking: Book, make_cancellation: Cancel
) -> None:
    booked = make_booking()
    kept = make_booking(email="li.wei@example.com")
    service.deliver(booked)
    service.deliver(kept)
    await service.profile_with_stays("li.wei@example.com", 2)

    service.deliver(make_cancellation(booked))
    service.deliver(make_cancellation(booked))  # a second notice changes nothing

    def statuses(profile: dict[str, Any] | None) -> dict[str, str]:
        assert profile is not None
        return {s["reservation_id"]: s["status"] for s in profile["stays"]}

    await eventually(
        lambda: service.profile("li.wei@example.com"),
        until=lambda p: (
            statuses(p) == {booked.reservation_id: "cancelled", kept.reservation_id: "confirmed"}
        ),
    )
    assert (await service.client.get("/admin/dead-letters")).json()["items"] == []


async def test_a_cancellation_overtaking_its_confirmation_applies_once_the_stay_is_linked(
    service: GuestService, make_booking: Book, make_cancellation: Cancel
) -> None:
    booked = make_booking()
    service.deliver(make_cancellation(booked))
    service.deliver(booked)

    profile = await eventually(
        lambda: service.profile("li.wei@example.com"),
        until=lambda p: p is not None and [s["status"] for s in p["stays"]] == ["cancelled"],
    )
    assert profile is not None
    assert (await service.client.get("/admin/dead-letters")).json()["items"] == []


async def test_a_booking_never_confirmed_leaves_no_trace(
    service: GuestService, make_booking: Book, make_cancellation: Cancel
) -> None:
    service.deliver(make_cancellation(make_booking(), was_confirmed=False))
    service.deliver(make_booking(email="marker@example.com", phone=None))

    await service.profile_with_stays("marker@example.com", 1)
    assert await service.find(email="li.wei@example.com") == []
    assert (await service.client.get("/admin/dead-letters")).json()["items"] == []


async def test_a_booking_fills_blanks_but_keeps_what_the_guest_set(
    service: GuestService, make_booking: Book
) -> None:
    created = await service.create(name="Wang Fang", email="wang.fang@example.com")
    assert created["phone"] is None and created["language"] is None

    service.deliver(
        make_booking(
            email="WANG.FANG@example.com",
            name="Fang W.",
            phone="+86 139 0000 1111",
            language="zh-Hant",
        )
    )
    profile = await service.profile_with_stays("wang.fang@example.com", 1)
    assert profile["id"] == created["id"]
    assert profile["name"] == "Wang Fang"
    assert profile["phone"] == "+8613900001111"
    assert profile["language"] == "zh-Hant"
    assert profile["source"] == "front_desk"

    patched = await service.client.patch(f"/api/v1/guests/{created['id']}", json={"language": "en"})
    assert patched.status_code == 200
    service.deliver(
        make_booking(email="wang.fang@example.com", phone="+86 139 2222 3333", language="zh-Hans")
    )
    profile = await service.profile_with_stays("wang.fang@example.com", 2)
    assert (profile["phone"], profile["language"]) == ("+8613900001111", "en")


async def test_a_booking_found_by_phone_gains_the_missing_email(
    service: GuestService, make_booking: Book
) -> None:
    created = await service.create(name="Zhang Min", phone="+86 137 1234 5678")

    service.deliver(
        make_booking(email="zhang.min@example.com", phone="+8613712345678", name="zhang min")
    )

    profile = await service.profile_with_stays("zhang.min@example.com", 1)
    assert profile["id"] == created["id"]
    assert profile["name"] == "Zhang Min"
    assert await service.suggestions() == []


async def test_a_phone_with_another_name_never_links_it_suggests(
    service: GuestService, make_booking: Book
) -> None:
    created = await service.create(name="Zhang Min", phone="+86 137 1234 5678")

    service.deliver(make_booking(email="other.person@example.com", phone="+8613712345678"))

    profile = await service.profile_with_stays("other.person@example.com", 1)
    assert profile["id"] != created["id"] and profile["name"] == "Li Wei"
    assert (await service.guest(created["id"]))["stays"] == []
    [suggestion] = await service.suggestions()
    assert {g["id"] for g in suggestion["guests"]} == {created["id"], profile["id"]}
    assert (suggestion["reasons"], suggestion["score"]) == (["same_phone"], 25)


async def test_email_and_phone_of_two_profiles_link_to_the_email_match_and_suggest_the_other(
    service: GuestService, make_booking: Book
) -> None:
    by_email = await service.create(name="Anna Berg", email="anna@example.com")
    by_phone = await service.create(name="A. Berg", phone="+46 70 123 45 67")

    service.deliver(make_booking(email="anna@example.com", phone="+46701234567", name="Anna Berg"))

    profile = await service.profile_with_stays("anna@example.com", 1)
    assert profile["id"] == by_email["id"]
    assert profile["phone"] == "+46701234567"  # a phone may be on several profiles
    assert (await service.guest(by_phone["id"]))["stays"] == []
    [suggestion] = await service.suggestions()
    assert [g["id"] for g in suggestion["guests"]] == [by_email["id"], by_phone["id"]]
    assert suggestion["reasons"] == ["same_phone"]


async def test_a_call_centre_number_on_many_bookings_neither_links_nor_suggests(
    service: GuestService, make_booking: Book
) -> None:
    switchboard = "+86 21 6000 0000"
    count = matching.SWITCHBOARD + 1
    for i in range(count):
        service.deliver(make_booking(email=f"ota.{i}@example.com", phone=switchboard, name=f"G{i}"))
    await eventually(lambda: service.find(limit=200), until=lambda found: len(found) == count)
    # Only while the number was on two profiles or fewer did another name suggest a merge.
    assert len(await service.suggestions(limit=200)) == 3
    opened = 3

    service.deliver(make_booking(email="", phone=switchboard, name="Guest"))
    service.deliver(make_booking(email="marker@example.com", phone=None))
    await service.profile_with_stays("marker@example.com", 1)

    assert len(await service.suggestions(limit=200)) == opened  # nothing more from the number
    phone_only = [g for g in await service.find(name="Guest", limit=200) if g["email"] is None]
    assert [g["phone"] for g in phone_only] == [None]  # a new profile, the number not kept


async def test_a_redelivered_envelope_is_ignored_even_after_the_stay_changed(
    service: GuestService, make_booking: Book, make_cancellation: Cancel
) -> None:
    booked = make_booking()
    envelope: Envelope = service.deliver(booked)
    await service.profile_with_stays("li.wei@example.com", 1)
    service.deliver(make_cancellation(booked))
    await eventually(
        lambda: service.profile("li.wei@example.com"),
        until=lambda p: p is not None and p["stays"][0]["status"] == "cancelled",
    )

    service.broker.route(envelope)
    service.deliver(make_booking(email="marker@example.com", phone=None))
    await service.profile_with_stays("marker@example.com", 1)

    profile = await service.profile_with_stays("li.wei@example.com", 1)
    assert profile["stays"][0]["status"] == "cancelled"


async def test_a_booking_with_an_odd_phone_and_a_long_name_still_links(
    service: GuestService, make_booking: Book
) -> None:
    service.deliver(make_booking(phone="ask at desk", name="  " + "N" * 250))

    profile = await service.profile_with_stays("li.wei@example.com", 1)
    assert profile["phone"] is None
    assert profile["name"] == "N" * 200
