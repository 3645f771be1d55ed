"""The platform as real OS processes, for crash and chaos runs: each service (or replica) is
its own uvicorn process that a test can SIGKILL and start again, on this machine's PostgreSQL
(fresh databases per run) and RabbitMQ (a fresh namespace per run, reached through a proxy the
test controls), mailing a real SMTP server run here.

Two levers land a kill at the instant that matters, from outside and whatever the internals:
- `AmqpProxy` reads the AMQP frames a service sends: it can freeze the link right after the
  service publishes (the broker has the message, the publisher never sees the confirm) or
  right when it acknowledges a delivery (the effect is committed, the broker never sees the ack).
- `HoldingMailServer` holds every message for a moment after its data arrived and before the
  "250" answer, so a kill can land while a notice is being sent.

(A module, not conftest: test files and the chaos script import it by name.)
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
from gateway.registry import BY_NAME, ServiceInfo
from hotel_common.db import drop_database
from hotel_common.events.rabbit import delete_namespace
from hotel_common.testing import MailServer, TcpProxy, eventually, free_port
from launcher.distributed import service_env, uvicorn_command

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672
RABBIT_URL = f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Fast everything: retries, relay polling, mail retries, and a short mail lease (the sender's
# lease is a multiple of SMTP_TIMEOUT), so a killed sender's notices are taken up in seconds.
FAST_ENV = {
    "RETRY_DELAYS": "[0.1, 0.5]",
    "OUTBOX_POLL_SECONDS": "0.5",
    "SMTP_TIMEOUT": "1.0",
    "DELIVERY_BATCH_SIZE": "4",
    "DELIVERY_BACKOFF_SECONDS": "[0.2, 0.5, 1.0]",
    "DELIVERY_MAX_ATTEMPTS": "20",
    "DELIVERY_POLL_SECONDS": "0.5",
    "LOG_LEVEL": "WARNING",
    # Several processes share this machine's PostgreSQL (max_connections 100 by default): at
    # the default pool (10 + 10 overflow each) a backlog draining after an outage refused
    # connections ("too many clients"). Handlers wait for a pooled connection instead.
    "DATABASE_POOL_SIZE": "4",
}

# AMQP 0-9-1 methods (class id, method id) a proxy can stop at.
BASIC_PUBLISH = (60, 40)
BASIC_ACK = (60, 80)
_PROTOCOL_HEADER = 8  # b"AMQP\x00\x00\x09\x01", sent by the client before any frame


def booking(n: int, email: str) -> dict[str, Any]:
    """A one-night stay with a pickup; dates and arrival hours spread so drivers never clash."""
    check_in = date.today() + timedelta(days=20 + n % 300)
    arrival = datetime.combine(check_in, time(8 + n % 12, 15), SHANGHAI)
    return {
        "guest": {"name": f"Crash Guest {n}", "email": email, "language": "en"},
        "room_type_code": ["STD", "KNG", "BUS", "DLX", "STE"][n % 5],
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=1)).isoformat(),
        "guests": 1,
        "transfer": {
            "flight_number": "MU5101",
            "arrival_time": arrival.isoformat(),
            "pickup_place": "Shanghai Pudong International Airport T1",
            "passengers": 1,
            "luggage": 1,
        },
    }


class AmqpProxy(TcpProxy):
    """A TcpProxy between one service's processes and RabbitMQ that can also stop at a frame.

    `arm(BASIC_PUBLISH, freeze="to_client")`: the next publish goes through whole, then
    nothing more reaches the service (no confirm). `arm(BASIC_ACK, freeze="to_broker")`: the
    next ack and all that follows it are dropped. The returned event is set when that happens;
    the test then kills the service and calls `disarm()` before starting it again.
    """

    def __init__(self, target_host: str = RABBIT_HOST, target_port: int = RABBIT_PORT) -> None:
        super().__init__(target_host, target_port)
        self._trap: tuple[tuple[int, int], str, asyncio.Event] | None = None
        self.frozen: set[str] = set()

    def arm(
        self, method: tuple[int, int], freeze: Literal["to_client", "to_broker"]
    ) -> asyncio.Event:
        sprung = asyncio.Event()
        self._trap = (method, freeze, sprung)
        return sprung

    def disarm(self) -> None:
        self._trap = None
        self.frozen.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pipes |= {writer, up_writer}
        await asyncio.gather(self._to_broker(reader, up_writer), self._to_client(up_reader, writer))

    def _close(self, writer: asyncio.StreamWriter) -> None:
        writer.close()
        self._pipes.discard(writer)

    async def _to_client(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                if "to_client" not in self.frozen:
                    dst.write(data)
                    await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._close(dst)

    async def _to_broker(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        pending = b""
        started = False
        try:
            while data := await src.read(65536):
                pending += data
                out = bytearray()
                if not started:
                    if len(pending) < _PROTOCOL_HEADER:
                        continue
                    out += pending[:_PROTOCOL_HEADER]
                    pending = pending[_PROTOCOL_HEADER:]
                    started = True
                # Whole frames only: type (1), channel (2), size (4), payload, end marker (1).
                while len(pending) >= 7:
                    end = 8 + int.from_bytes(pending[3:7], "big")
                    if len(pending) < end:
                        break
                    frame, pending = pending[:end], pending[end:]
                    if self._springs(frame):
                        continue
                    if "to_broker" not in self.frozen:
                        out += frame
                if out:
                    dst.write(bytes(out))
                    await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._close(dst)

    def _springs(self, frame: bytes) -> bool:
        """Spring the trap on its frame; True when the frame itself must be dropped."""
        if self._trap is None or frame[0] != 1 or len(frame) < 12:
            return False
        method, freeze, sprung = self._trap
        if (int.from_bytes(frame[7:9], "big"), int.from_bytes(frame[9:11], "big")) != method:
            return False
        self._trap = None
        self.frozen.add(freeze)
        sprung.set()
        return freeze == "to_broker"


class HoldingMailServer(MailServer):
    """A MailServer that, while `hold` is set, keeps each message that long between its data and
    the 250 answer, and tells which notices are in that window (the sender cannot know yet
    whether they went). `in_flight` maps X-Notification-Id to the message's number on its
    SMTP session (1 = the session's first message); `windows` keeps, for every copy, when its
    data arrived and when its answer left (time.monotonic, shared by the test's threads)."""

    def __init__(self, hold: float = 0.0) -> None:
        super().__init__()
        self.hold = hold
        self.in_flight: dict[str, int] = {}
        self.windows: list[tuple[str, float, float]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrived = monotonic()
        answer = await super().handle_DATA(server, session, envelope)
        number = getattr(session, "hotel_sent", 0) + 1
        session.hotel_sent = number
        notice = str(self.messages[-1]["X-Notification-Id"])
        try:  # aiosmtpd cancels the handler when the sender's connection drops
            if self.hold:
                self.in_flight[notice] = number
                await asyncio.sleep(self.hold)
        finally:
            self.in_flight.pop(notice, None)
            self.windows.append((notice, arrived, monotonic()))
        return answer

    def unsettled_at(self, moments: list[float], margin: float) -> dict[str, int]:
        """X-Notification-Id -> at how many of `moments` (the sender's kills) a copy was
        between its data and its answer being recorded by the sender: `margin` widens each
        window for the bytes still on the wire and the sender's commit after the 250."""
        counts: dict[str, int] = {}
        for moment in moments:
            for notice in {
                notice
                for notice, arrived, answered in self.windows
                if arrived - margin <= moment <= answered + margin
            }:
                counts[notice] = counts.get(notice, 0) + 1
        return counts

    def arrivals(self, recipients: set[str]) -> dict[str, int]:
        """X-Notification-Id -> how many copies reached the server, of mail to `recipients`."""
        counts: dict[str, int] = {}
        for message in list(self.messages):
            if message["To"].addresses[0].addr_spec not in recipients:
                continue
            notice = str(message["X-Notification-Id"])
            counts[notice] = counts.get(notice, 0) + 1
        return counts


@dataclass
class ServiceProcess:
    """One uvicorn process of a service (or of the gateway), started and killed at will."""

    name: str  # e.g. "transfer-service" or "transfer-service#2"
    factory: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: "subprocess.Popen[bytes] | None" = None
    kills: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.name} runs"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                uvicorn_command(self.factory, self.port),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye to the broker or the database."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    async def ready(self, client: httpx.AsyncClient, timeout: float = 60) -> None:
        async def status() -> int:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited; its log:\n{self.log_tail()}")
            try:
                return (await client.get(f"{self.url}/health/ready", timeout=3)).status_code
            except httpx.TransportError:
                return 0

        try:
            await eventually(status, lambda code: code == 200, timeout=timeout, interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.name}'s log:\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


class Run:
    """One run's databases, queue namespace, mail server and processes; `close()` removes all.

    `proxies` maps a service to the AmqpProxy its processes reach RabbitMQ through; services
    may share one (the chaos run cuts them all at once).
    """

    def __init__(
        self,
        prefix: str,
        log_dir: Path,
        mail: MailServer,
        env: Mapping[str, str] = {},
    ) -> None:
        run = uuid.uuid4().hex[:8]
        self.env = {**FAST_ENV, **env}  # every service process's settings
        self.namespace = f"{prefix}-{run}."
        self.databases = {s: f"{PG}/{prefix}_{run}_{BY_NAME[s].short}" for s in BY_NAME}
        self.log_dir = log_dir
        self.mail = mail
        self.proxies: dict[str, AmqpProxy] = {}
        self.processes: list[ServiceProcess] = []

    async def proxy_for(self, *services: str) -> AmqpProxy:
        proxy = AmqpProxy()
        await proxy.start()
        for service in services:
            self.proxies[service] = proxy
        return proxy

    def service(self, name: str, replica: int = 1) -> ServiceProcess:
        info: ServiceInfo = BY_NAME[name]
        proxy = self.proxies[name]
        environ = {
            **os.environ,
            **self.env,
            "BUS_NAMESPACE": self.namespace,
            "SMTP_URL": self.mail.url,
            "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{proxy.port}/",
            f"{info.short.upper()}_DATABASE_URL": self.databases[name],
        }
        label = name if replica == 1 else f"{name}#{replica}"
        process = ServiceProcess(
            label,
            f"{info.package}.main:create_app",
            service_env(info, environ),
            self.log_dir / f"{label.replace('#', '-')}.log",
        )
        self.processes.append(process)
        return process

    def gateway(self, upstreams: Mapping[str, list[ServiceProcess]]) -> ServiceProcess:
        """The gateway in front of the given processes; several per service, comma-separated."""
        env = {**os.environ, "LOG_LEVEL": "WARNING"}
        # Its identity store in the run's own directory, never ./data of the checkout.
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{self.log_dir / 'gateway.db'}"
        env["UPSTREAMS"] = json.dumps(
            {name: ",".join(p.url for p in processes) for name, processes in upstreams.items()}
        )
        process = ServiceProcess(
            "gateway", "gateway.main:create_app", env, self.log_dir / "gateway.log"
        )
        self.processes.append(process)
        return process

    async def close(self) -> None:
        for process in self.processes:  # killed, not stopped: nothing of theirs is kept
            if process.process is not None and process.process.poll() is None:
                process.kill()
        for proxy in set(self.proxies.values()):
            await proxy.close()
        retry_delays = json.loads(self.env["RETRY_DELAYS"])
        await delete_namespace(RABBIT_URL, self.namespace, list(self.databases), retry_delays)
        for url in self.databases.values():
            await drop_database(url)


async def queue_consumers(namespace: str, services: list[str]) -> dict[str, int]:
    """Each service queue's consumer count, asked of RabbitMQ directly (not through a proxy)."""
    import aio_pika  # the services' dependency; imported here to keep the module light

    connection = await aio_pika.connect(RABBIT_URL)
    try:
        counts = {}
        for service in services:
            channel = await (await connection.channel()).get_underlay_channel()
            try:
                declared = await channel.queue_declare(f"{namespace}{service}", passive=True)
                counts[service] = declared.consumer_count or 0
            except Exception:  # no such queue (yet): a passive declare closes the channel
                counts[service] = 0
            else:
                await channel.close()
        return counts
    finally:
        await connection.close()
