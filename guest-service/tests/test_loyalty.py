"""Loyalty as the manual has it: a stay whose settled folio reaches 500 CNY enrols the guest at
Regular (10 %); a member's booking holds its points pending until check-out posts them from the
settled bill, a cancellation reverses them; stays and spend promote; points are redeemed never
beyond the balance, also at once; referral, lapse, yearly expiry with its reminder, birthdays;
merge and undo keep both accounts."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from guest_service.config import Settings
from guest_service.loyalty import jobs, ledger
from guest_service.loyalty.part import PART
from guest_service.main import create_app
from guest_service.models import Guest
from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.db import drop_database
from hotel_common.events.inbox import ProcessedEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.outbox import OutboxMessage
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import (
    assert_problem,
    eventually,
    principal_headers,
    reservation_cancelled,
    reservation_checked_out,
    reservation_modified,
    running,
    scratch_url,
)
from hotel_common.time import utcnow
from sqlmodel import col, select

from .conftest import booking

FRONT_DESK = Principal(id="staff:desk", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))
MARKETING = Principal(id="staff:mkt", kind=Kind.STAFF, roles=frozenset({Role.MARKETING}))


@dataclass
class Loyalty:
    app: FastAPI
    client: httpx.AsyncClient
    broker: InMemoryBroker

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def deliver(self, event: Any) -> Any:
        from hotel_common.testing import deliver

        return deliver(self.broker, event, "reservation-service")

    async def stay(self, email: str, **changes: Any) -> ReservationConfirmed:
        """A booking confirmed and checked out, spending its total (or `spent`)."""
        spent = changes.pop("spent", None)
        booked = booking(email=email, aggregate_version=1, **changes)
        self.deliver(booked)
        checkout = reservation_checked_out(booked, aggregate_version=2)
        if spent is not None:
            checkout = checkout.model_copy(update={"amount_spent": spent})
        self.deliver(checkout)
        return booked

    async def guest_id(self, email: str) -> str:
        async def found() -> list[dict[str, Any]]:
            response = await self.client.get("/api/v1/guests", params={"email": email})
            return list(response.json()["items"])

        items = await eventually(found, until=bool)
        return str(items[0]["id"])

    async def member(self, guest_id: str) -> dict[str, Any] | None:
        response = await self.client.get("/api/v1/loyalty/members", params={"guest_id": guest_id})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items[0] if items else None

    async def member_once(self, guest_id: str, until: Any) -> dict[str, Any]:
        member = await eventually(lambda: self.member(guest_id), until=until)
        assert member is not None
        return member

    async def statement(self, number: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/v1/loyalty/members/{number}/statement")
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def events(self, kind: str) -> list[dict[str, Any]]:
        async with self.runtime.sessions() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.type == kind)
                    .order_by(col(OutboxMessage.created_at))
                )
            ).all()
        return [dict(row.envelope["payload"]) for row in rows]


def settings_for(url: str, **changes: Any) -> Settings:
    return Settings(database_url=url, retry_delays=[0.01, 0.05], log_json=False, **changes)


@pytest.fixture
async def loyalty(tmp_path: Path) -> AsyncIterator[Loyalty]:
    broker = InMemoryBroker()
    # Promotion thresholds low enough for a test to reach.
    app = create_app(
        settings_for(
            scratch_url("sqlite", tmp_path),
            loyalty_tier_stays={"silver": 2, "gold": 4, "diamond": 6},
            loyalty_tier_spend_cny={"silver": 100_000, "gold": 200_000, "diamond": 300_000},
        ),
        broker=broker,
    )
    async with running(app) as client:
        yield Loyalty(app, client, broker)


def enrolled(member: dict[str, Any] | None) -> bool:
    return member is not None and member["status"] == "active"


async def test_a_stay_of_500_yuan_enrols_at_regular_and_earns_a_point_a_yuan(
    loyalty: Loyalty,
) -> None:
    await loyalty.stay("wang.fang@example.com", total_amount=128_050)
    guest_id = await loyalty.guest_id("wang.fang@example.com")

    member = await loyalty.member_once(guest_id, enrolled)

    assert member | {"tier": "regular", "discount_percent": 10, "enrolled_by": "stay"} == member
    assert member["member_number"].startswith("M")
    assert member["points_balance"] == 1280 and member["points_pending"] == 0
    [line] = await loyalty.statement(member["member_number"])
    assert line | {"reason": "stay", "state": "posted", "points": 1280} == line
    [event] = await loyalty.events("loyalty.tier_changed")
    assert (
        event
        | {
            "guest_id": guest_id,
            "tier": "regular",
            "previous_tier": None,
            "discount_percent": 10,
            "emails": ["wang.fang@example.com"],
            "reason": "enrolled",
        }
        == event
    )


async def test_a_stay_below_500_yuan_enrols_nobody(loyalty: Loyalty) -> None:
    await loyalty.stay("small.spender@example.com", total_amount=49_999)
    # A second guest's qualifying stay, delivered after: once it is in, the first is too.
    await loyalty.stay("big.spender@example.com", total_amount=60_000)
    big = await loyalty.guest_id("big.spender@example.com")
    await loyalty.member_once(big, enrolled)

    small = await loyalty.guest_id("small.spender@example.com")
    assert await loyalty.member(small) is None


async def test_a_members_booking_is_pending_until_checkout_and_reversed_when_cancelled(
    loyalty: Loyalty,
) -> None:
    email = "li.na@example.com"
    await loyalty.stay(email, total_amount=80_000)
    guest_id = await loyalty.guest_id(email)
    await loyalty.member_once(guest_id, enrolled)

    kept = booking(email=email, total_amount=150_000, aggregate_version=1)
    dropped = booking(email=email, total_amount=70_000, aggregate_version=1)
    loyalty.deliver(kept)
    loyalty.deliver(dropped)
    member = await loyalty.member_once(
        guest_id, lambda m: m is not None and m["points_pending"] == 2200
    )
    assert member["points_balance"] == 800

    loyalty.deliver(reservation_cancelled(dropped, aggregate_version=2))
    # The settled bill, not the booking's total, is what the stay earns.
    checkout = reservation_checked_out(kept, aggregate_version=2)
    loyalty.deliver(checkout.model_copy(update={"amount_spent": 163_499}))
    member = await loyalty.member_once(
        guest_id, lambda m: m is not None and m["points_pending"] == 0 and m["points_balance"] > 800
    )

    assert member["points_balance"] == 800 + 1634
    states = {
        line["reference"]: line["state"]
        for line in await loyalty.statement(member["member_number"])
    }
    assert states[dropped.reservation_id] == "reversed"
    assert states[kept.reservation_id] == "posted"


async def test_a_change_of_a_members_booking_moves_its_pending_points(loyalty: Loyalty) -> None:
    email = "gao.yan@example.com"
    await loyalty.stay(email, total_amount=80_000)
    guest_id = await loyalty.guest_id(email)
    await loyalty.member_once(guest_id, enrolled)
    booked = booking(email=email, total_amount=150_000, aggregate_version=1)
    loyalty.deliver(booked)
    await loyalty.member_once(guest_id, lambda m: m is not None and m["points_pending"] == 1500)
    # A non-member's booking changed meanwhile holds nothing.
    other = booking(email="not.a.member@example.com", total_amount=90_000, aggregate_version=1)
    loyalty.deliver(other)
    loyalty.deliver(reservation_modified(other, total_amount=95_000, aggregate_version=2))

    loyalty.deliver(reservation_modified(booked, total_amount=120_000, aggregate_version=2))

    member = await loyalty.member_once(
        guest_id, lambda m: m is not None and m["points_pending"] == 1200
    )
    assert member["points_balance"] == 800
    other_id = await loyalty.guest_id("not.a.member@example.com")
    assert await loyalty.member(other_id) is None


async def test_stays_in_the_window_promote_and_the_quote_event_says_so(loyalty: Loyalty) -> None:
    email = "zhou.min@example.com"
    await loyalty.stay(email, total_amount=60_000)
    guest_id = await loyalty.guest_id(email)
    await loyalty.member_once(guest_id, enrolled)

    await loyalty.stay(
        email, total_amount=30_000, check_in=date(2026, 6, 1), check_out=date(2026, 6, 2)
    )
    member = await loyalty.member_once(guest_id, lambda m: m is not None and m["tier"] == "silver")

    assert member["discount_percent"] == 15
    tiers = [
        (e["previous_tier"], e["tier"], e["reason"])
        for e in await loyalty.events("loyalty.tier_changed")
    ]
    assert tiers == [(None, "regular", "enrolled"), ("regular", "silver", "promoted")]


async def test_redemption_never_overdraws_and_bad_requests_write_nothing(loyalty: Loyalty) -> None:
    await loyalty.stay("gao.yan@example.com", total_amount=150_000)
    guest_id = await loyalty.guest_id("gao.yan@example.com")
    number = (await loyalty.member_once(guest_id, enrolled))["member_number"]
    url = f"/api/v1/loyalty/members/{number}/redemptions"

    reward = await loyalty.client.post(url, json={"kind": "reward", "reward": "breakfast"})
    assert reward.status_code == 201, reward.text
    assert reward.json() | {"points": 800, "points_balance": 700} == reward.json()

    too_much = await loyalty.client.post(url, json={"kind": "folio_credit", "points": 710})
    problem = assert_problem(too_much, 409, "insufficient_points")
    assert problem["balance"] == 700
    odd = await loyalty.client.post(url, json={"kind": "folio_credit", "points": 15})
    assert_problem(odd, 422, "invalid_points")
    unknown = await loyalty.client.post(url, json={"kind": "reward", "reward": "yacht"})
    assert_problem(unknown, 422, "unknown_reward")
    extra = await loyalty.client.post(url, json={"kind": "reward", "reward": "spa", "points": 5})
    assert_problem(extra, 422, "validation_error")

    credit = await loyalty.client.post(url, json={"kind": "folio_credit", "points": 700})
    assert (
        credit.json() | {"credit_amount": 7000, "credit_currency": "CNY", "points_balance": 0}
        == credit.json()
    )
    member = await loyalty.member(guest_id)
    assert member is not None and member["points_balance"] == 0
    assert [line["points"] for line in await loyalty.statement(number)] == [-700, -800, 1500]


async def test_marketing_reads_members_and_may_not_redeem(loyalty: Loyalty) -> None:
    await loyalty.stay("xu.lei@example.com", total_amount=90_000)
    guest_id = await loyalty.guest_id("xu.lei@example.com")
    number = (await loyalty.member_once(guest_id, enrolled))["member_number"]
    as_marketing = principal_headers(MARKETING)

    read = await loyalty.client.get(f"/api/v1/loyalty/members/{number}", headers=as_marketing)
    assert read.status_code == 200
    redeem = await loyalty.client.post(
        f"/api/v1/loyalty/members/{number}/redemptions",
        json={"kind": "reward", "reward": "breakfast"},
        headers=as_marketing,
    )
    assert_problem(redeem, 403, "forbidden")
    waive = await loyalty.client.post(
        "/api/v1/loyalty/members",
        json={"guest_id": guest_id, "waive_minimum": True},
        headers=principal_headers(FRONT_DESK),
    )
    assert_problem(waive, 403, "forbidden")


async def test_the_guest_reads_and_redeems_their_own_points(loyalty: Loyalty) -> None:
    email = "he.jun@example.com"
    await loyalty.stay(email, total_amount=120_000)
    await loyalty.member_once(await loyalty.guest_id(email), enrolled)
    me = principal_headers(Principal(id="guest:he", kind=Kind.GUEST, email=email))

    mine = await loyalty.client.get("/api/v1/loyalty/members/me", headers=me)
    assert mine.status_code == 200 and mine.json()["points_balance"] == 1200
    spent = await loyalty.client.post(
        "/api/v1/loyalty/members/me/redemptions",
        json={"kind": "reward", "reward": "late_checkout"},
        headers=me,
    )
    assert spent.status_code == 201 and spent.json()["points_balance"] == 700
    statement = await loyalty.client.get("/api/v1/loyalty/members/me/statement", headers=me)
    assert [line["reason"] for line in statement.json()["items"]] == ["redemption", "stay"]
    stranger = principal_headers(Principal(id="guest:x", kind=Kind.GUEST, email="x@example.com"))
    assert_problem(
        await loyalty.client.get("/api/v1/loyalty/members/me", headers=stranger),
        404,
        "guest_not_found",
    )


async def test_referral_lapse_expiry_reminder_and_birthday(loyalty: Loyalty) -> None:
    await loyalty.stay("referrer@example.com", total_amount=100_000)
    referrer = await loyalty.guest_id("referrer@example.com")
    await loyalty.member_once(referrer, enrolled)
    friend_booking = booking(email="friend@example.com", aggregate_version=1)
    loyalty.deliver(friend_booking)
    friend = await loyalty.guest_id("friend@example.com")
    async with loyalty.runtime.sessions() as session, session.begin():
        guest = await session.get(Guest, friend)
        assert guest is not None
        guest.referrer_id = referrer
        guest.birth_date = date(1990, 3, 14)
    loyalty.deliver(reservation_checked_out(friend_booking, aggregate_version=2))
    await loyalty.member_once(friend, enrolled)

    member = await loyalty.member_once(
        referrer, lambda m: m is not None and m["points_balance"] == 1200
    )
    lines = await loyalty.statement(member["member_number"])
    assert (lines[0]["reason"], lines[0]["reference"]) == ("referral", friend)

    settings = loyalty.runtime.settings
    # The stays' points (earned May 2026) expire at the end of 2027; the referral's, earned
    # today, at the cut-off after the next one.
    referral_kept = 200 if ledger.expiry_date(utcnow().date(), "12-31") > date(2027, 12, 31) else 0

    async def step(fn: Any, today: date) -> int:
        async with loyalty.runtime.sessions() as session, session.begin():
            return int(await fn(session, today, settings))

    # Points of 2026 (stays checked out in May 2026) expire at the end of 2027.
    assert await step(jobs.remind, date(2027, 12, 10)) == 2
    assert await step(jobs.remind, date(2027, 12, 11)) == 0  # once
    reminders = await loyalty.events("loyalty.points_expiring")
    assert {(r["guest_id"], r["points"], r["expires_on"]) for r in reminders} == {
        (referrer, 1200 - referral_kept, "2027-12-31"),
        (friend, 1280, "2027-12-31"),
    }
    assert await step(jobs.expire, date(2027, 12, 30)) == 0  # not yet
    assert await step(jobs.expire, date(2027, 12, 31)) == 2
    assert await step(jobs.expire, date(2028, 1, 2)) == 0  # once
    member = await loyalty.member(referrer)
    assert member is not None and member["points_balance"] == referral_kept

    assert await step(jobs.birthdays, date(2027, 3, 14)) == 1
    assert await step(jobs.birthdays, date(2027, 3, 14)) == 0  # once a year
    [greeting] = await loyalty.events("loyalty.birthday_benefit")
    assert greeting | {"guest_id": friend, "email": "friend@example.com"} == greeting

    # Last stays left on 3 May 2026: two years on, both memberships lapse.
    assert await step(jobs.lapse, date(2028, 5, 2)) == 0
    assert await step(jobs.lapse, date(2028, 5, 3)) == 2
    lapsed = await loyalty.member(friend)
    assert lapsed is not None and lapsed["status"] == "lapsed" and lapsed["tier"] is None
    last = (await loyalty.events("loyalty.tier_changed"))[-1]
    assert last | {"tier": None, "reason": "lapsed", "emails": [], "discount_percent": 0} == last


async def test_award_is_once_per_reference(loyalty: Loyalty) -> None:
    await loyalty.stay("award@example.com", total_amount=50_000)
    guest_id = await loyalty.guest_id("award@example.com")
    await loyalty.member_once(guest_id, enrolled)
    for _ in range(2):
        async with loyalty.runtime.sessions() as session, session.begin():
            await ledger.award(session, guest_id, 300, "compensation", "complaint:C-1")
    member = await loyalty.member(guest_id)
    assert member is not None and member["points_balance"] == 800


async def test_merge_moves_the_points_and_undo_restores_both_accounts(loyalty: Loyalty) -> None:
    await loyalty.stay("one@example.com", total_amount=70_000)
    await loyalty.stay("two@example.com", total_amount=90_000)
    await loyalty.stay(
        "two@example.com",
        total_amount=10_000,
        check_in=date(2026, 7, 1),
        check_out=date(2026, 7, 2),
    )
    one, two = await loyalty.guest_id("one@example.com"), await loyalty.guest_id("two@example.com")
    await loyalty.member_once(one, enrolled)
    await loyalty.member_once(
        two, lambda m: m is not None and m["tier"] == "silver" and m["points_balance"] == 1000
    )

    async with loyalty.runtime.sessions() as session, session.begin():
        memo = await PART.merge(session, one, two)
    survivor = await loyalty.member(one)
    absorbed = await loyalty.member(two)
    assert survivor is not None and absorbed is not None
    assert (survivor["tier"], survivor["points_balance"]) == ("silver", 1700)
    assert (absorbed["status"], absorbed["points_balance"]) == ("merged", 0)

    async with loyalty.runtime.sessions() as session, session.begin():
        await PART.unmerge(session, one, two, memo)
    survivor = await loyalty.member(one)
    absorbed = await loyalty.member(two)
    assert survivor is not None and absorbed is not None
    assert (survivor["tier"], survivor["points_balance"]) == ("regular", 700)
    assert (absorbed["tier"], absorbed["status"], absorbed["points_balance"]) == (
        "silver",
        "active",
        1000,
    )


async def test_erasure_ends_the_membership_and_keeps_the_amounts(loyalty: Loyalty) -> None:
    await loyalty.stay("gone@example.com", total_amount=50_000)
    guest_id = await loyalty.guest_id("gone@example.com")
    number = (await loyalty.member_once(guest_id, enrolled))["member_number"]
    async with loyalty.runtime.sessions() as session, session.begin():
        await PART.erase(session, guest_id)
    member = await loyalty.member(guest_id)
    assert member is not None and (member["status"], member["tier"]) == ("erased", None)
    assert [line["points"] for line in await loyalty.statement(number)] == [500]
    last = (await loyalty.events("loyalty.tier_changed"))[-1]
    assert last | {"tier": None, "reason": "erased", "emails": [], "phones": []} == last


async def handled(loyalty: Loyalty, event_id: str, handler: str) -> bool:
    async with loyalty.runtime.sessions() as session:
        found = await session.get(ProcessedEvent, (event_id, handler))
    return found is not None


async def test_a_guest_erased_in_house_checks_out_without_joining_or_a_dead_letter(
    loyalty: Loyalty,
) -> None:
    # In house, not a member yet, erased at their request before leaving.
    booked = booking(email="leaving@example.com", aggregate_version=1, total_amount=128_000)
    loyalty.deliver(booked)
    guest_id = await loyalty.guest_id("leaving@example.com")
    erased = await loyalty.client.post(f"/api/v1/guests/{guest_id}/erasure", json={"confirm": True})
    assert erased.status_code == 200, erased.text

    sent = loyalty.deliver(reservation_checked_out(booked, aggregate_version=2))

    async def outcome() -> tuple[bool, list[Any]]:
        dead = (await loyalty.client.get("/admin/dead-letters")).json()["items"]
        return await handled(loyalty, sent.id, "guest.loyalty_earn"), dead

    done, dead = await eventually(outcome, until=lambda found: found[0] or found[1])
    assert dead == [] and done
    assert await loyalty.member(guest_id) is None  # the hotel forgot them: no membership


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def test_two_redemptions_at_once_succeed_once(db: str, tmp_path: Path) -> None:
    url = scratch_url(db, tmp_path, "redeem")
    settings = settings_for(url)
    broker = InMemoryBroker()
    try:
        # Two replicas on one database, one redemption each, at the same moment.
        async with (
            running(app := create_app(settings, broker=broker)) as first,
            running(create_app(settings, broker=broker)) as second,
        ):
            service = Loyalty(app, first, broker)
            await service.stay("race@example.com", total_amount=100_000)
            guest_id = await service.guest_id("race@example.com")
            number = (await service.member_once(guest_id, enrolled))["member_number"]
            url_ = f"/api/v1/loyalty/members/{number}/redemptions"
            body = {"kind": "folio_credit", "points": 600}
            answers = await asyncio.gather(
                *(
                    client.post(url_, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
                    for client in (first, second, first, second)
                )
            )
            codes = sorted(a.status_code for a in answers)
            assert codes == [201, 409, 409, 409], [a.text for a in answers]
            member = await service.member(guest_id)
            assert member is not None and member["points_balance"] == 400
    finally:
        if db == "postgresql":
            await drop_database(url)


@pytest.fixture(autouse=True)
def _no_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daily worker would run its steps for the real today: tests run them by hand."""
    monkeypatch.setattr(jobs, "STEPS", ())


