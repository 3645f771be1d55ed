"""Value and segments: RFM levels and value classes from completed stays, in SQL on both
databases; segments staff define by rule, kept up to date by events and the periodic refresh;
bad rules refused with nothing written; who may use them."""

from datetime import date, timedelta
from typing import Any

from guest_service import value
from guest_service.models import Guest, GuestStay
from guest_service.value_part import PART
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import assert_problem, eventually, principal_headers
from sqlmodel import col, update

from . import segment_helpers
from .conftest import GuestService
from .segment_helpers import (
    TODAY,
    booked,
    cancelled,
    days_ago,
    guest_id_of,
    history,
    session_of,
    stayed,
)

any_db = segment_helpers.any_db  # the fixture: SQLite, then PostgreSQL

# Cut-offs (Settings defaults): recency 180 / 365 days; frequency 4 / 2 stays and monetary
# 10,000 / 3,000 yuan within 730 days.


async def value_of(service: GuestService, email: str) -> dict[str, Any]:
    found: dict[str, Any] = (await history(service, await guest_id_of(service, email)))["value"]
    return found


async def test_value_classes_follow_rfm_and_recency_ages(any_db: GuestService) -> None:
    service = any_db
    for n in range(4):  # four recent stays, 3,000 yuan each: the best on every dimension
        await stayed(service, "key@example.com", left=days_ago(20 + 10 * n), spent=300_000)
    await stayed(service, "potential@example.com", left=days_ago(40), spent=1_500_000)
    await stayed(service, "stable@example.com", left=days_ago(200), spent=50_000)
    await stayed(service, "at.risk@example.com", left=days_ago(400), spent=2_000_000)
    await stayed(  # 1,500 USD = 10,800 yuan: high spend, counted in yuan
        service, "dollars@example.com", left=days_ago(5), spent=150_000, currency="USD"
    )
    await stayed(service, "old@example.com", left=days_ago(800), spent=900_000)

    levels = {
        email.split("@")[0]: (v["recency"], v["frequency"], v["monetary"], v["value_class"])
        for email in (
            "key@example.com",
            "potential@example.com",
            "stable@example.com",
            "at.risk@example.com",
            "dollars@example.com",
            "old@example.com",
        )
        for v in [await value_of(service, email)]
    }
    assert levels == {
        "key": (3, 3, 3, "key"),
        "potential": (3, 1, 3, "potential"),
        "stable": (2, 1, 1, "stable"),
        "at.risk": (1, 1, 3, "at_risk"),
        "dollars": (3, 1, 3, "potential"),
        "old": (1, 1, 1, "at_risk"),  # outside the window: no stays nor spend counted
    }
    assert (await value_of(service, "dollars@example.com"))["spend_cny"] == 10_800
    old = await value_of(service, "old@example.com")
    assert (old["stays"], old["spend_cny"], old["lifetime_stays"]) == (0, 0, 1)
    assert old["lifetime_spend_cny"] == 9_000

    # No event for half a year: the periodic refresh ages every guest's recency.
    async with session_of(service) as session, session.begin():
        await value.refresh_all(session, today=TODAY + timedelta(days=200))
    aged = await value_of(service, "potential@example.com")
    assert (aged["recency"], aged["value_class"]) == (2, "potential")
    assert (await value_of(service, "stable@example.com"))["value_class"] == "at_risk"


