"""`make up` for real, with `REPLICAS=2`: the launcher starts two OS processes per service
against this machine's PostgreSQL and RabbitMQ (its own databases and queue namespace), each
serving and consuming from its service's one queue, the journey works through the gateway,
and Ctrl-C stops every process."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest
from gateway.config import Settings as GatewaySettings
from gateway.identity.testing import bearer, staff_token
from gateway.registry import GATEWAY_PORT, SERVICES
from harness import RABBIT_URL
from hotel_common.db import drop_database
from hotel_common.events.rabbit import delete_namespace
from hotel_common.testing import MailServer, eventually
from test_journey import booking

pytestmark = pytest.mark.infra
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REPLICAS = 2
PORTS = [GATEWAY_PORT, *(s.port + 100 * i for s in SERVICES for i in range(REPLICAS))]
CONSUMERS = ("transfer-service", "guest-service", "notification-service")
RETRIES = [0.1, 0.5]
TOKEN_SECRET = secrets.token_urlsafe(32)  # given to the launcher: the test signs in as admin


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def namespace() -> str:
    return f"test-up-{uuid.uuid4().hex[:8]}."


@pytest.fixture
async def launched(mailbox: MailServer, namespace: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    busy = [p for p in PORTS if port_in_use(p)]
    assert not busy, f"ports {busy} are taken: stop what runs there (make run / make up?)"
    run = uuid.uuid4().hex[:8]
    databases = {s.short: f"{PG}/test_up_{run}_{s.short}" for s in SERVICES}
    databases["gateway"] = f"{PG}/test_up_{run}_gateway"  # its identity store
    env = {
        **os.environ,
        "TOKEN_SECRET": TOKEN_SECRET,
        "BUS_NAMESPACE": namespace,
        "REPLICAS": str(REPLICAS),
        "SMTP_URL": mailbox.url,
        "RETRY_DELAYS": json.dumps(RETRIES),
        "OUTBOX_POLL_SECONDS": "0.5",
        **{f"{short.upper()}_DATABASE_URL": url for short, url in databases.items()},
    }
    launcher = subprocess.Popen(  # noqa: ASYNC220 (returns at once; the test owns the process)
        [sys.executable, "-m", "launcher", "up"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield launcher
    finally:
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGINT)
            try:
                launcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
        await delete_namespace(RABBIT_URL, namespace, [s.name for s in SERVICES], RETRIES)
        for url in databases.values():
            await drop_database(url)


async def consumers_on(namespace: str, service: str) -> int:
    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"{namespace}{service}", passive=True)
        return int(queue.declaration_result.consumer_count or 0)


async def test_make_up_runs_the_journey_and_stops_cleanly(
    launched: subprocess.Popen[bytes], mailbox: MailServer, namespace: str
) -> None:
    admin = bearer(staff_token(GatewaySettings(_env_file=None, token_secret=TOKEN_SECRET)))
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{GATEWAY_PORT}", timeout=10, headers=admin
    ) as client:

        async def ready() -> int:
            try:
                return (await client.get("/health/ready")).status_code
            except httpx.TransportError:
                return 0

        await eventually(ready, lambda status: status == 200, timeout=120, interval=0.5)
        # Every replica serves (its readiness includes its consumer on the queue)... The
        # gateway is ready once one replica of each service is: the others may still be
        # declaring their consumers (six services now start on two cores), so each gets a
        # short while of its own, and must then answer 200.
        for port in PORTS[1:]:

            async def replica_ready(port: int = port) -> httpx.Response:
                return await client.get(f"http://127.0.0.1:{port}/health/ready")

            replica = await eventually(
                replica_ready, lambda answer: answer.status_code == 200, timeout=30, interval=0.5
            )
            assert replica.status_code == 200, (port, replica.text)
        # ...and each consuming service's one queue has both replicas as competing consumers.
        for service in CONSUMERS:
            assert await consumers_on(namespace, service) == REPLICAS, service
        email = f"up.{uuid.uuid4().hex[:6]}@example.com"
        created = await client.post("/api/v1/reservations", json=booking(email, "en"))
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        assert (await client.post(f"/api/v1/reservations/{rid}/confirm")).status_code == 200
        await eventually(
            lambda: client.get("/api/v1/transfers", params={"reservation_id": rid}),
            lambda r: [t["status"] for t in r.json()["items"]] == ["assigned"],
            timeout=20,
        )
        # The request received, the confirmation, the pickup.
        await eventually(lambda: mailbox.to(email), lambda m: len(m) == 3)

    launched.send_signal(signal.SIGINT)
    assert launched.wait(timeout=30) == 0
    assert not [p for p in PORTS if port_in_use(p)], "a service outlived the launcher"
