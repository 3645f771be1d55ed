"""Webhooks, as a partner lives them: subscribe, receive signed deliveries in cursor order,
survive a receiver that is down, get told when a subscription is disabled, read the log,
ask for redelivery (SQLite, in-memory bus, a receiver on loopback)."""

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from hotel_common.testing import Probe, assert_problem, eventually
from partner_service.signing import InvalidSignature, verify

from .webhook_support import Receiver, new_partner_id, platform, receiving


async def test_a_delivery_is_signed_with_the_secret_shown_once(tmp_path: Path) -> None:
    async with platform(tmp_path) as p, receiving() as receiver:
        made = await p.subscribe(receiver.url, event_types=["reservation.confirmed"])
        secret = made["secret"]
        assert secret.startswith("whsec_")
        assert "secret" not in await p.subscription(made["id"])
        [event_id] = await p.append()
        await p.append(event_type="reservation.cancelled")  # not of its types: skipped
        [later] = await p.append()

        await eventually(lambda: len(receiver.accepted) == 2)
        first = receiver.accepted[0]
        verify(secret, first.headers, first.body)
        with pytest.raises(InvalidSignature):
            verify("whsec_" + "A" * 44, first.headers, first.body)
        with pytest.raises(InvalidSignature):
            verify(secret, first.headers, first.body + b" ")
        assert first.headers["webhook-id"] == event_id
        assert abs(int(first.headers["webhook-timestamp"]) - time.time()) < 10
        assert first.json["type"] == "reservation.confirmed"
        assert set(first.json) == {
            "id",
            "cursor",
            "type",
            "occurred_at",
            "reservation_id",
            "aggregate_version",
            "payload",
        }
        assert receiver.event_ids() == [event_id, later]
        log = await eventually(lambda: p.deliveries(made["id"]), lambda items: len(items) == 2)
        assert [a["outcome"] for a in log] == ["delivered", "delivered"]
        assert (await p.subscription(made["id"]))["cursor"] == "3"


async def test_a_new_subscription_starts_at_the_partners_current_cursor(tmp_path: Path) -> None:
    async with platform(tmp_path) as p, receiving() as receiver:
        await p.append(3)
        made = await p.subscribe(receiver.url)
        assert made["cursor"] == "3"
        [fresh] = await p.append()
        await eventually(lambda: receiver.event_ids() == [fresh])


async def test_a_receiver_down_for_a_while_then_back_gets_every_event_once_in_order(
    tmp_path: Path,
) -> None:
    async with platform(tmp_path) as p, receiving() as receiver:
        made = await p.subscribe(receiver.url)
        assert receiver.proxy is not None
        receiver.proxy.cut()
        ids = await p.append(5)
        await eventually(lambda: p.deliveries(made["id"]), lambda log: len(log) >= 3, timeout=15)
        receiver.proxy.restore()
        ids += await p.append(5)
        await eventually(lambda: len(receiver.accepted) >= 10, timeout=20)
        await asyncio.sleep(0.3)  # nothing more arrives
        assert receiver.event_ids(accepted_only=False) == ids
        log = await eventually(
            lambda: p.deliveries(made["id"]),
            lambda items: [a["outcome"] for a in items].count("delivered") == 10,
        )
        failed = [a for a in log if a["outcome"] == "failed"]
        assert failed and {a["event_id"] for a in failed} == {ids[0]}
        assert [a["attempt"] for a in failed] == list(range(1, len(failed) + 1))
        sub = await p.subscription(made["id"])
        assert (sub["failing_since"], sub["last_error"], sub["cursor"]) == (None, None, "10")


async def test_a_500_is_retried_a_400_is_not(tmp_path: Path) -> None:
    async with platform(tmp_path) as p, receiving(Receiver(statuses=[500, 503, 400])) as receiver:
        made = await p.subscribe(receiver.url)
        first, second = await p.append(2)
        await eventually(lambda: p.deliveries(made["id"]), lambda items: len(items) == 4)
        assert [(r.json["id"], r.status) for r in receiver.requests] == [
            (first, 500),
            (first, 503),
            (first, 400),
            (second, 200),
        ]
        log = await p.deliveries(made["id"])
        assert [(a["outcome"], a["status_code"], a["attempt"]) for a in log] == [
            ("failed", 500, 1),
            ("failed", 503, 2),
            ("not_retried", 400, 3),
            ("delivered", 200, 1),
        ]


