"""`make up`: one OS process per service plus the gateway, on this machine.

PostgreSQL and RabbitMQ come from the environment. The launcher waits until the gateway is
ready, forwards SIGINT/SIGTERM to its children, and stops them all when one of them dies.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from types import FrameType

from gateway.catalog import GATEWAY_PORT, SERVICES, ServiceInfo, public_url

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def service_env(service: ServiceInfo, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of one service process (RESERVATION_DATABASE_URL overrides its database)."""
    default_db = f"postgresql+asyncpg://postgres@127.0.0.1:5432/hotel_{service.short}"
    return {
        **environ,
        "SERVICE_NAME": service.name,
        "DATABASE_URL": environ.get(f"{service.short.upper()}_DATABASE_URL", default_db),
        "BUS": "rabbitmq",
        "RABBITMQ_URL": environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL),
        "SEED_DEMO": "true",
    }


def gateway_env(services: list[ServiceInfo], environ: Mapping[str, str]) -> dict[str, str]:
    env = {**environ, "SERVICES": json.dumps([s.name for s in services])}
    env.update({f"{s.short.upper()}_SERVICE_URL": s.local_url for s in services})
    return env


def uvicorn_command(factory: str, port: int, host: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        host,
        "--port",
        str(port),
    ]


def installed(service: ServiceInfo) -> bool:
    try:
        return importlib.util.find_spec(f"{service.package}.main") is not None
    except ImportError:
        return False


Children = dict[str, "subprocess.Popen[bytes]"]


def exited(children: Children) -> list[str]:
    return [name for name, child in children.items() if child.poll() is not None]


def wait_ready(url: str, children: Children, stopping: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping and not exited(children):
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def stop(children: Children, signum: int = signal.SIGTERM) -> None:
    """Pass the signal on (both are a graceful stop for uvicorn); kill what outlives the wait."""
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signum)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def up(host: str = "127.0.0.1", port: int = GATEWAY_PORT) -> int:
    """Run until interrupted; the exit status is 1 when the platform failed."""
    services = [s for s in SERVICES if installed(s)]
    for missing in (s for s in SERVICES if s not in services):
        print(f"warning: {missing.name} is not installed; starting without it", file=sys.stderr)
    environ = dict(os.environ)
    # Own sessions: a terminal's Ctrl-C reaches only this launcher, which passes it on once
    # (uvicorn takes a second SIGINT as "exit now, skip the shutdown").
    children: Children = {
        s.name: subprocess.Popen(
            uvicorn_command(f"{s.package}.main:create_app", s.port),
            env=service_env(s, environ),
            start_new_session=True,
        )
        for s in services
    }
    children["gateway"] = subprocess.Popen(
        uvicorn_command("gateway.main:create_app", port, host),
        env=gateway_env(services, environ),
        start_new_session=True,
    )
    stopping: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    url = public_url(host, port)
    try:
        if not wait_ready(
            f"http://127.0.0.1:{port}/health/ready", children, stopping, READY_TIMEOUT
        ):
            if stopping:
                return 0
            gone = ", ".join(exited(children)) or "none exited"
            print(f"the platform did not become ready ({gone}); stopping it", file=sys.stderr)
            return 1
        print(f"Hotel platform (distributed) running at {url}\n  API docs: {url}/docs", flush=True)
        for s in services:
            print(f"  {s.name}: {s.local_url}/docs", flush=True)
        while not stopping:
            if dead := exited(children):
                print(f"{', '.join(dead)} exited; stopping the platform", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        stop(children, stopping[0] if stopping else signal.SIGTERM)
