"""Issue 21 as a partner sees it, across services through the gateway, on both run modes.

An admin makes two partners, A and B, with keys; a manager of the hotel maps A's codes there
(B has none). A subscribes a webhook (a receiver this test runs on loopback: partner-service
runs in development), books with its codes a stay with a pickup, and confirms: the booking's
lifecycle, its pickup and its notices come to A's feed, and `availability.changed` of the
booked room type in A's codes within a few seconds; the same entries reach A's receiver once
each, in cursor order, signed. B books too (the hotel's codes: no mapping): B's feed holds
only B's booking, no availability, whatever cursor it reads from. A's booking with a code it
has not mapped is refused naming the code, and reaches no feed; A cancels: the cancellation,
and the night given back in `availability.changed`.
"""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from gateway.identity.testing import bearer, staff_token
from harness import Platform
from hotel_common.testing import assert_problem, eventually, serving
from partner_service.signing import verify

API = "/api/v1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PROPERTY = 1
# A's codes for the hotel's King room and its base plan.
MAPPING = {"room_types": {"DBL-SEA": "KNG"}, "rate_plans": {"RO": "BASE"}}
AVAILABILITY_WITHIN = 5.0  # seconds from the change to the entry in the feed ("a few")
SCOPES = ["reservations:read", "reservations:write"]


@pytest.fixture
def service_overrides() -> dict[str, dict[str, Any]]:
    # Development: a loopback http receiver is allowed. Short retry delays and poll.
    fast = {"webhook_backoff_seconds": [0.05, 0.1, 0.2], "webhook_poll_seconds": 0.2}
    return {"partner-service": {"environment": "development", **fast}}


@dataclass
class Receiver:
    """A's webhook endpoint: keeps each delivery's headers and raw body, answers 204."""

    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks")
        async def receive(request: Request) -> Response:
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.deliveries.append((headers, await request.body()))
            return Response(status_code=204)

        return app


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serving(receiver.app(), lifespan="off") as base:
        receiver.url = f"{base}/hooks"
        yield receiver


@dataclass
class Partner:
    id: str
    channel: str
    client: httpx.AsyncClient  # the gateway, with this partner's key

    async def feed(self, after: str | None = None) -> list[dict[str, Any]]:
        """Every entry of its feed after `after`, page by page, in the order read."""
        entries: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"limit": 50} | ({"after": after} if after else {})
            page = await self.client.get(f"{API}/events", params=params)
            assert page.status_code == 200, page.text
            entries += page.json()["events"]
            after = page.json()["next_cursor"]
            if not page.json()["has_more"]:
                return entries

    async def book(self, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"{API}/reservations", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )


async def new_partner(platform: Platform, name: str) -> Partner:
    made = await platform.client.post(f"{API}/partners", json={"name": name, "channel": name})
    assert made.status_code == 201, made.text
    partner_id = str(made.json()["id"])
    key = await platform.client.post(f"{API}/partners/{partner_id}/keys", json={"scopes": SCOPES})
    assert key.status_code == 201, key.text
    return Partner(partner_id, name, platform.caller({"X-API-Key": key.json()["key"]}))


def stay(email: str, room_type: str, check_in: date, nights: int, **more: Any) -> dict[str, Any]:
    return {
        "guest": {"name": "Ana Lima", "email": email, "language": "en"},
        "room_type_code": room_type,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=nights)).isoformat(),
        "guests": 2,
        **more,
    }


def pickup(check_in: date) -> dict[str, Any]:
    arrival = datetime.combine(check_in, datetime.min.time(), SHANGHAI) + timedelta(hours=10)
    return {
        "flight_number": "MU5101",
        "arrival_time": arrival.isoformat(),
        "pickup_place": "Shanghai Pudong International Airport T1",
        "passengers": 2,
        "luggage": 2,
    }


def nights_of(body: dict[str, Any]) -> list[str]:
    start, end = date.fromisoformat(body["check_in"]), date.fromisoformat(body["check_out"])
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days)]


def free_on(entries: list[dict[str, Any]], nights: list[str]) -> dict[str, int]:
    """What the availability entries say is free each night: for each, the message with the
    highest sequence covering it (the rule partners follow, docs/partners.md)."""
    best: dict[str, tuple[int, int]] = {}
    for entry in entries:
        payload = entry["payload"]
        start = date.fromisoformat(payload["start"])
        for i, free in enumerate(payload["free"]):
            night = (start + timedelta(days=i)).isoformat()
            if night in nights and payload["sequence"] > best.get(night, (-1, 0))[0]:
                best[night] = (payload["sequence"], free)
    return {night: free for night, (_, free) in best.items()}


