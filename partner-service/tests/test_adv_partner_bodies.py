"""Adversarial: hostile bodies and parameters on the feed and the webhook subscriptions, and a
curious second partner. Each refusal is a problem+json 4xx and writes nothing.

What broke: an event type no feed entry ever has (`foo.bar`) was accepted, so a subscription
silently never fired; NUL and other control characters in `description` and `contact_email`
were stored (PostgreSQL cannot store NUL at all: a 500 there; C1/BEL reach the disabled-webhook
e-mail); redelivery requests had no bound on how many could be open at once (each up to 10 000
entries: one partner could queue millions of sends with a loop of POSTs).
"""

from pathlib import Path
from typing import Any

import pytest
from hotel_common.testing import PROBLEM_JSON, assert_problem

from .webhook_support import new_partner_id, platform

URL = "http://127.0.0.1:9/hook"  # development: loopback allowed; nothing is sent in these tests
SUBS = "/api/v1/webhook-subscriptions"


async def nothing_written(p: Any) -> None:
    assert (await p.client.get(SUBS)).json() == {"items": []}


@pytest.mark.parametrize(
    "body",
    [
        {"url": URL, "event_types": ["foo.bar"]},
        {"url": URL, "event_types": ["reservation.confirmed", "reservation.teleported"]},
        {"url": URL, "event_types": ["reservation.confirmed"] * 51},
        {"url": URL, "event_types": ["x" * 101]},
        {"url": URL, "event_types": "reservation.confirmed"},
        {"url": URL, "event_types": ["*"], "description": "bookings\x00"},
        {"url": URL, "event_types": ["*"], "description": "bell\x07"},
        {"url": URL, "event_types": ["*"], "description": "csi\x9b31m"},
        {"url": URL, "event_types": ["*"], "contact_email": "ops\x00@example.com"},
        {"url": URL, "event_types": ["*"], "contact_email": "ops@exa\x1bmple.com"},
        {"url": URL, "event_types": ["*"], "unknown": 1},
        {"url": URL, "event_types": ["*"], "secret": "whsec_mine"},
        {"url": URL * 1000, "event_types": ["*"]},
        {"url": 17, "event_types": ["*"]},
        {"event_types": ["*"]},
    ],
)
async def test_a_hostile_subscription_body_is_a_422_and_writes_nothing(
    tmp_path: Path, body: dict[str, Any]
) -> None:
    async with platform(tmp_path) as p:
        answer = await p.client.post(SUBS, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM_JSON)
        await nothing_written(p)


async def test_a_patch_with_an_unknown_type_or_a_control_character_changes_nothing(
    tmp_path: Path,
) -> None:
    async with platform(tmp_path) as p:
        made = await p.subscribe(URL, event_types=["reservation.confirmed"])
        path = f"{SUBS}/{made['id']}"
        for body in (
            {"event_types": ["foo.bar"]},
            {"description": "x\x00"},
            {"contact_email": "a\x00@b.c"},
            {"status": "deleted"},
            {"cursor": "0"},
        ):
            answer = await p.client.patch(path, json=body)
            assert answer.status_code == 422, (body, answer.text)
        after = await p.subscription(made["id"])
        assert after["event_types"] == ["reservation.confirmed"]
        assert after["description"] is None and after["updated_at"] == made["updated_at"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"not json", "application/json"),
        (b'{"url": "http://127.0.0.1:9/hook", "event_types": ["*"]', "application/json"),
        (b'{"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}', "text/plain"),
        (b"url=http://127.0.0.1:9/hook", "application/x-www-form-urlencoded"),
        (b"[]", "application/json"),
        (b"\xff\xfe", "application/json"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_a_4xx(
    tmp_path: Path, content: bytes, content_type: str
) -> None:
    async with platform(tmp_path) as p:
        answer = await p.client.post(SUBS, content=content, headers={"content-type": content_type})
        assert 400 <= answer.status_code < 500, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM_JSON)
        await nothing_written(p)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "1000000000"},
        {"limit": "ten"},
        {"after": "-1"},
        {"after": "1.5"},
        {"after": "abc"},
        {"after": "9" * 19},
        {"after": " 1"},
        {"types": "reservation.confirmed,"},
        {"types": "x" * 2001},
    ],
)
async def test_a_malformed_feed_read_is_a_422(tmp_path: Path, params: dict[str, str]) -> None:
    async with platform(tmp_path) as p:
        answer = await p.client.get("/api/v1/events", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM_JSON)


async def test_a_huge_or_future_cursor_reads_nothing_of_another_partner(tmp_path: Path) -> None:
    async with platform(tmp_path) as p:
        other = new_partner_id()
        await p.append(3, partner_id=other)
        assert (await p.client.get("/api/v1/events", params={"after": "0"})).json()["events"] == []
        for after in ("1", "2", "999999999999999999"):  # the other's cursors, never ours
            page = await p.client.get("/api/v1/events", params={"after": after})
            assert assert_problem(page, 422, "cursor_unknown")["newest_cursor"] == "0", after
        typed = await p.client.get("/api/v1/events", params={"types": "reservation.confirmed"})
        assert typed.json()["events"] == []


async def test_redelivery_requests_are_bounded_and_cross_tenant_ones_are_404(
    tmp_path: Path,
) -> None:
    async with platform(tmp_path) as p:
        b = new_partner_id()
        await p.append(20)
        [b_event] = await p.append(partner_id=b)
        made = await p.subscribe(URL, event_types=["*"])
        b_made = await p.subscribe(URL, partner_id=b)
        mine = f"{SUBS}/{made['id']}/redeliveries"
        theirs = f"{SUBS}/{b_made['id']}/redeliveries"

        # Another partner's subscription, another partner's event: 404, as if not there.
        assert_problem(
            await p.client.post(theirs, json={"event_id": b_event}),
            404,
            "webhook_subscription_not_found",
        )
        missing = await p.client.post(mine, json={"event_id": b_event})
        assert_problem(missing, 404, "event_not_found")

        for bad in (
            {"after": "5", "through": "5"},
            {"after": "9", "through": "3"},
            {"after": "0", "through": "99999999999999999999"},
            {"after": "-1", "through": "3"},
            {"after": "1.0", "through": "3"},
            {"after": "1"},
            {"event_id": "x" * 37},
            {"event_id": None, "after": None, "through": None},
            {"event_id": "a", "after": "1", "through": "2"},
        ):
            answer = await p.client.post(mine, json=bad)
            assert answer.status_code == 422, (bad, answer.text)

        # A loop of POSTs cannot queue without bound: the open jobs per subscription are few.
        statuses = [
            (await p.client.post(mine, json={"after": "0", "through": "20"})).status_code
            for _ in range(30)
        ]
        assert statuses.count(202) <= 10, statuses
        refused = await p.client.post(mine, json={"after": "0", "through": "20"})
        assert_problem(refused, 409, "too_many_redeliveries")
