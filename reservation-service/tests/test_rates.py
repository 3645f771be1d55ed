"""Issue 17, rates: rate plans (base with weekday, weekend and season prices; derived as a
percentage off), restrictions, taxes, quotes, availability with plans, bulk ARI, through the
HTTP API. Expected prices are derived from the documented rules, never hard-coded."""

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotel_common.principal import ANONYMOUS, ApiScope, Kind, Principal, Role
from hotel_common.settings import DEV_INTERNAL_SECRET
from hotel_common.testing import Probe, assert_problem, principal_headers

KNG_BASE = 52800  # the demo hotel's King Room (docs/domain.md)
WEEKEND = {5, 6}  # Friday and Saturday nights


def as_(principal: Principal) -> dict[str, str]:
    return principal_headers(principal, DEV_INTERNAL_SECRET)


def staff(*roles: Role) -> Principal:
    return Principal(id=f"staff:{'-'.join(roles)}", kind=Kind.STAFF, roles=frozenset(roles))


CHANNEL_MANAGER = Principal(
    id="partner:cm", kind=Kind.PARTNER, channel="cm", scopes=frozenset({ApiScope.ARI_WRITE})
)
OTA_READ_WRITE = Principal(
    id="partner:ota",
    kind=Kind.PARTNER,
    channel="ota",
    scopes=frozenset({ApiScope.RESERVATIONS_READ, ApiScope.RESERVATIONS_WRITE}),
)


def d(text: str) -> date:
    return date.fromisoformat(text)


def nights_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def half_up(amount: int, bp: int) -> int:
    return (amount * bp + 5000) // 10000


async def create_plan(hotel: Any, **body: Any) -> dict[str, Any]:
    body = {"room_type_code": "KNG", "name": f"Plan {body.get('code')}", **body}
    response = await hotel.client.post("/api/v1/rate-plans", json=body)
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    return plan


async def quote(hotel: Any, check_in: str = "", check_out: str = "", **body: Any):
    payload = {
        "room_type_code": "KNG",
        "check_in": check_in or hotel.stay[0],
        "check_out": check_out or hotel.stay[1],
        **body,
    }
    return await hotel.client.post("/api/v1/quotes", json=payload)


async def availability(hotel: Any, check_in: str = "", check_out: str = "", **params: Any):
    response = await hotel.client.get(
        "/api/v1/availability",
        params={"check_in": check_in or hotel.stay[0], "check_out": check_out or hotel.stay[1]}
        | params,
    )
    assert response.status_code == 200, response.text
    return {t["room_type_code"]: t for t in response.json()["room_types"]}


async def push(hotel: Any, plan_id: int, what: str, *ranges: dict[str, Any], **kwargs: Any):
    return await hotel.client.put(
        f"/api/v1/rate-plans/{plan_id}/{what}", json={"ranges": list(ranges)}, **kwargs
    )


# -- no plan: today's clients -----