async def test_a_partners_booking_through_its_feed_and_webhook(platform: Platform) -> None:
    a = await new_partner(platform, f"ota_a_{platform.mode}")
    b = await new_partner(platform, f"ota_b_{platform.mode}")
    # A manager of the property (not the admin) maps A's codes there; B gets no mapping.
    manager = staff_token(platform.gateway_settings, ["manager"], [PROPERTY], user_id="mgr")
    mapped = await platform.client.put(
        f"{API}/partner-mappings/{a.id}/properties/{PROPERTY}",
        json=MAPPING,
        headers=bearer(manager),
    )
    assert mapped.status_code == 200, mapped.text

    async with receiving() as receiver:
        hook = await a.client.post(
            f"{API}/webhook-subscriptions",
            json={"url": receiver.url, "event_types": ["*"], "contact_email": "ops@ota-a.test"},
        )
        assert hook.status_code == 201, hook.text
        secret = hook.json()["secret"]
        assert await a.feed() == []  # the subscription starts here: everything below is sent

        # B, unmapped, books with the hotel's codes, far from A's nights.
        b_body = stay("bo.b@example.com", "KNG", date.today() + timedelta(days=40), 1)
        b_made = await b.book(b_body)
        assert b_made.status_code == 201, b_made.text
        b_rid = b_made.json()["id"]
        assert (await b.client.post(f"{API}/reservations/{b_rid}/confirm")).status_code == 200

        # A books with its codes, a pickup asked, and confirms.
        check_in = date.today() + timedelta(days=12)
        body = stay(
            f"ana.{platform.mode}@example.com",
            "DBL-SEA",
            check_in,
            3,
            rate_plan_code="RO",
            transfer=pickup(check_in),
        )
        nights = nights_of(body)
        free_before = await available(a.client, body, "KNG")
        made = await a.book(body)
        assert made.status_code == 201, made.text
        assert (made.json()["room_type_code"], made.json()["channel"]) == ("KNG", a.channel)
        rid = made.json()["id"]
        confirmed = await a.client.post(f"{API}/reservations/{rid}/confirm")
        assert confirmed.status_code == 200, confirmed.text

        # Within a few seconds, A's nights in A's codes: one room fewer each night.
        held = {night: free_before - 1 for night in nights}
        await eventually(
            a.feed,
            lambda f: free_on(availability_of(f, "KNG"), nights) == held,
            timeout=AVAILABILITY_WITHIN,
            interval=0.1,
        )
        # The booking's lifecycle, its pickup and its three notices (request, confirmation,
        # pickup), each sent.
        kinds = {"reservation_created", "reservation_confirmed", "transfer_assigned"}
        feed = await eventually(
            a.feed,
            lambda f: "transfer.assigned" in types_of(f, rid) and notices_sent(f, rid) == kinds,
            timeout=20,
            interval=0.2,
        )
        assert_feed_order(feed)
        assert lifecycle(feed, rid) == ["reservation.created", "reservation.confirmed"]
        assert sorted(types_of(feed, rid)) == sorted(
            ["reservation.created", "reservation.confirmed", "transfer.assigned"]
            + ["notice.status_changed"] * 3
        )
        assert {e["reservation_id"] for e in feed} <= {rid, None}  # none of B's
        for entry in feed:
            if entry["type"] == "notice.status_changed":  # how it went, never to whom
                assert "ana." not in json.dumps(entry["payload"]), entry
            if entry["type"] == "availability.changed":
                assert_in_a_codes(entry["payload"])

        # B's feed: its own booking only, no availability (it is mapped nowhere), whichever
        # cursor it reads after, A's included.
        b_feed = await eventually(
            b.feed,
            lambda f: lifecycle(f, b_rid) == ["reservation.created", "reservation.confirmed"],
            timeout=15,
            interval=0.2,
        )
        assert_feed_order(b_feed)
        assert {e["reservation_id"] for e in b_feed} == {b_rid}
        assert not {e["id"] for e in b_feed} & {e["id"] for e in feed}
        b_newest = max(int(e["cursor"]) for e in b_feed)
        for cursor in [e["cursor"] for e in feed]:
            after = await b.client.get(f"{API}/events", params={"after": cursor})
            if int(cursor) > b_newest:  # never handed to B: refused, nothing of A's shown
                assert assert_problem(after, 422, "cursor_unknown")["newest_cursor"] == str(
                    b_newest
                )
                continue
            assert after.status_code == 200, after.text
            assert {e["reservation_id"] for e in after.json()["events"]} <= {b_rid}
            assert [e["id"] for e in after.json()["events"]] == [
                e["id"] for e in b_feed if int(e["cursor"]) > int(cursor)
            ]

        # A code A has not mapped, the hotel's own included, is refused and named.
        for change, code in [({"room_type_code": "KNG"}, "KNG"), ({"rate_plan_code": "NR"}, "NR")]:
            refused = await a.book(body | change)
            problem = assert_problem(refused, 422, "unmapped_code")
            assert code in problem["detail"], problem
            assert [e["field"] for e in problem["errors"]] == [f"body.{next(iter(change))}"]

        # A cancels: the cancellation, and its nights given back.
        cancelled = await a.client.post(f"{API}/reservations/{rid}/cancel", json={"reason": "x"})
        assert cancelled.status_code == 200, cancelled.text
        freed = {night: free_before for night in nights}
        feed = await eventually(
            a.feed,
            lambda f: (
                "reservation.cancelled" in types_of(f, rid)
                and free_on(availability_of(f, "KNG"), nights) == freed
            ),
            timeout=AVAILABILITY_WITHIN + 5,
            interval=0.1,
        )
        assert lifecycle(feed, rid)[-1] == "reservation.cancelled"

        # The refused bookings reached no feed: A has one booking, B's feed has not moved.
        assert {e["reservation_id"] for e in feed} <= {rid, None}
        mine = await a.client.get(f"{API}/reservations")
        assert [r["id"] for r in mine.json()["items"]] == [rid], mine.text
        assert await b.feed() == b_feed

        # A's receiver got every entry of A's feed once, in cursor order, each signed.
        async def sent_and_kept() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
            kept = [(e["id"], e["cursor"]) for e in await a.feed()]
            sent = [(h["webhook-id"], json.loads(raw)["cursor"]) for h, raw in receiver.deliveries]
            return sent, kept

        await eventually(sent_and_kept, lambda s: s[0] == s[1], timeout=10, interval=0.2)
        by_id = {e["id"]: e for e in await a.feed()}
        for headers, raw in receiver.deliveries:
            verify(secret, headers, raw)  # raises unless signed with A's secret, just now
            sent = json.loads(raw)
            kept = by_id[sent["id"]]
            assert {k: sent[k] for k in ("cursor", "type", "reservation_id", "payload")} == {
                k: kept[k] for k in ("cursor", "type", "reservation_id", "payload")
            }


