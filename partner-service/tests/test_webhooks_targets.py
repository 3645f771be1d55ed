"""Outbound calls cannot be turned against the platform: outside development a webhook URL is
https, carries no credentials, and no address it resolves to may be private, loopback,
link-local or otherwise not global: refused when subscribing (422) and again at every delivery,
after DNS resolution (a name that later resolves to loopback is refused, nothing is sent)."""

from pathlib import Path
from typing import Any

import pytest
from hotel_common.testing import assert_problem, eventually
from partner_service.config import Settings
from partner_service.delivery import OUTBOUND
from partner_service.outbound import Outbound, UnsafeTarget

from .webhook_support import platform, receiving

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/h", "https"),
        ("https://localhost:8443/h", "private or reserved"),
        ("https://127.0.0.1/h", "private or reserved"),
        ("https://10.1.2.3/h", "private or reserved"),
        ("https://169.254.169.254/latest/meta-data", "private or reserved"),
        ("https://[::1]/h", "private or reserved"),
        ("https://[::ffff:192.168.0.1]/h", "private or reserved"),
        ("https://100.64.0.1/h", "private or reserved"),
        ("https://user:pw@hooks.example.com/h", "user name or password"),
        ("https://hooks.example.com:25/h", "port"),
        ("https://no-such-host.invalid/h", "does not resolve"),
    ],
)
async def test_a_forbidden_url_is_refused_when_subscribing(
    tmp_path: Path, url: str, reason: str
) -> None:
    async with platform(tmp_path, environment="production") as p:
        made = await p.client.post(
            "/api/v1/webhook-subscriptions", json={"url": url, "event_types": ["*"]}
        )
        body = assert_problem(made, 422, "invalid_webhook_url")
        assert reason in body["detail"], body


async def test_every_resolved_address_is_checked() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return [PUBLIC, "10.0.0.7"]

    outbound = Outbound(Settings(environment="production"), resolve)
    with pytest.raises(UnsafeTarget, match=r"10\.0\.0\.7"):
        await outbound.check("https://hooks.example.com/h")

    async def public(host: str, port: int) -> list[str]:
        return [PUBLIC]

    target = await Outbound(Settings(environment="production"), public).check(
        "https://hooks.example.com:8443/h"
    )
    assert (target.host, target.port, target.addresses) == ("hooks.example.com", 8443, [PUBLIC])


async def test_a_name_that_later_resolves_to_loopback_is_refused_at_delivery(
    tmp_path: Path,
) -> None:
    async with platform(tmp_path, environment="production") as p, receiving() as receiver:
        answers = {"hooks.example.com": [PUBLIC]}

        async def resolve(host: str, port: int) -> list[str]:
            return answers[host]

        outbound: Outbound = p.runtime.extras[OUTBOUND]
        outbound.resolve = resolve
        assert receiver.proxy is not None
        made = await p.subscribe(f"https://hooks.example.com:{receiver.proxy.port}/hook")
        answers["hooks.example.com"] = ["127.0.0.1"]  # DNS rebinding, toward the receiver
        await p.append()
        log = await eventually(lambda: p.deliveries(made["id"]), timeout=10)
        assert log[0]["outcome"] == "refused"
        assert "127.0.0.1" in log[0]["error"]
        assert receiver.requests == []


async def test_localhost_is_refused_at_delivery_outside_development(tmp_path: Path) -> None:
    """Subscribed while the service ran in development, delivered in production: the real
    resolver's answer for `localhost` (loopback) is refused before any connection."""
    async with platform(tmp_path) as p, receiving() as receiver:
        assert receiver.proxy is not None
        made = await p.subscribe(f"https://localhost:{receiver.proxy.port}/hook")
        settings: Any = p.runtime.settings
        object.__setattr__(settings, "environment", "production")
        await p.append()
        log = await eventually(lambda: p.deliveries(made["id"]), timeout=10)
        assert log[0]["outcome"] == "refused"
        assert "private or reserved" in log[0]["error"]
        assert receiver.requests == []


async def test_development_allows_http_on_loopback(tmp_path: Path) -> None:
    async with platform(tmp_path, environment="development") as p, receiving() as receiver:
        await p.subscribe(receiver.url)
        ids = await p.append()
        await eventually(lambda: receiver.event_ids() == ids)