async def test_408_and_429_are_retried_and_retry_after_is_honoured(tmp_path: Path) -> None:
    async with platform(tmp_path) as p, receiving(Receiver(statuses=[408, 429])) as receiver:
        made = await p.subscribe(receiver.url)
        await p.append()
        log = await eventually(lambda: p.deliveries(made["id"]), lambda items: len(items) == 3)
        assert [a["outcome"] for a in log] == ["failed", "failed", "delivered"]


async def test_a_subscription_failing_too_long_is_disabled_and_its_partner_told(
    tmp_path: Path,
) -> None:
    from hotel_common.events.memory import InMemoryBroker

    broker = InMemoryBroker()
    probe = Probe(broker, {"partner.webhook_disabled"})
    async with (
        platform(tmp_path, broker=broker, webhook_disable_after_seconds=0.5) as p,
        receiving(Receiver(status=503)) as receiver,
    ):
        made = await p.subscribe(receiver.url)
        [event_id] = await p.append()
        sub = await eventually(
            lambda: p.subscription(made["id"]), lambda s: s["status"] == "disabled", timeout=15
        )
        assert "503" in sub["disabled_reason"]
        told = await eventually(lambda: probe.events("partner.webhook_disabled"), timeout=10)
        assert told[0].payload["subscription_id"] == made["id"]
        assert told[0].payload["contact_email"] == "ops@example-ota.com"
        assert told[0].payload["partner_id"] == p.partner_id
        tries = len(receiver.requests)
        await asyncio.sleep(0.5)
        assert len(receiver.requests) == tries  # a disabled subscription is left alone

        # Re-enabled: failing state reset, it resumes with the entry it was stuck on.
        receiver.status = 200
        patched = await p.client.patch(
            f"/api/v1/webhook-subscriptions/{made['id']}", json={"status": "active"}
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["failing_since"], patched.json()["disabled_reason"]) == (None, None)
        await eventually(lambda: receiver.event_ids() == [event_id])


async def test_a_slow_receiver_does_not_delay_another_partners_deliveries(tmp_path: Path) -> None:
    other = new_partner_id()
    async with (
        platform(tmp_path) as p,
        receiving(Receiver(delay=2.5)) as slow,
        receiving() as quick,
    ):
        await p.subscribe(slow.url)
        await p.subscribe(quick.url, partner_id=other)
        await p.append(3)  # the slow receiver's partner first
        started = time.monotonic()
        ids = await p.append(3, partner_id=other)
        await eventually(lambda: quick.event_ids() == ids, timeout=2)
        assert time.monotonic() - started < 1.5
        assert len(slow.accepted) == 0


async def test_a_redirect_is_not_followed(tmp_path: Path) -> None:
    async with (
        receiving() as elsewhere,
        platform(tmp_path) as p,
        receiving(Receiver(redirect_to=elsewhere.url)) as receiver,
    ):
        made = await p.subscribe(receiver.url)
        await p.append(2)
        log = await eventually(lambda: p.deliveries(made["id"]), lambda items: len(items) == 2)
        assert [(a["outcome"], a["status_code"]) for a in log] == [("not_retried", 302)] * 2
        assert "redirect" in log[0]["error"]
        assert elsewhere.requests == []


async def test_an_endless_answer_body_is_read_only_up_to_the_cap(tmp_path: Path) -> None:
    options: dict[str, Any] = {"webhook_max_response_bytes": 1024, "webhook_timeout_seconds": 3}
    async with platform(tmp_path, **options) as p, receiving(Receiver(huge=True)) as receiver:
        made = await p.subscribe(receiver.url)
        await p.append()
        [attempt] = await eventually(lambda: p.deliveries(made["id"]), timeout=10)
        assert attempt["outcome"] == "delivered"
        assert attempt["duration_ms"] < 2000  # not read until the timeout
        assert len(receiver.requests) == 1


