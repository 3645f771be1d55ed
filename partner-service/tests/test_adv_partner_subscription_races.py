"""Adversarial (issue 21): creating webhook subscriptions at once through two replicas on
PostgreSQL: the per-partner limit holds, and one Idempotency-Key is one subscription with one
secret whichever replica the retry reaches."""

import asyncio
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotel_common.db import drop_database
from partner_service.subscriptions import SUBSCRIPTIONS_PER_PARTNER

from .webhook_support import Platform, new_partner_id, platform

pytestmark = pytest.mark.infra

BODY = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}


async def two_replicas(stack: AsyncExitStack, tmp_path: Path, url: str) -> list[Platform]:
    return [await stack.enter_async_context(platform(tmp_path, database_url=url)) for _ in range(2)]


async def test_the_subscription_limit_holds_against_creates_racing_on_two_replicas(
    tmp_path: Path,
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_adv_subs_{uuid.uuid4().hex[:12]}"
    try:
        async with AsyncExitStack() as stack:
            replicas = await two_replicas(stack, tmp_path, url)
            partner_id = new_partner_id()
            tries = SUBSCRIPTIONS_PER_PARTNER + 6

            async def create(n: int) -> httpx.Response:
                client = replicas[n % 2].as_partner(partner_id)
                return await client.post("/api/v1/webhook-subscriptions", json=BODY)

            answers = await asyncio.gather(*(create(n) for n in range(tries)))
            codes = sorted(a.status_code for a in answers)
            assert codes.count(201) == SUBSCRIPTIONS_PER_PARTNER, codes
            assert codes.count(409) == tries - SUBSCRIPTIONS_PER_PARTNER, codes
            listed = await replicas[0].as_partner(partner_id).get("/api/v1/webhook-subscriptions")
            assert len(listed.json()["items"]) == SUBSCRIPTIONS_PER_PARTNER
    finally:
        await drop_database(url)


async def test_one_idempotency_key_is_one_subscription_across_two_replicas(
    tmp_path: Path,
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_adv_subs_{uuid.uuid4().hex[:12]}"
    try:
        async with AsyncExitStack() as stack:
            replicas = await two_replicas(stack, tmp_path, url)
            partner_id, other_id = new_partner_id(), new_partner_id()
            key = {"Idempotency-Key": "create-hook-1"}

            async def create(replica: Platform, who: str) -> dict[str, Any]:
                made = await replica.as_partner(who).post(
                    "/api/v1/webhook-subscriptions", json=BODY, headers=key
                )
                assert made.status_code == 201, made.text
                answer: dict[str, Any] = made.json()
                return answer

            first, twin, retry = await asyncio.gather(
                create(replicas[0], partner_id),
                create(replicas[1], partner_id),
                create(replicas[1], partner_id),
            )
            assert first["id"] == twin["id"] == retry["id"]
            assert first["secret"] == twin["secret"] == retry["secret"]
            listed = await replicas[1].as_partner(partner_id).get("/api/v1/webhook-subscriptions")
            assert [s["id"] for s in listed.json()["items"]] == [first["id"]]

            # Another partner with the same key gets a subscription (and a secret) of its own.
            theirs = await create(replicas[0], other_id)
            assert theirs["id"] != first["id"] and theirs["secret"] != first["secret"]
    finally:
        await drop_database(url)
