"""An https delivery goes to the address that was checked, and TLS still names the URL's host:
the certificate is checked against it (SNI too), so pinning the address does not weaken TLS."""

import ssl
import subprocess
from pathlib import Path

import pytest
from hotel_common.testing import eventually, serving
from partner_service.delivery import OUTBOUND
from partner_service.outbound import Outbound

from .webhook_support import Receiver, platform

HOST = "hooks.example.com"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HOST}"),
            *("-addext", f"subjectAltName=DNS:{HOST}"),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


async def test_a_pinned_https_delivery_checks_the_certificate_of_the_urls_host(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    key, cert = certificate
    receiver = Receiver()
    tls = {"ssl_keyfile": str(key), "ssl_certfile": str(cert)}
    async with (
        serving(receiver.app(), lifespan="off", **tls) as base,
        platform(tmp_path, environment="development") as p,
    ):
        port = int(base.rsplit(":", 1)[1])

        async def resolve(host: str, port: int) -> list[str]:
            return ["127.0.0.1"]  # both names point at the receiver

        outbound: Outbound = p.runtime.extras[OUTBOUND]
        outbound.resolve = resolve
        outbound.verify = ssl.create_default_context(cafile=str(cert))
        good = await p.subscribe(f"https://{HOST}:{port}/hook")
        wrong = await p.subscribe(f"https://other.example.com:{port}/hook")
        [event_id] = await p.append()

        await eventually(lambda: receiver.event_ids() == [event_id])
        assert receiver.accepted[0].headers["host"] == f"{HOST}:{port}"
        [attempt] = await eventually(lambda: p.deliveries(good["id"]))
        assert attempt["outcome"] == "delivered"
        [refused, *_] = await eventually(lambda: p.deliveries(wrong["id"]))
        assert refused["outcome"] == "failed"
        assert "CERTIFICATE_VERIFY_FAILED" in refused["error"] or "certificate" in refused["error"]
        assert len(receiver.requests) == 1  # the wrong name never got a request through
