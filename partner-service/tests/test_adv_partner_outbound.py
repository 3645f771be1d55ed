"""Adversarial: a hostile partner's webhook URL against the sender outside development.

What held already (kept here as regressions): decimal, octal, hex and short IPv4 forms, the
IPv4-mapped loopback, `0`, a trailing-dot `localhost.`, a link-local address with a zone,
`user@host` tricks, ports below 1024, full-width digits: all refused after resolution.
What broke: IPv6 forms that carry an IPv4 address Python's `is_global` does not look into
(NAT64 `64:ff9b::/96`, IPv4-compatible `::a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`); a
host name the IDNA codec cannot encode (a 64-letter label, an empty label) was a 500; a URL
with a control character passed the check and then made httpx raise outside its error class,
so the sender task died without logging an attempt and the subscription was claimed again at
once, forever; DNS resolution ran outside the time limit, so a slow name server held a sender
task (and a subscribe request) for as long as it liked.
"""

import asyncio
import time
from pathlib import Path

import pytest
from hotel_common.testing import assert_problem
from partner_service.config import Settings
from partner_service.delivery import OUTBOUND
from partner_service.outbound import Outbound, UnsafeTarget

from .webhook_support import platform

PUBLIC = "93.184.216.34"


def production(**overrides: float) -> Settings:
    return Settings(environment="production", **overrides)


async def public(host: str, port: int) -> list[str]:
    return [PUBLIC]


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:7",  # NAT64 of 10.0.0.7 (an IPv6-only VPC's NAT gateway reaches it)
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
        "64:ff9b:1::a00:7",  # the local-use NAT64 prefix
        "::7f00:1",  # IPv4-compatible ::127.0.0.1 (deprecated; tunnels on some hosts)
        "::ffff:0:a00:7",  # IPv4-translated (SIIT) 10.0.0.7
    ],
)
async def test_ipv6_forms_carrying_a_private_ipv4_address_are_refused(address: str) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return [address]

    outbound = Outbound(production(), resolve)
    with pytest.raises(UnsafeTarget, match="private or reserved"):
        await outbound.check("https://hooks.example.com/h")
    with pytest.raises(UnsafeTarget, match="private or reserved"):
        await outbound.check(f"https://[{address}]/h")


async def test_a_nat64_address_of_a_public_ipv4_address_is_allowed() -> None:
    target = await Outbound(production()).check("https://[64:ff9b::5db8:d822]/h")
    assert target.addresses == ["64:ff9b::5db8:d822"]


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/h",
        "https://0177.0.0.1/h",
        "https://0x7f.1/h",
        "https://127.1/h",
        "https://0/h",
        "https://[::ffff:127.0.0.1]/h",
        "https://localhost./h",
        "https://[fe80::1%25eth0]/h",
        "https://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/h",
        "https://169.254.169.254./latest/meta-data",
        "https://100.100.100.200/h",  # CGNAT (another cloud's metadata)
        "https://[fd00:ec2::254]/h",  # ULA (another cloud's metadata)
    ],
)
async def test_other_spellings_of_private_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        await Outbound(production()).check(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://good@127.0.0.1/h", "user name or password"),
        ("https://127.0.0.1:443@hooks.example.com/h", "user name or password"),
        ("https://" + "a" * 64 + ".example.com/h", "host name"),
        ("https://a..example.com/h", "host name"),
        ("https://hooks.example.com/h\x01", "control character"),
        ("https://hooks.example.com/h\x7f", "control character"),
        ("https://hooks.example.com/h\x00", "control character"),
        ("https://hooks.example.com/\x9bh", "control character"),
    ],
)
async def test_a_malformed_url_is_a_422_not_a_500(tmp_path: Path, url: str, reason: str) -> None:
    async with platform(tmp_path, environment="production") as p:
        p.runtime.extras[OUTBOUND] = Outbound(p.runtime.settings, public)
        made = await p.client.post(
            "/api/v1/webhook-subscriptions", json={"url": url, "event_types": ["*"]}
        )
        body = assert_problem(made, 422, "invalid_webhook_url")
        assert reason in body["detail"], body
        listed = await p.client.get("/api/v1/webhook-subscriptions")
        assert listed.json()["items"] == []


async def test_a_url_httpx_refuses_is_an_answer_of_the_sender_not_a_crash() -> None:
    """Stored before the check refused it (an older version, development): the attempt is
    logged as refused, so the subscription backs off instead of being claimed again at once."""
    outbound = Outbound(Settings(environment="development"), public)
    async with outbound.client() as client:
        answer = await outbound.post(client, "http://127.0.0.1:9/h\x01", b"{}", {})
    assert answer.status_code is None
    assert (answer.error or "").startswith("refused"), answer


async def test_a_slow_name_server_cannot_hold_a_sender_past_the_timeout() -> None:
    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(60)
        return [PUBLIC]

    outbound = Outbound(
        production(webhook_timeout_seconds=0.5, webhook_connect_timeout_seconds=0.3), slow
    )
    started = time.monotonic()
    async with outbound.client() as client:
        answer = await asyncio.wait_for(
            outbound.post(client, "https://hooks.example.com/h", b"{}", {}), 10
        )
    assert time.monotonic() - started < 2
    assert answer.status_code is None and answer.error, answer


async def test_a_slow_name_server_cannot_hold_a_subscribe_request(tmp_path: Path) -> None:
    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(60)
        return [PUBLIC]

    async with platform(
        tmp_path, environment="production", webhook_connect_timeout_seconds=0.3
    ) as p:
        p.runtime.extras[OUTBOUND] = Outbound(p.runtime.settings, slow)
        started = time.monotonic()
        made = await asyncio.wait_for(
            p.client.post(
                "/api/v1/webhook-subscriptions",
                json={"url": "https://hooks.example.com/h", "event_types": ["*"]},
            ),
            10,
        )
        assert time.monotonic() - started < 2
        body = assert_problem(made, 422, "invalid_webhook_url")
        assert "resolve" in body["detail"]