async def test_a_members_no_show_reverses_the_pending_points(loyalty: Loyalty) -> None:
    from hotel_common.testing import reservation_no_show

    email = "no.show@example.com"
    await loyalty.stay(email, total_amount=60_000)
    guest_id = await loyalty.guest_id(email)
    await loyalty.member_once(guest_id, enrolled)
    missed = booking(email=email, total_amount=90_000, aggregate_version=1)
    loyalty.deliver(missed)
    await loyalty.member_once(guest_id, lambda m: m is not None and m["points_pending"] == 900)

    # The guest never came: the stay earns nothing, and nothing stays pending for it.
    loyalty.deliver(reservation_no_show(missed, aggregate_version=2))
    member = await loyalty.member_once(
        guest_id, lambda m: m is not None and m["points_pending"] == 0
    )
    assert member["points_balance"] == 600
    states = {
        line["reference"]: line["state"]
        for line in await loyalty.statement(member["member_number"])
    }
    assert states[missed.reservation_id] == "reversed"


async def test_an_email_added_to_or_removed_from_a_member_reaches_the_member_rate(
    loyalty: Loyalty,
) -> None:
    email = "two.addresses@example.com"
    await loyalty.stay(email, total_amount=60_000)
    guest_id = await loyalty.guest_id(email)
    await loyalty.member_once(guest_id, enrolled)

    added = await loyalty.client.post(
        f"/api/v1/guests/{guest_id}/contacts",
        json={"kind": "email", "value": "Work.Address@example.com"},
    )
    assert added.status_code == 201, added.text
    # reservation-service prices a quote for the new address at the member rate only if
    # loyalty says the member holds it.
    last = (await loyalty.events("loyalty.tier_changed"))[-1]
    assert sorted(last["emails"]) == ["two.addresses@example.com", "work.address@example.com"]
    assert last["tier"] == "regular"
    snapshot = (await loyalty.events("guest.contact_preferences_changed"))[-1]
    assert "work.address@example.com" in snapshot["emails"]

    listed = await loyalty.client.get(f"/api/v1/guests/{guest_id}/contacts")
    [first] = [c for c in listed.json() if c["value"] == email]
    removed = await loyalty.client.delete(f"/api/v1/guests/{guest_id}/contacts/{first['id']}")
    assert removed.status_code == 204, removed.text
    # The address left the member: whoever holds it next is not priced as this member.
    last = (await loyalty.events("loyalty.tier_changed"))[-1]
    assert last["emails"] == ["work.address@example.com"]
    snapshot = (await loyalty.events("guest.contact_preferences_changed"))[-1]
    assert email not in snapshot["emails"]


