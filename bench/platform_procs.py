"""The platform under test, started for a benchmark and stopped after it.

`distributed()` starts what `make up` starts (launcher.distributed's environment and uvicorn
command for each service and the gateway), but on free ports, in databases and a RabbitMQ
namespace of the run's own (removed at the end), so a benchmark never meets another
platform on this machine. `embedded()` runs `hotel-platform run` on a free port and a
temporary data directory. Both sign the benchmark in as a staff admin (a JWT made with the
run's TOKEN_SECRET) and turn the gateway's rate limits off (RATE_LIMIT_ENABLED=false): the
load is one staff member's, and the platform's throughput is measured, not its limits.
"""

import asyncio
import dataclasses
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config import Settings as GatewaySettings
from gateway.identity.testing import bearer, staff_token
from gateway.registry import SERVICES
from hotel_common.db import drop_database
from hotel_common.events.rabbit import delete_namespace
from hotel_common.settings import ServiceSettings
from hotel_common.testing import free_port
from launcher.distributed import gateway_env, pool_sizes, service_env, uvicorn_command
from procs import Named, postgres

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
RABBIT = "amqp://guest:guest@127.0.0.1:5672/"
READY_TIMEOUT = 180.0
LOGS = Path(__file__).parent / "out"  # the processes' output, kept for a failed run's reasons
RATE_LIMITS_NOTE = "gateway rate limits off (RATE_LIMIT_ENABLED=false)"


def quiet_env(token_secret: str, smtp_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "TOKEN_SECRET": token_secret,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENABLED": "false",
    }


def log_file(name: str) -> Any:
    LOGS.mkdir(exist_ok=True)
    return (LOGS / f"{name}.log").open("wb")


def wait_ready(url: str, processes: dict[str, "subprocess.Popen[bytes]"]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if dead := [n for n, p in processes.items() if p.poll() is not None]:
            raise SystemExit(f"{', '.join(dead)} exited while starting (see {LOGS}/*.log)")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} not ready in {READY_TIMEOUT:.0f} s")


@dataclass
class Platform:
    mode: str
    gateway_url: str
    headers: dict[str, str]
    processes: dict[str, "subprocess.Popen[bytes]"]  # name -> process (its tree is counted)
    databases: dict[str, str] = field(default_factory=dict)  # service short name -> URL
    namespace: str = ""
    data_dir: Path | None = None

    def groups(self) -> dict[str, int | Named]:
        """What /proc sampling counts: each process's tree, and in distributed mode the
        run's PostgreSQL backends and the RabbitMQ VM."""
        found: dict[str, int | Named] = {n: p.pid for n, p in self.processes.items()}
        if self.databases:
            found["postgresql"] = postgres(url.rsplit("/", 1)[1] for url in self.databases.values())
            found["rabbitmq"] = Named("beam.smp")
        return found

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.databases:
            asyncio.run(self._clean_up())
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def _clean_up(self) -> None:
        retries = ServiceSettings().retry_delays  # what the services ran with: the defaults
        await delete_namespace(RABBIT, self.namespace, [s.name for s in SERVICES], retries)
        for url in self.databases.values():
            await drop_database(url)


def admin_headers(token_secret: str) -> dict[str, str]:
    return bearer(staff_token(GatewaySettings(_env_file=None, token_secret=token_secret)))


def distributed(
    smtp_port: int,
    env: dict[str, str] | None = None,
    service_envs: dict[str, dict[str, str]] | None = None,
) -> Platform:
    """`env` goes to every process; `service_envs` (service name -> variables) to one service
    alone, e.g. partner-service's ENVIRONMENT=development for a webhook receiver on loopback."""
    run = uuid.uuid4().hex[:8]
    token_secret = secrets.token_urlsafe(32)
    services = [dataclasses.replace(s, port=free_port()) for s in SERVICES]
    shorts = [s.short for s in services] + ["gateway"]
    databases = {short: f"{PG}/bench_{run}_{short}" for short in shorts}
    environ = {
        **quiet_env(token_secret, smtp_port),
        "INTERNAL_SECRET": secrets.token_urlsafe(32),
        "BUS_NAMESPACE": f"bench-{run}.",
        **{f"{short.upper()}_DATABASE_URL": url for short, url in databases.items()},
        **(env or {}),
    }
    pools = pool_sizes(services, environ)
    processes = {
        s.name: subprocess.Popen(
            uvicorn_command(f"{s.package}.main:create_app", s.port),
            env={**service_env(s, environ, pools[s.name]), **(service_envs or {}).get(s.name, {})},
            stdout=log_file(s.name),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for s in services
    }
    port = free_port()
    processes["gateway"] = subprocess.Popen(
        uvicorn_command("gateway.main:create_app", port),
        env=gateway_env(services, environ),
        stdout=log_file("gateway"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    platform = Platform(
        "distributed",
        f"http://127.0.0.1:{port}",
        admin_headers(token_secret),
        processes,
        databases,
        f"bench-{run}.",
    )
    try:
        wait_ready(f"{platform.gateway_url}/health/ready", processes)
    except BaseException:
        platform.stop()
        raise
    return platform


def embedded(smtp_port: int) -> Platform:
    token_secret = secrets.token_urlsafe(32)
    data = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "launcher", "run", "--port", str(port), "--data-dir", str(data)],
        env=quiet_env(token_secret, smtp_port),
        stdout=log_file("embedded"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    platform = Platform(
        "embedded",
        f"http://127.0.0.1:{port}",
        admin_headers(token_secret),
        {"embedded": process},
        data_dir=data,
    )
    try:
        wait_ready(f"{platform.gateway_url}/health/ready", platform.processes)
    except BaseException:
        platform.stop()
        raise
    return platform
