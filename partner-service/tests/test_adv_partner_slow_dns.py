"""Adversarial (issue 21): a partner's DNS that answers slowly cannot stretch a delivery.

The partner controls its name's DNS. The resolution ran outside the delivery's time limit, so a
resolver taking longer than the sender's lease let another replica take the subscription over
and send the following entries while this one still held an older entry to POST: a late
duplicate arriving after newer entries (out of cursor order), and a creating request held as long
as the DNS liked.
"""

import asyncio
import time
from types import SimpleNamespace

import httpx
import pytest
from partner_service.config import Settings
from partner_service.delivery import Sender
from partner_service.outbound import Outbound, UnsafeTarget


async def slow_resolve(host: str, port: int) -> list[str]:
    await asyncio.sleep(30)
    return ["93.184.216.34"]


def outbound() -> Outbound:
    settings = Settings(webhook_timeout_seconds=0.5, webhook_connect_timeout_seconds=0.3)
    return Outbound(settings, slow_resolve)


async def test_a_slow_resolver_is_within_the_deliverys_time_limit() -> None:
    out = outbound()
    started = time.monotonic()
    async with httpx.AsyncClient() as client:
        answer = await out.post(client, "https://slow.example-ota.com/h", b"{}", {})
    took = time.monotonic() - started
    assert answer.status_code is None
    assert took < 2.0, f"the POST took {took:.1f} s (its limits: 0.3 s connect, 0.5 s total)"


async def test_checking_a_url_whose_name_resolves_slowly_is_bounded() -> None:
    out = outbound()
    started = time.monotonic()
    with pytest.raises(UnsafeTarget, match="did not resolve in time"):
        await asyncio.wait_for(out.check("https://slow.example-ota.com/h"), 5)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(("connect", "total"), [(3.0, 5.0), (60.0, 5.0), (1.0, 120.0)])
def test_the_senders_lease_outlives_the_longest_post(connect: float, total: float) -> None:
    """A POST takes at most the resolution (connect timeout) plus the request (total timeout):
    a lease shorter than that lets a second replica send newer entries before it ends."""
    settings = Settings(webhook_timeout_seconds=total, webhook_connect_timeout_seconds=connect)
    runtime = SimpleNamespace(settings=settings, extras={})
    lease = Sender(runtime).lease.total_seconds()  # type: ignore[arg-type]
    assert lease >= 2 * (connect + total)