async def test_a_segment_holds_who_its_rule_says_and_follows_their_stays(
    any_db: GuestService,
) -> None:
    service = any_db
    this_year = date(TODAY.year, 1, 1)
    recent = max(this_year, days_ago(60))
    for email in ("a@acme.example", "b@acme.example", "c@acme.example", "d@other.example"):
        await stayed(service, email, left=recent, spent=80_000)
    await stayed(service, "a@acme.example", left=recent, spent=80_000)
    await stayed(service, "d@other.example", left=recent, spent=80_000)
    bookings = {e: await guest_id_of(service, e) for e in ("a@acme.example", "b@acme.example")}
    async with session_of(service) as session, session.begin():
        # What the profile API writes (company, address), as the profile part will tell it.
        for email in ("a@acme.example", "b@acme.example", "c@acme.example"):
            guest_id = await guest_id_of(service, email)
            city = "88 Century Avenue, Pudong, Shanghai" if email[0] != "c" else "1 Main St, Xi'an"
            await session.exec(
                update(Guest)
                .where(col(Guest.id) == guest_id)
                .values(company="Acme Trading", address=city, tags=["business", "vip"])
            )
            await value.note_profile(session, guest_id)

    rule = {
        "companies": ["ACME trading"],
        "cities": ["shanghai", "上海市"],
        "tags": ["business"],
        "stays": {"min": 2, "period": {"this_year": True}},
    }
    made = await service.client.post(
        "/api/v1/segments", json={"name": "Business guests from Shanghai", "rule": rule}
    )
    assert made.status_code == 201, made.text
    segment = made.json()
    assert segment["members"] == 1  # a: Acme, Shanghai, two stays; b: one stay; c: Xi'an

    # b's second stay this year: b joins as the check-out is recorded.
    await stayed(service, "b@acme.example", left=recent, spent=20_000)
    members = await eventually(
        lambda: service.client.get(f"/api/v1/segments/{segment['id']}/members"),
        until=lambda r: len(r.json()["items"]) == 2,
    )
    assert {m["guest_id"] for m in members.json()["items"]} == set(bookings.values())

    # A rule on value: a new rule recomputes at once.
    changed = await service.client.patch(
        f"/api/v1/segments/{segment['id']}",
        json={"rule": {"value_classes": ["stable"], "frequency": [2], "channels": ["web"]}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["members"] == 0  # none booked through "web"
    changed = await service.client.patch(
        f"/api/v1/segments/{segment['id']}",
        json={"rule": {"value_classes": ["stable"], "frequency": [2]}},
    )
    assert changed.json()["members"] == 3  # a, b and d: two stays, low spend

    listed = (await service.client.get("/api/v1/segments")).json()["items"]
    assert [(s["name"], s["members"]) for s in listed] == [("Business guests from Shanghai", 3)]
    assert (await service.client.delete(f"/api/v1/segments/{segment['id']}")).status_code == 204
    gone = await service.client.get(f"/api/v1/segments/{segment['id']}")
    assert_problem(gone, 404, "segment_not_found")


async def test_a_tier_told_by_loyalty_and_a_cancellation_move_guests_in_and_out(
    service: GuestService,
) -> None:
    # 1,000 yuan settled: loyalty enrols the guest (Regular) at the check-out; 400 yuan does not.
    await stayed(service, "gold@example.com", left=days_ago(3), spent=100_000)
    await stayed(service, "browser@example.com", left=days_ago(4), spent=40_000)
    for name, tiers in (
        ("Gold members", ["gold", "diamond"]),
        ("Members", ["regular", "silver"]),
        ("Not members", ["none"]),
    ):
        made = await service.client.post(
            "/api/v1/segments", json={"name": name, "rule": {"tiers": tiers}}
        )
        assert made.status_code == 201, made.text

    async def counts() -> dict[str, int]:
        listed = (await service.client.get("/api/v1/segments")).json()["items"]
        return {s["name"]: s["members"] for s in listed}

    # The enrolment is loyalty's own handler of the check-out: it may land after the stay.
    await eventually(
        counts, until=lambda c: c == {"Gold members": 0, "Members": 1, "Not members": 1}
    )
    guest_id = await guest_id_of(service, "gold@example.com")
    async with session_of(service) as session, session.begin():
        await value.note_tier(session, guest_id, "Gold")  # what loyalty tells on a promotion

    assert await counts() == {"Gold members": 1, "Members": 0, "Not members": 1}

    upcoming = await service.client.post(
        "/api/v1/segments",
        json={"name": "Recent", "rule": {"stays": {"min": 1, "period": {"last_days": 30}}}},
    )
    assert upcoming.json()["members"] == 2
    later = await booked(service, "gold@example.com", left=days_ago(-10))
    await cancelled(service, "gold@example.com", later)  # refreshed: still one completed stay
    recent = await service.client.get(f"/api/v1/segments/{upcoming.json()['id']}")
    assert recent.json()["members"] == 2


BAD_RULES: list[Any] = [
    {},  # no condition
    {"colour": ["red"]},  # unknown condition
    {"nationalities": ["China"]},  # not ISO 3166 alpha-2
    {"stays": {"min": 3, "max": 1}},
    {"stays": {}},
    {"stays": {"min": 1, "period": {"this_year": True, "last_days": 30}}},
    {"spend_cny": {"min": -1}},
    {"recency": [4]},
    {"value_classes": ["gold"]},
    {"age_bands": ["18_25", "18_25"]},
    {"cities": []},
    {"cities": ["Shang\u0000hai"]},
]


async def test_a_bad_rule_is_refused_and_nothing_is_written(service: GuestService) -> None:
    for rule in BAD_RULES:
        answer = await service.client.post("/api/v1/segments", json={"name": "x", "rule": rule})
        assert_problem(answer, 422, "validation_error")
    ok = {"name": "Young", "rule": {"age_bands": ["18_25"]}}
    assert (await service.client.post("/api/v1/segments", json=ok)).status_code == 201
    twin = await service.client.post("/api/v1/segments", json=ok)
    assert_problem(twin, 409, "segment_exists")
    listed = (await service.client.get("/api/v1/segments")).json()["items"]
    assert [s["name"] for s in listed] == ["Young"]
    segment_id = listed[0]["id"]
    for body in ({}, {"name": None}, {"rule": {"recency": [0]}}):
        assert_problem(
            await service.client.patch(f"/api/v1/segments/{segment_id}", json=body),
            422,
            "validation_error",
        )
    kept = (await service.client.get(f"/api/v1/segments/{segment_id}")).json()
    assert kept["rule"] == {"age_bands": ["18_25"]}


async def test_segments_are_for_marketing_and_managers(service: GuestService) -> None:
    body = {"name": "Diamonds", "rule": {"tiers": ["diamond"]}}
    for role, status in (
        (Role.FRONT_DESK, 403),
        (Role.RESERVATIONS, 403),
        (Role.MARKETING, 201),
    ):
        staff = Principal(id=f"staff:{role}", kind=Kind.STAFF, roles=frozenset({role}))
        headers = principal_headers(staff)
        made = await service.client.post("/api/v1/segments", json=body, headers=headers)
        assert made.status_code == status, (role, made.text)
        listed = await service.client.get("/api/v1/segments", headers=headers)
        assert listed.status_code == (200 if status == 201 else 403)
    guest = Principal(id="guest:1", kind=Kind.GUEST, roles=frozenset(), email="g@example.com")
    assert_problem(
        await service.client.get("/api/v1/segments", headers=principal_headers(guest)),
        403,
        "forbidden",
    )


async def test_merge_counts_both_histories_on_the_survivor_and_undo_splits_them(
    service: GuestService,
) -> None:
    await stayed(service, "keeps@example.com", left=days_ago(10), spent=600_000)
    await stayed(service, "goes@example.com", left=days_ago(20), spent=600_000)
    await service.client.post(
        "/api/v1/segments", json={"name": "High spend", "rule": {"monetary": [3]}}
    )
    survivor = await guest_id_of(service, "keeps@example.com")
    absorbed = await guest_id_of(service, "goes@example.com")
    for guest_id in (survivor, absorbed):  # 6,000 yuan each: loyalty enrols both (Regular)
        await eventually(
            lambda g=guest_id: history(service, g),
            until=lambda h: h["value"]["tier"] == "regular",
        )
    async with session_of(service) as session, session.begin():
        await value.note_tier(session, absorbed, "silver")
        # What merging does around the parts: the stays part moves the stays, the profile
        # is marked merged.
        moved = (
            update(GuestStay).where(col(GuestStay.guest_id) == absorbed).values(guest_id=survivor)
        )
        await session.exec(moved)
        await session.exec(update(Guest).where(col(Guest.id) == absorbed).values(status="merged"))
        memo = await PART.merge(session, survivor, absorbed)

    merged = (await history(service, survivor))["value"]
    assert (merged["stays"], merged["spend_cny"], merged["monetary"], merged["tier"]) == (
        2,
        12_000,
        3,
        "silver",
    )
    [high] = (await service.client.get("/api/v1/segments")).json()["items"]
    assert high["members"] == 1

    async with session_of(service) as session, session.begin():
        await session.exec(
            update(GuestStay)
            .where(
                col(GuestStay.reservation_id).in_(
                    [
                        s["reservation_id"]
                        for s in (await history(service, survivor))["stays"]
                        if s["check_out"] == days_ago(20).isoformat()
                    ]
                )
            )
            .values(guest_id=absorbed)
        )
        await PART.unmerge(session, survivor, absorbed, memo)
        await session.exec(update(Guest).where(col(Guest.id) == absorbed).values(status="active"))

    # The survivor's own tier again: its 6,000-yuan stay made it a Regular member.
    assert (await history(service, survivor))["value"]["tier"] == "regular"
    split = (await history(service, absorbed))["value"]
    assert (split["stays"], split["monetary"], split["tier"]) == (1, 2, "silver")


async def test_erase_drops_the_value_and_memberships(service: GuestService) -> None:
    await stayed(service, "erase.me@example.com", left=days_ago(10), spent=600_000)
    made = await service.client.post(
        "/api/v1/segments", json={"name": "Anyone recent", "rule": {"recency": [3]}}
    )
    assert made.json()["members"] == 1
    guest_id = await guest_id_of(service, "erase.me@example.com")
    async with session_of(service) as session, session.begin():
        exported = await PART.export(session, guest_id)
        await PART.erase(session, guest_id)
    assert exported["segments"] == ["Anyone recent"]
    assert exported["value"]["value_class"] == "stable"
    assert (await history(service, guest_id))["value"] is None
    recount = await service.client.get(f"/api/v1/segments/{made.json()['id']}")
    assert recount.json()["members"] == 0
