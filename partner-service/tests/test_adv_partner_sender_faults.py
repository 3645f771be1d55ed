"""Adversarial: a failure the sender did not foresee (an exception outside httpx's error class
while sending, from whatever a receiver or a stored URL provokes) must not turn into a tight
loop. Before: the task died, released its lease, woke the loop, and the subscription was claimed
and sent again at once, hundreds of times a second, with nothing in the delivery log. Now it
backs off like a failed attempt."""

import asyncio
from pathlib import Path
from typing import Any

from partner_service.delivery import OUTBOUND
from partner_service.outbound import Outbound

from .webhook_support import eventually, platform


async def test_an_unforeseen_sending_error_backs_off(tmp_path: Path) -> None:
    async with platform(tmp_path, webhook_backoff_seconds=[0.5]) as p:
        made = await p.subscribe("http://127.0.0.1:9/hook")
        outbound: Outbound = p.runtime.extras[OUTBOUND]
        calls: list[float] = []

        async def broken(*args: Any, **kwargs: Any) -> Any:
            calls.append(asyncio.get_running_loop().time())
            raise RuntimeError("something nobody planned for")

        outbound.post = broken  # type: ignore[method-assign]
        await p.append()
        await eventually(lambda: len(calls) >= 1, timeout=5)
        await asyncio.sleep(1.0)
        assert len(calls) <= 4, f"{len(calls)} sends in about a second"
        log = await p.deliveries(made["id"])
        assert log and {a["outcome"] for a in log} == {"failed"}
        assert log[0]["error"] == "internal error while sending (retried)"
        state = await p.subscription(made["id"])
        assert state["failing_since"] is not None