async def test_a_room_type_without_plans_sells_its_base_amount_under_the_default_terms(hotel):
    response = await quote(hotel, adults=2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rate_plan_code"] == "BASE" and body["rate_plan_id"] is None
    assert [n["amount"] for n in body["nightly"]] == [KNG_BASE] * 3
    assert body["room_amount"] == body["total_amount"] == 3 * KNG_BASE
    assert body["tax_amount"] == 0 and body["available"] == 7
    assert body["policy"]["cancellation"] == {
        "free_until_hours": 24,
        "fee": "first_night",
        "fee_percent": 0,
    }
    assert body["policy"]["guarantee"]["kind"] == "none" and body["guarantee_amount"] == 0

    kng = (await availability(hotel))["KNG"]
    assert (kng["nightly_amount"], kng["total_amount"]) == (KNG_BASE, 3 * KNG_BASE)
    assert [p["rate_plan_code"] for p in kng["rate_plans"]] == ["BASE"]
    assert kng["free_per_night"] == [7, 7, 7]

    booked = await hotel.book()
    assert booked["nightly_amounts"] == [KNG_BASE] * 3
    assert booked["total_amount"] == 3 * KNG_BASE


# -- prices -----


async def test_base_plan_prices_weekday_weekend_and_seasons_and_pushed_nights_win(hotel):
    start = d(hotel.stay[0])
    end = start + timedelta(days=14)
    season = (start + timedelta(days=3), start + timedelta(days=8))
    plan = await create_plan(
        hotel,
        code="BASE",
        weekday_amount=50000,
        weekend_amount=60000,
        seasons=[
            {
                "name": "Festival",
                "start": season[0].isoformat(),
                "end": season[1].isoformat(),
                "weekday_amount": 70000,
                "weekend_amount": 90000,
            }
        ],
    )
    pushed_night = start + timedelta(days=5)  # inside the season
    result = await push(
        hotel,
        plan["id"],
        "rates",
        {
            "start": pushed_night.isoformat(),
            "end": (pushed_night + timedelta(days=1)).isoformat(),
            "amount": 99900,
        },
    )
    assert result.status_code == 200, result.text

    def expected(night: date) -> int:
        if night == pushed_night:
            return 99900
        weekend = night.isoweekday() in WEEKEND
        if season[0] <= night < season[1]:
            return 90000 if weekend else 70000
        return 60000 if weekend else 50000

    response = await quote(hotel, start.isoformat(), end.isoformat())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rate_plan_id"] == plan["id"]
    assert [(n["night"], n["amount"]) for n in body["nightly"]] == [
        (n.isoformat(), expected(n)) for n in nights_of(start, end)
    ]
    assert body["room_amount"] == sum(expected(n) for n in nights_of(start, end))

    booked = await hotel.book(check_in=start.isoformat(), check_out=end.isoformat())
    assert booked["nightly_amounts"] == [expected(n) for n in nights_of(start, end)]
    assert booked["rate_plan_code"] == "BASE"


async def test_derived_plan_follows_its_parent_less_its_discount(hotel):
    start, end = d(hotel.stay[0]), d(hotel.stay[1])
    member = await create_plan(hotel, code="member10", parent_code="BASE", discount_bp=1250)
    assert (member["code"], member["kind"], member["parent_code"]) == (
        "MEMBER10",
        "derived",
        "BASE",
    )
    plans = (await hotel.client.get("/api/v1/rate-plans", params={"room_type_code": "KNG"})).json()
    base = next(p for p in plans["items"] if p["code"] == "BASE")  # made from the room type
    assert base["weekday_amount"] == KNG_BASE

    first = await quote(hotel, rate_plan_code="member10")
    assert [n["amount"] for n in first.json()["nightly"]] == [
        KNG_BASE - half_up(KNG_BASE, 1250)
    ] * 3

    pushed = await push(
        hotel,
        base["id"],
        "rates",
        {"start": start.isoformat(), "end": end.isoformat(), "amount": 40001},
    )
    assert pushed.status_code == 200
    second = (await quote(hotel, rate_plan_code="MEMBER10")).json()
    assert [n["amount"] for n in second["nightly"]] == [40001 - half_up(40001, 1250)] * 3

    refused = await push(
        hotel,
        member["id"],
        "rates",
        {"start": start.isoformat(), "end": end.isoformat(), "amount": 1},
    )
    assert_problem(refused, 409, "derived_plan_prices")

    offers = (await availability(hotel))["KNG"]["rate_plans"]
    assert [o["rate_plan_code"] for o in offers] == ["MEMBER10", "BASE"]  # cheapest first
    assert offers[0]["total_amount"] < offers[1]["total_amount"]


async def test_taxes_are_the_property_rate_added_to_the_room_amount(hotel):
    properties = (await hotel.client.get("/api/v1/properties")).json()["items"]
    prop_id = properties[0]["id"]
    assert properties[0]["tax_rate_bp"] == 0
    changed = await hotel.client.patch(f"/api/v1/properties/{prop_id}", json={"tax_rate_bp": 650})
    assert changed.status_code == 200 and changed.json()["tax_rate_bp"] == 650

    body = (await quote(hotel)).json()
    assert body["tax_rate_bp"] == 650
    assert body["tax_amount"] == half_up(body["room_amount"], 650)
    assert body["total_amount"] == body["room_amount"] + body["tax_amount"]
    kng = (await availability(hotel))["KNG"]
    assert kng["total_amount"] == body["total_amount"]

    booked = await hotel.book()
    assert (booked["tax_amount"], booked["total_amount"]) == (
        body["tax_amount"],
        body["total_amount"],
    )
    for bad in ({"tax_rate_bp": -1}, {"tax_rate_bp": 3001}, {"name": "x"}):
        response = await hotel.client.patch(f"/api/v1/properties/{prop_id}", json=bad)
        assert_problem(response, 422, "validation_error")
    missing = await hotel.client.patch("/api/v1/properties/999", json={"tax_rate_bp": 1})
    assert_problem(missing, 404, "property_not_found")


async def test_plan_terms_travel_with_quotes_and_bookings_and_changes_keep_old_bookings(hotel):
    await create_plan(
        hotel,
        code="BASE",
        cancellation={"free_until_hours": 72, "fee": "percent", "fee_percent": 40},
        guarantee={"kind": "deposit", "deposit_percent": 30, "due_hours": 12},
    )
    body = (await quote(hotel)).json()
    assert body["policy"] == {
        "cancellation": {"free_until_hours": 72, "fee": "percent", "fee_percent": 40},
        "guarantee": {"kind": "deposit", "deposit_percent": 30, "due_hours": 12},
    }
    assert body["guarantee_amount"] == (body["total_amount"] * 30 + 50) // 100
    arrival = datetime.combine(d(hotel.stay[0]), time(14), ZoneInfo("Asia/Shanghai"))
    until = datetime.fromisoformat(body["free_cancellation_until"].replace("Z", "+00:00"))
    assert until == arrival - timedelta(hours=72)  # the demo hotel checks in from 14:00
    booked = await hotel.book()
    assert booked["policy"] == body["policy"]

    plans = (await hotel.client.get("/api/v1/rate-plans")).json()["items"]
    plan_id = next(p["id"] for p in plans if p["code"] == "BASE" and p["room_type_code"] == "KNG")
    patched = await hotel.client.patch(
        f"/api/v1/rate-plans/{plan_id}",
        json={"weekday_amount": 10000, "weekend_amount": 10000, "guarantee": {"kind": "none"}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["cancellation"]["free_until_hours"] == 72  # untouched
    again = await hotel.reservation(booked["id"])
    assert again["nightly_amounts"] == booked["nightly_amounts"]
    assert again["policy"] == booked["policy"]
    assert (await quote(hotel)).json()["room_amount"] == 30000


# -- restrictions -----


async def test_restrictions_refuse_quotes_and_bookings_and_hide_plans(hotel):
    start, end = d(hotel.stay[0]), d(hotel.stay[1])
    base = await create_plan(hotel, code="BASE")
    member = await create_plan(hotel, code="MEMBER", parent_code="BASE", discount_bp=1000)
    one_night = {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}

    cases = [
        (base, {"min_stay": 4}, "min_stay", start),
        (base, {"max_stay": 2}, "max_stay", start),
        (base, {"closed_to_arrival": True}, "closed_to_arrival", start),
    ]
    for plan, restriction, kind, night in cases:
        assert (
            await push(hotel, plan["id"], "restrictions", one_night | restriction)
        ).status_code == 200
        refused = assert_problem(await quote(hotel), 409, "stay_restricted")
        assert (refused["restriction"], refused["night"]) == (kind, night.isoformat())
        # the derived plan is bound by its parent's restrictions too
        assert_problem(await quote(hotel, rate_plan_code="MEMBER"), 409, "stay_restricted")
        kng = (await availability(hotel))["KNG"]
        assert kng["rate_plans"] == [] and kng["available"] == 7
        booking = await hotel.client.post("/api/v1/reservations", json=hotel.booking())
        assert_problem(booking, 409, "stay_restricted")
        cleared = {"min_stay": None, "max_stay": None, "closed_to_arrival": False}
        assert (
            await push(hotel, plan["id"], "restrictions", one_night | cleared)
        ).status_code == 200
        assert (await quote(hotel)).status_code == 200

    departure = {"start": end.isoformat(), "end": (end + timedelta(days=1)).isoformat()}
    await push(hotel, member["id"], "restrictions", departure | {"closed_to_departure": True})
    assert (await quote(hotel)).status_code == 200  # BASE is not closed
    refused = assert_problem(await quote(hotel, rate_plan_code="MEMBER"), 409, "stay_restricted")
    assert (refused["restriction"], refused["night"]) == ("closed_to_departure", end.isoformat())
    assert [p["rate_plan_code"] for p in (await availability(hotel))["KNG"]["rate_plans"]] == [
        "BASE"
    ]

    middle = start + timedelta(days=1)
    stop = {"start": middle.isoformat(), "end": (middle + timedelta(days=1)).isoformat()}
    await push(hotel, base["id"], "restrictions", stop | {"stop_sell": True})
    refused = assert_problem(await quote(hotel), 409, "stay_restricted")
    assert (refused["restriction"], refused["night"]) == ("stop_sell", middle.isoformat())
    # a stay around the stopped night still sells
    assert (await quote(hotel, start.isoformat(), middle.isoformat())).status_code == 200
    assert (await availability(hotel, sellable_only=True)).get("KNG") is None


# -- ARI -----


async def test_ari_pushes_are_idempotent_by_content_and_all_or_nothing(hotel):
    start = d(hotel.stay[0])
    plan = await create_plan(hotel, code="BASE")
    ranges = [
        {
            "start": start.isoformat(),
            "end": (start + timedelta(days=28)).isoformat(),
            "amount": 61800,
        },
        {
            "start": start.isoformat(),
            "end": (start + timedelta(days=28)).isoformat(),
            "weekdays": [6],
            "amount": 71800,
        },
    ]
    first = await push(hotel, plan["id"], "rates", *ranges)
    assert first.status_code == 200, first.text
    assert (first.json()["nights"], first.json()["changed"]) == (28, 28)
    again = await push(hotel, plan["id"], "rates", *ranges)
    assert (again.json()["nights"], again.json()["changed"]) == (28, 0)

    ari = await hotel.client.get(
        "/api/v1/ari",
        params={
            "from": start.isoformat(),
            "to": (start + timedelta(days=28)).isoformat(),
            "room_type_code": "KNG",
        },
    )
    assert ari.status_code == 200, ari.text
    [kng] = ari.json()["room_types"]
    [base] = kng["rate_plans"]
    assert [(n["night"], n["amount"]) for n in base["nights"]] == [
        (n.isoformat(), 71800 if n.isoweekday() == 6 else 61800)
        for n in nights_of(start, start + timedelta(days=28))
    ]

    bad = await push(
        hotel,
        plan["id"],
        "rates",
        {
            "start": start.isoformat(),
            "end": (start + timedelta(days=2)).isoformat(),
            "amount": 1000,
        },
        {"start": start.isoformat(), "end": start.isoformat(), "amount": 1000},
    )
    assert_problem(bad, 422, "validation_error")
    past = await push(
        hotel,
        plan["id"],
        "rates",
        {
            "start": start.isoformat(),
            "end": (start + timedelta(days=2)).isoformat(),
            "amount": 1000,
        },
        {"start": (start - timedelta(days=30)).isoformat(), "end": start.isoformat(), "amount": 1},
    )
    assert_problem(past, 422, "range_in_past")
    too_far = await push(
        hotel,
        plan["id"],
        "restrictions",
        {
            "start": (start + timedelta(days=600)).isoformat(),
            "end": (start + timedelta(days=602)).isoformat(),
            "stop_sell": True,
        },
    )
    assert_problem(too_far, 422, "range_too_far")
    conflicting = await push(
        hotel,
        plan["id"],
        "restrictions",
        {"start": start.isoformat(), "end": (start + timedelta(days=3)).isoformat(), "min_stay": 3},
        {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(), "max_stay": 2},
    )
    assert_problem(conflicting, 422, "min_stay_above_max_stay")
    for amount in (0, -5, 10**9):
        out_of_range = await push(
            hotel,
            plan["id"],
            "rates",
            {
                "start": start.isoformat(),
                "end": (start + timedelta(days=1)).isoformat(),
                "amount": amount,
            },
        )
        assert_problem(out_of_range, 422, "validation_error")
    after = (await quote(hotel, start.isoformat(), (start + timedelta(days=2)).isoformat())).json()
    assert [n["amount"] for n in after["nightly"]] == [
        71800 if n.isoweekday() == 6 else 61800 for n in nights_of(start, start + timedelta(days=2))
    ]
    assert (
        await quote(hotel, start.isoformat(), (start + timedelta(days=2)).isoformat())
    ).status_code == 200

    cleared = await push(
        hotel,
        plan["id"],
        "rates",
        {
            "start": start.isoformat(),
            "end": (start + timedelta(days=28)).isoformat(),
            "amount": None,
        },
    )
    assert cleared.json()["changed"] == 28
    assert [n["amount"] for n in (await quote(hotel)).json()["nightly"]] == [KNG_BASE] * 3


async def test_ari_read_shows_free_rooms_per_night_and_is_bounded(hotel):
    start = d(hotel.stay[0])
    await hotel.add_room_type("ONE", rooms=1)
    middle = await hotel.book(
        room_type_code="ONE",
        check_in=(start + timedelta(days=1)).isoformat(),
        check_out=(start + timedelta(days=2)).isoformat(),
    )
    assert (await hotel.confirm(middle["id"])).status_code == 200
    params = {"from": start.isoformat(), "to": (start + timedelta(days=3)).isoformat()}
    ari = (await hotel.client.get("/api/v1/ari", params=params | {"room_type_code": "one"})).json()
    [one] = ari["room_types"]
    assert one["free"] == [1, 0, 1]
    assert [p["code"] for p in one["rate_plans"]] == ["BASE"]  # implicit
    assert (await availability(hotel))["ONE"]["free_per_night"] == [1, 0, 1]
    assert (await availability(hotel))["ONE"]["rate_plans"] == []  # nothing free all stay

    everything = (await hotel.client.get("/api/v1/ari", params=params)).json()
    assert len(everything["room_types"]) == 6

    too_long = {"from": start.isoformat(), "to": (start + timedelta(days=367)).isoformat()}
    assert_problem(await hotel.client.get("/api/v1/ari", params=too_long), 422, "range_too_long")
    backwards = {"from": start.isoformat(), "to": start.isoformat()}
    assert_problem(
        await hotel.client.get("/api/v1/ari", params=backwards), 422, "to_not_after_from"
    )
    unknown = params | {"room_type_code": "ZZZ"}
    assert_problem(await hotel.client.get("/api/v1/ari", params=unknown), 422, "unknown_room_type")


# -- bad input -----


async def test_bad_plans_and_quotes_are_clear_problems_and_write_nothing(hotel):
    await create_plan(hotel, code="BASE")
    start = d(hotel.stay[0])
    bad_plans = [
        ({"code": "BASE"}, 409, "rate_plan_exists"),
        ({"code": "X1", "parent_code": "NOPE", "discount_bp": 100}, 422, "unknown_rate_plan"),
        ({"code": "X2", "parent_code": "BASE"}, 422, "validation_error"),  # no discount
        ({"code": "X3", "parent_code": "BASE", "discount_bp": 10000}, 422, "validation_error"),
        ({"code": "X4", "discount_bp": 500}, 422, "validation_error"),
        ({"code": "X5", "room_type_code": "ZZZ"}, 422, "unknown_room_type"),
        ({"code": "X6", "weekday_amount": 0}, 422, "validation_error"),
        (
            {"code": "X7", "cancellation": {"fee": "percent", "fee_percent": 101}},
            422,
            "validation_error",
        ),
        (
            {"code": "X8", "guarantee": {"kind": "deposit", "deposit_percent": 0}},
            422,
            "validation_error",
        ),
        ({"code": "X9", "status": "open"}, 422, "validation_error"),
        (
            {
                "code": "XA",
                "seasons": [
                    {
                        "name": "a",
                        "start": start.isoformat(),
                        "end": (start + timedelta(days=5)).isoformat(),
                        "weekday_amount": 100,
                    },
                    {
                        "name": "b",
                        "start": (start + timedelta(days=4)).isoformat(),
                        "end": (start + timedelta(days=9)).isoformat(),
                        "weekday_amount": 100,
                    },
                ],
            },
            422,
            "validation_error",
        ),
    ]
    for body, status, code in bad_plans:
        response = await hotel.client.post(
            "/api/v1/rate-plans", json={"room_type_code": "KNG", "name": "x", **body}
        )
        assert_problem(response, status, code)
    listed = (await hotel.client.get("/api/v1/rate-plans")).json()["items"]
    assert [p["code"] for p in listed] == ["BASE"]

    member = await create_plan(hotel, code="MB", parent_code="BASE", discount_bp=500)
    derived_prices = await hotel.client.patch(
        f"/api/v1/rate-plans/{member['id']}", json={"weekday_amount": 100}
    )
    assert_problem(derived_prices, 422, "derived_plan_prices")
    assert_problem(await hotel.client.get("/api/v1/rate-plans/9999"), 404, "rate_plan_not_found")

    bad_quotes = [
        ({"rate_plan_code": "NOPE"}, 422, "unknown_rate_plan", "body.rate_plan_code"),
        ({"adults": 2, "children": [4]}, 422, "too_many_guests", "body.adults"),
        ({"guests": 3}, 422, "too_many_guests", "body.guests"),
        ({"room_type_code": "ZZZ"}, 422, "unknown_room_type", "body.room_type_code"),
        ({"check_out": hotel.stay[0]}, 422, "check_out_not_after_check_in", "body.check_out"),
        (
            {"check_in": (start - timedelta(days=11)).isoformat()},
            422,
            "check_in_in_past",
            "body.check_in",
        ),
        ({"adults": 1, "guests": 2}, 422, "validation_error", None),
        ({"children": [30], "adults": 1}, 422, "validation_error", None),
    ]
    for body, status, code, field in bad_quotes:
        problem = assert_problem(await quote(hotel, **body), status, code)
        if field:
            assert problem["errors"][0]["field"] == field
    family = await quote(hotel, room_type_code="STE", adults=2, children=[5, 9])
    assert family.status_code == 200 and family.json()["guests"] == 4

    mismatch = await hotel.client.get(
        "/api/v1/availability",
        params={"check_in": hotel.stay[0], "check_out": hotel.stay[1], "adults": 1, "guests": 3},
    )
    assert_problem(mismatch, 422, "party_mismatch")
    party = await availability(hotel, adults=2, children=1)
    assert sorted(party) == ["DLX", "STE"]


# -- who may -----


async def test_managers_set_up_plans_channel_managers_push_and_read_ari_the_public_quotes(hotel):
    plan = await create_plan(hotel, code="BASE")
    new_plan = {"room_type_code": "STD", "code": "BASE", "name": "Base"}
    window = {"start": hotel.stay[0], "end": hotel.stay[1], "amount": 50000}
    ari = {"from": hotel.stay[0], "to": hotel.stay[1]}

    for principal, status in [
        (ANONYMOUS, 401),
        (staff(Role.FRONT_DESK), 403),
        (CHANNEL_MANAGER, 403),
    ]:
        response = await hotel.client.post(
            "/api/v1/rate-plans", json=new_plan, headers=as_(principal)
        )
        assert response.status_code == status, principal
        patched = await hotel.client.patch(
            f"/api/v1/rate-plans/{plan['id']}", json={"name": "x"}, headers=as_(principal)
        )
        assert patched.status_code == status
    for principal, status in [
        (ANONYMOUS, 401),
        (staff(Role.RESERVATIONS), 403),
        (OTA_READ_WRITE, 403),
        (CHANNEL_MANAGER, 200),
        (staff(Role.MANAGER), 200),
    ]:
        pushed = await push(hotel, plan["id"], "rates", window, headers=as_(principal))
        assert pushed.status_code == status, (principal, pushed.text)
    for principal, status in [
        (ANONYMOUS, 401),
        (staff(Role.HOUSEKEEPING), 403),
        (OTA_READ_WRITE, 403),
        (CHANNEL_MANAGER, 200),
        (staff(Role.FRONT_DESK), 200),
    ]:
        read = await hotel.client.get("/api/v1/ari", params=ari, headers=as_(principal))
        assert read.status_code == status, principal
    elsewhere = Principal(
        id="staff:far", kind=Kind.STAFF, roles=frozenset({Role.MANAGER}), properties=frozenset({99})
    )
    assert (
        await push(hotel, plan["id"], "rates", window, headers=as_(elsewhere))
    ).status_code == 403
    for path in ("/api/v1/rate-plans", f"/api/v1/rate-plans/{plan['id']}"):
        assert (await hotel.client.get(path, headers=as_(ANONYMOUS))).status_code == 200
    public_quote = await hotel.client.post(
        "/api/v1/quotes",
        json={"room_type_code": "KNG", "check_in": hotel.stay[0], "check_out": hotel.stay[1]},
        headers=as_(ANONYMOUS),
    )
    assert public_quote.status_code == 200


# -- concurrency -----


async def test_concurrent_pushes_and_plan_creations_stay_consistent(hotel_on_each_db):
    hotel = hotel_on_each_db
    start = d(hotel.stay[0])
    plan = await create_plan(hotel, code="BASE")
    end = (start + timedelta(days=30)).isoformat()
    answers = await asyncio.gather(
        *(
            push(
                hotel,
                plan["id"],
                "rates",
                {"start": start.isoformat(), "end": end, "amount": 40000 + i},
            )
            for i in range(6)
        ),
        *(
            push(
                hotel,
                plan["id"],
                "restrictions",
                {"start": start.isoformat(), "end": end, "min_stay": 1 + i % 2},
            )
            for i in range(4)
        ),
    )
    assert [a.status_code for a in answers] == [200] * 10
    ari = (
        await hotel.client.get(
            "/api/v1/ari", params={"from": start.isoformat(), "to": end, "room_type_code": "KNG"}
        )
    ).json()
    nights = ari["room_types"][0]["rate_plans"][0]["nights"]
    assert len({n["amount"] for n in nights}) == 1  # one push won every night, never a mix
    assert len({n["min_stay"] for n in nights}) == 1

    created = await asyncio.gather(
        *(
            hotel.client.post(
                "/api/v1/rate-plans",
                json={
                    "room_type_code": "STD",
                    "code": "SAME",
                    "name": "Same",
                    "parent_code": "BASE",
                    "discount_bp": 100,
                },
            )
            for _ in range(4)
        )
    )
    statuses = sorted(r.status_code for r in created)
    # derived plans of a room type without a BASE row yet: BASE is made once, both succeed
    first_derived = await asyncio.gather(
        *(
            hotel.client.post(
                "/api/v1/rate-plans",
                json={
                    "room_type_code": "DLX",
                    "code": f"D{i}D",
                    "name": "D",
                    "parent_code": "BASE",
                    "discount_bp": 100 * (i + 1),
                },
            )
            for i in range(3)
        )
    )
    assert [r.status_code for r in first_derived] == [201] * 3, [r.text for r in first_derived]
    dlx = (await hotel.client.get("/api/v1/rate-plans", params={"room_type_code": "DLX"})).json()
    assert sorted(p["code"] for p in dlx["items"]) == ["BASE", "D0D", "D1D", "D2D"]
    assert statuses == [201, 409, 409, 409], [r.text for r in created]
    listed = (await hotel.client.get("/api/v1/rate-plans", params={"room_type_code": "STD"})).json()
    assert sorted(p["code"] for p in listed["items"]) == ["BASE", "SAME"]


async def test_the_booking_events_carry_the_guarantee_terms_for_the_guests_notices(hotel, broker):
    """Issue 20: the request's event says how to guarantee it (the plan's deposit, computed as
    the quote does), the confirmation and a change say what is still owed and by when, and a
    met guarantee is announced as a change without one."""
    probe = Probe(broker, {"reservation.created", "reservation.confirmed", "reservation.modified"})
    await create_plan(
        hotel, code="BASE", guarantee={"kind": "deposit", "deposit_percent": 30, "due_hours": 12}
    )
    booked = await hotel.book()
    [created] = [
        e
        for e in await events(hotel, probe)
        if e.type == "reservation.created" and e.payload["reservation_id"] == booked["id"]
    ]
    deposit = (booked["total_amount"] * 30 + 50) // 100
    assert created.payload["guarantee"] == {
        "kind": "deposit",
        "amount": deposit,
        "due_hours": 12,
        "due_at": None,
    }
    assert created.payload["property_timezone"] == "Asia/Shanghai"
    assert created.payload["room_type_name"]

    confirmed = await hotel.confirm(booked["id"])
    assert confirmed.status_code == 200, confirmed.text
    [event] = [e for e in await events(hotel, probe) if e.type == "reservation.confirmed"]
    due = confirmed.json()["guarantee_due_at"]
    assert due is not None
    assert event.payload["guarantee"]["amount"] == deposit
    assert datetime.fromisoformat(event.payload["guarantee"]["due_at"].replace("Z", "+00:00")) == (
        datetime.fromisoformat(due.replace("Z", "+00:00"))
    )
    assert (event.payload["check_in_time"], event.payload["check_out_time"]) == ("14:00", "12:00")

    met = await hotel.client.post(f"/api/v1/reservations/{booked['id']}/guarantee")
    assert met.status_code == 200, met.text
    [change] = [e for e in await events(hotel, probe) if e.type == "reservation.modified"]
    assert "guarantee" not in change.payload
    assert "guaranteed_at" in change.payload["changes"]
    assert change.aggregate_version == event.aggregate_version + 1


async def events(hotel, probe):
    await hotel.published()  # the outbox is empty
    return probe.events()