async def test_a_guest_merged_with_the_profile_they_referred_does_not_refer_themself(
    loyalty: Loyalty,
) -> None:
    # Two profiles of one person: the second names the first as referrer (the desk took the
    # friend's card for a new guest). Merged, the person may not earn referral points from
    # joining themself.
    first_booking = booking(email="kai.first@example.com", name="Kai Wen", aggregate_version=1)
    second_booking = booking(email="kai.second@example.com", name="Kai Wen", aggregate_version=1)
    loyalty.deliver(first_booking)
    loyalty.deliver(second_booking)
    first = await loyalty.guest_id("kai.first@example.com")
    second = await loyalty.guest_id("kai.second@example.com")
    referred = await loyalty.client.patch(f"/api/v1/guests/{second}", json={"referrer_id": first})
    assert referred.status_code == 200, referred.text

    merged = await loyalty.client.post(
        "/api/v1/guest-merges", json={"survivor_id": first, "absorbed_id": second}
    )
    assert merged.status_code == 201, merged.text
    survivor = (await loyalty.client.get(f"/api/v1/guests/{first}")).json()
    assert survivor["referrer_id"] is None

    loyalty.deliver(reservation_checked_out(first_booking, aggregate_version=2))
    member = await loyalty.member_once(first, enrolled)
    assert member["points_balance"] == 1280  # the stay's points, no referral
    reasons = [line["reason"] for line in await loyalty.statement(member["member_number"])]
    assert reasons == ["stay"]


async def test_a_lapsed_member_who_rejoins_is_not_lapsed_again_by_the_old_stay(
    loyalty: Loyalty,
) -> None:
    email = "back.again@example.com"
    await loyalty.stay(
        email, total_amount=80_000, check_in=date(2024, 1, 8), check_out=date(2024, 1, 10)
    )
    guest_id = await loyalty.guest_id(email)
    await loyalty.member_once(guest_id, enrolled)
    settings = loyalty.runtime.settings
    today = utcnow().date()

    async def lapse() -> int:
        async with loyalty.runtime.sessions() as session, session.begin():
            return await jobs.lapse(session, today, settings)

    assert await lapse() == 1  # no stay since January 2024
    # The guest asks to join again (a stay of 500 yuan behind them): a new membership today,
    # which lapses two years from now if they do not stay, not at the next run.
    rejoined = await loyalty.client.post("/api/v1/loyalty/members", json={"guest_id": guest_id})
    assert rejoined.status_code == 201, rejoined.text
    assert rejoined.json()["status"] == "active"
    assert await lapse() == 0
    member = await loyalty.member(guest_id)
    assert member is not None and member["status"] == "active"
