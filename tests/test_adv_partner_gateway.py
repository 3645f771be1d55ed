"""Adversarial, through the gateway: a curious second partner and a narrow key of the first.

Partner A books with its full key and subscribes a webhook; A's rate-push key (`ari:write`
only) and partner B then try to read or steer what is A's. B finds nothing of A's anywhere
(feed, subscription by id under every verb, redelivery of A's event id, mappings filtered by A's
id); A's narrow key reads no booking in the feed and changes no webhook; staff and anonymous
callers are refused the feed.
"""

import uuid
from typing import Any

import httpx
from harness import Platform, tonight
from hotel_common.testing import assert_problem, eventually

API = "/api/v1"
HOOK = "http://127.0.0.1:9/hook"  # embedded runs in development: loopback allowed


async def partner_key(gw: httpx.AsyncClient, name: str, *scopes: str) -> tuple[str, list[str]]:
    made = await gw.post(f"{API}/partners", json={"name": name, "channel": name.lower()})
    assert made.status_code == 201, made.text
    partner_id = made.json()["id"]
    keys = []
    for scope_set in scopes:
        key = await gw.post(f"{API}/partners/{partner_id}/keys", json={"scopes": scope_set.split()})
        assert key.status_code == 201, key.text
        keys.append(key.json()["key"])
    return str(partner_id), keys


def as_key(gw: httpx.AsyncClient, key: str | None) -> httpx.AsyncClient:
    headers = {"X-API-Key": key} if key else {}
    return httpx.AsyncClient(transport=gw._transport, base_url=gw.base_url, headers=headers)


async def test_a_second_partner_and_a_narrow_key_reach_nothing_of_a_partners_bookings(
    embedded: Platform,
) -> None:
    gw = embedded.client  # the bootstrap admin
    a_id, (a_full, a_ari) = await partner_key(
        gw, "OtaA", "reservations:read reservations:write", "ari:write"
    )
    _, (b_full,) = await partner_key(gw, "OtaB", "reservations:read reservations:write")
    async with as_key(gw, a_full) as a, as_key(gw, a_ari) as narrow, as_key(gw, b_full) as b:
        check_in, check_out = tonight()
        email = f"lea-{uuid.uuid4().hex[:6]}@example.com"
        booked = await a.post(
            f"{API}/reservations",
            json={
                "guest": {"name": "Lea Moreau", "email": email},
                "room_type_code": "KNG",
                "check_in": check_in,
                "check_out": check_out,
                "guests": 1,
            },
        )
        assert booked.status_code == 201, booked.text
        rid = booked.json()["id"]
        assert (await a.post(f"{API}/reservations/{rid}/confirm")).status_code == 200
        sub = await a.post(f"{API}/webhook-subscriptions", json={"url": HOOK, "event_types": ["*"]})
        assert sub.status_code == 201, sub.text
        sub_id = sub.json()["id"]

        async def a_feed() -> list[dict[str, Any]]:
            page = await a.get(f"{API}/events")
            assert page.status_code == 200, page.text
            events: list[dict[str, Any]] = page.json()["events"]
            return events

        events = await eventually(
            a_feed, lambda got: any(e["type"] == "reservation.confirmed" for e in got), 20
        )
        event_id = events[0]["id"]

        # A's rate-push key: no booking in the feed, no say over the webhooks.
        narrow_page = (await narrow.get(f"{API}/events")).json()
        assert [e for e in narrow_page["events"] if e["reservation_id"]] == []
        assert email not in str(narrow_page)
        refused = await narrow.post(
            f"{API}/webhook-subscriptions", json={"url": HOOK, "event_types": ["*"]}
        )
        assert_problem(refused, 403, "forbidden")
        moved = await narrow.patch(
            f"{API}/webhook-subscriptions/{sub_id}", json={"url": "http://127.0.0.1:10/x"}
        )
        assert_problem(moved, 403, "forbidden")

        # Partner B: nothing of A's, under any verb or guess.
        assert (await b.get(f"{API}/events")).json()["events"] == []
        page = await b.get(f"{API}/events", params={"after": "0", "types": "reservation.confirmed"})
        assert page.json()["events"] == []
        for after in ("1", "2"):  # A's cursors, never handed to B (whose newest is 0)
            page = await b.get(
                f"{API}/events", params={"after": after, "types": "reservation.confirmed"}
            )
            assert assert_problem(page, 422, "cursor_unknown")["newest_cursor"] == "0", after
        base = f"{API}/webhook-subscriptions/{sub_id}"
        for method, path, body in [
            ("GET", base, None),
            ("PATCH", base, {"url": "http://127.0.0.1:10/x"}),
            ("DELETE", base, None),
            ("GET", f"{base}/deliveries", None),
            ("POST", f"{base}/redeliveries", {"event_id": event_id}),
            ("POST", f"{base}/rotate-secret", None),
        ]:
            answer = await b.request(method, path, json=body)
            assert_problem(answer, 404, "webhook_subscription_not_found")
        b_sub = await b.post(
            f"{API}/webhook-subscriptions", json={"url": HOOK, "event_types": ["*"]}
        )
        assert b_sub.status_code == 201, b_sub.text
        stolen = await b.post(
            f"{API}/webhook-subscriptions/{b_sub.json()['id']}/redeliveries",
            json={"event_id": event_id},
        )
        assert_problem(stolen, 404, "event_not_found")
        mappings = await b.get(f"{API}/partner-mappings", params={"partner_id": a_id})
        assert mappings.status_code == 200 and mappings.json()["items"] == []
        assert (await a.get(base)).json()["url"] == HOOK  # untouched

    # Not a partner: the feed is refused.
    assert_problem(await gw.get(f"{API}/events"), 403, "forbidden")
    async with as_key(gw, None) as anonymous:
        assert (await anonymous.get(f"{API}/events")).status_code == 401