async def test_one_event_and_a_cursor_range_are_redelivered(tmp_path: Path) -> None:
    async with platform(tmp_path) as p, receiving() as receiver:
        made = await p.subscribe(receiver.url)
        path = f"/api/v1/webhook-subscriptions/{made['id']}/redeliveries"
        ids = await p.append(5)
        await eventually(lambda: receiver.event_ids() == ids)

        one = await p.client.post(path, json={"event_id": ids[2]})
        assert one.status_code == 202, one.text
        await eventually(lambda: receiver.event_ids() == [*ids, ids[2]])
        span = await p.client.post(path, json={"after": "1", "through": "4"})
        assert span.status_code == 202, span.text
        await eventually(lambda: receiver.event_ids() == [*ids, ids[2], *ids[1:4]])
        log = await eventually(lambda: p.deliveries(made["id"]), lambda items: len(items) == 9)
        assert [a["redelivery"] for a in log] == [False] * 5 + [True] * 4

        for bad in ({"after": "4", "through": "2"}, {"after": "1", "through": "99"}, {}):
            assert_problem(await p.client.post(path, json=bad), 422, "invalid_redelivery")
        missing = await p.client.post(path, json={"event_id": "nope"})
        assert_problem(missing, 404, "event_not_found")


async def test_a_rotated_secret_signs_alongside_the_old_one(tmp_path: Path) -> None:
    async with platform(tmp_path) as p, receiving() as receiver:
        made = await p.subscribe(receiver.url)
        rotated = await p.client.post(f"/api/v1/webhook-subscriptions/{made['id']}/rotate-secret")
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != made["secret"]
        await p.append()
        [got] = await eventually(lambda: receiver.accepted)
        assert len(got.headers["webhook-signature"].split()) == 2
        verify(new, got.headers, got.body)
        verify(made["secret"], got.headers, got.body)


async def test_a_partner_sees_only_its_own_subscriptions(tmp_path: Path) -> None:
    async with platform(tmp_path) as p, receiving() as receiver:
        made = await p.subscribe(receiver.url)
        other = p.as_partner(new_partner_id())
        base = f"/api/v1/webhook-subscriptions/{made['id']}"
        for method, path in [
            ("GET", base),
            ("PATCH", base),
            ("DELETE", base),
            ("GET", f"{base}/deliveries"),
            ("POST", f"{base}/rotate-secret"),
        ]:
            body = {"description": "x"} if method == "PATCH" else None
            answer = await other.request(method, path, json=body)
            assert_problem(answer, 404, "webhook_subscription_not_found")
        assert (await other.get("/api/v1/webhook-subscriptions")).json() == {"items": []}
        listed = (await p.client.get("/api/v1/webhook-subscriptions")).json()["items"]
        assert [s["id"] for s in listed] == [made["id"]]
        deleted = await p.client.delete(base)
        assert deleted.status_code == 204


async def test_bad_subscriptions_are_refused(tmp_path: Path) -> None:
    async with platform(tmp_path) as p:
        url = "/api/v1/webhook-subscriptions"
        for body in (
            {"url": "https://example.com/h", "event_types": []},
            {"url": "https://example.com/h", "event_types": ["*", "reservation.confirmed"]},
            {"url": "https://example.com/h", "event_types": ["Not A Type"]},
            {"url": "https://example.com/h", "event_types": ["*"], "secret": "mine"},
        ):
            answer = await p.client.post(url, json=body)
            assert answer.status_code == 422, (body, answer.text)


async def test_the_delivery_log_is_kept_as_long_as_the_feed(tmp_path: Path) -> None:
    from datetime import timedelta

    from hotel_common.time import utcnow
    from partner_service.delivery import SENDER

    async with platform(tmp_path) as p, receiving() as receiver:
        made = await p.subscribe(receiver.url)
        await p.append()
        await eventually(lambda: p.deliveries(made["id"]))
        sender = p.runtime.extras[SENDER]
        assert await sender.prune(utcnow() + timedelta(days=29)) == 0
        assert await sender.prune(utcnow() + timedelta(days=31)) == 1
        assert await p.deliveries(made["id"]) == []