def types_of(feed: list[dict[str, Any]], rid: str) -> list[str]:
    return [e["type"] for e in feed if e["reservation_id"] == rid]


def lifecycle(feed: list[dict[str, Any]], rid: str) -> list[str]:
    """The booking's reservation.* entries by the booking's version (two that crossed on the
    bus may be numbered either way: docs/partners.md, Order)."""
    rows = [e for e in feed if e["reservation_id"] == rid and e["type"].startswith("reservation.")]
    return [e["type"] for e in sorted(rows, key=lambda e: e["aggregate_version"])]


def notices_sent(feed: list[dict[str, Any]], rid: str) -> set[str]:
    return {
        e["payload"]["kind"]
        for e in feed
        if e["reservation_id"] == rid
        and e["type"] == "notice.status_changed"
        and e["payload"]["status"] == "sent"
    }


def availability_of(feed: list[dict[str, Any]], hotel_code: str) -> list[dict[str, Any]]:
    return [
        e
        for e in feed
        if e["type"] == "availability.changed"
        and e["payload"]["hotel_room_type_code"] == hotel_code
    ]


def assert_feed_order(feed: list[dict[str, Any]]) -> None:
    """Read in cursor order: consecutive numbers from 1, each event once."""
    assert [int(e["cursor"]) for e in feed] == list(range(1, len(feed) + 1))
    assert len({e["id"] for e in feed}) == len(feed)


def assert_in_a_codes(payload: dict[str, Any]) -> None:
    assert payload["property_id"] == PROPERTY
    assert (payload["room_type_code"], payload["room_type_codes"]) == ("DBL-SEA", ["DBL-SEA"])
    assert [(p["code"], p["hotel_code"]) for p in payload["rate_plans"]] == [("RO", "BASE")]
    assert (
        len(payload["free"])
        == (date.fromisoformat(payload["end"]) - date.fromisoformat(payload["start"])).days
    )


async def available(client: httpx.AsyncClient, body: dict[str, Any], hotel_code: str) -> int:
    """Rooms of the type free for the whole stay, as the partner's search says (hotel codes)."""
    found = await client.get(
        f"{API}/availability", params={"check_in": body["check_in"], "check_out": body["check_out"]}
    )
    assert found.status_code == 200, found.text
    rows = found.json()["room_types"]
    return next(int(row["available"]) for row in rows if row["room_type_code"] == hotel_code)
