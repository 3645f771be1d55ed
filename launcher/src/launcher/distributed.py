"""`make up`: one OS process per service plus the gateway, on this machine.

PostgreSQL and RabbitMQ come from the environment. `REPLICAS=2` (or per service,
`RESERVATION_REPLICAS=3`) runs that many processes of a service, replica i on its port + 100*i,
as competing consumers on one queue and one database; the gateway spreads over them. The
launcher waits until the gateway is ready, forwards SIGINT/SIGTERM to its children, and stops
them all when one of them dies.

Connection budget: every process holds a pool of up to 2 x DATABASE_POOL_SIZE connections, so
4 services x N replicas x the default 10 would pass PostgreSQL's `max_connections` (100) at
N = 2. The launcher asks each server its limit and gives every process on it an equal share:
(max_connections - superuser_reserved_connections - RESERVED_CONNECTIONS) / (2 x processes),
at most the default 10. DATABASE_POOL_SIZE in the environment overrides it (with a warning when
it does not fit). The gateway's identity store (database hotel_gateway) takes a small pool
(GATEWAY_POOL_SIZE) from the reserved connections.

Secrets: INTERNAL_SECRET (the gateway signs each caller's principal with it, every service
checks it) and TOKEN_SECRET (signs staff and guest JWTs) are drawn at random for the run unless
set in the environment; BOOTSTRAP_ADMIN_EMAIL/PASSWORD create the first admin. The guests'
personal-data keys (PII_KEYS, PII_LOOKUP_KEY) must outlive the run (the data they seal does):
unless set, they are drawn once into `data/pii-keys.json` (owner-only) and read from there.
"""

import asyncio
import base64
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType

import asyncpg
from gateway.registry import GATEWAY_PORT, SERVICES, ServiceInfo, public_url
from sqlalchemy.engine import make_url

READY_TIMEOUT = 120.0  # nine processes starting at once on a busy 2-core machine: ~1 min
STOP_TIMEOUT = 10.0
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_POOL_SIZE = 10  # hotel_common.settings.ServiceSettings.database_pool_size
CONNECTIONS_PER_POOL_SLOT = 2  # hotel_common.db.create_engine: max_overflow = pool_size
# Kept free on each server for what is not a service's pool: psql, a migration, start-up's
# short connection to the maintenance database, the tests' own connections.
RESERVED_CONNECTIONS = 10
DEFAULT_MAX_CONNECTIONS = 100  # PostgreSQL's default, assumed when the server cannot be asked
GATEWAY_POOL_SIZE = 2  # the identity store: sign-ins, admin routes and the key-cache reload
GATEWAY_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/hotel_gateway"
RUN_SECRETS = ("INTERNAL_SECRET", "TOKEN_SECRET")


def with_run_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with INTERNAL_SECRET and TOKEN_SECRET, drawn at random where not set: a
    platform started by `make up` never runs with the development defaults."""
    return {**{name: secrets.token_urlsafe(32) for name in RUN_SECRETS}, **environ}


PII_KEYS_FILE = Path("data/pii-keys.json")


def with_pii_keys(environ: Mapping[str, str], path: Path = PII_KEYS_FILE) -> dict[str, str]:
    """`environ` with PII_KEYS and PII_LOOKUP_KEY: as given, else as kept in `path` (drawn
    there on first use). Never drawn per run: a new key could not open yesterday's data."""
    if "PII_KEYS" in environ and "PII_LOOKUP_KEY" in environ:
        return dict(environ)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        drawn = {
            "PII_KEYS": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "PII_LOOKUP_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        }
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(drawn, file)
    kept = json.loads(path.read_text())
    return {**kept, **environ}


def database_url(service: ServiceInfo, environ: Mapping[str, str]) -> str:
    """Its own database: <SERVICE>_DATABASE_URL, else hotel_<service> on this machine."""
    default = f"postgresql+asyncpg://postgres@127.0.0.1:5432/hotel_{service.short}"
    return environ.get(f"{service.short.upper()}_DATABASE_URL", default)


def service_env(
    service: ServiceInfo, environ: Mapping[str, str], pool_size: int | None = None
) -> dict[str, str]:
    """The environment of one service process (RESERVATION_DATABASE_URL overrides its database;
    `pool_size`, when given and DATABASE_POOL_SIZE is not set, becomes DATABASE_POOL_SIZE)."""
    env = {
        **environ,
        "SERVICE_NAME": service.name,
        "DATABASE_URL": database_url(service, environ),
        "BUS": "rabbitmq",
        "RABBITMQ_URL": environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL),
        "SEED_DEMO": "true",
    }
    if pool_size is not None and "DATABASE_POOL_SIZE" not in environ:
        env["DATABASE_POOL_SIZE"] = str(pool_size)
    env.pop("TOKEN_SECRET", None)  # the gateway's alone: services never see a JWT
    return env


def server_of(url: str) -> str:
    """The PostgreSQL server a database URL is on ("host:port"), its connection budget's key."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def pool_size_for(processes: int, max_connections: int, superuser_reserved: int = 3) -> int:
    """Each process's pool size so that `processes` full pools fit under the server's limit."""
    budget = max_connections - superuser_reserved - RESERVED_CONNECTIONS
    size = min(DEFAULT_POOL_SIZE, budget // (CONNECTIONS_PER_POOL_SLOT * processes))
    if size < 1:
        raise ValueError(
            f"{processes} processes do not fit in max_connections={max_connections} "
            f"({budget} after reserved ones, {CONNECTIONS_PER_POOL_SLOT} per pool slot): "
            "run fewer replicas or raise the server's max_connections"
        )
    return size


async def _server_limits(url: str) -> tuple[int, int]:
    """(max_connections, superuser_reserved_connections), asked of the maintenance database."""
    dsn = make_url(url).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=5)
    try:
        limit = int(await connection.fetchval("SHOW max_connections"))
        reserved = int(await connection.fetchval("SHOW superuser_reserved_connections"))
        return limit, reserved
    finally:
        await connection.close()


def server_limits(url: str) -> tuple[int, int]:
    try:
        return asyncio.run(_server_limits(url))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        print(
            f"warning: cannot ask {server_of(url)} its max_connections ({exc!r}); "
            f"assuming {DEFAULT_MAX_CONNECTIONS}",
            file=sys.stderr,
        )
        return DEFAULT_MAX_CONNECTIONS, 3


def pool_sizes(
    services: list[ServiceInfo],
    environ: Mapping[str, str],
    limits: Callable[[str], tuple[int, int]] = server_limits,
) -> dict[str, int]:
    """Service name -> DATABASE_POOL_SIZE for each of its processes: the processes on one
    server share its connection budget equally (`limits` asks a server; tests pass a fake)."""
    on_server: dict[str, list[ServiceInfo]] = {}
    for s in services:
        on_server.setdefault(server_of(database_url(s, environ)), []).append(s)
    sizes: dict[str, int] = {}
    for group in on_server.values():
        limit, reserved = limits(database_url(group[0], environ))
        processes = sum(replicas(s, environ) for s in group)
        size = pool_size_for(processes, limit, reserved)
        explicit = environ.get("DATABASE_POOL_SIZE")
        if explicit is not None and int(explicit) > size:
            print(
                f"warning: DATABASE_POOL_SIZE={explicit} x {processes} processes can pass "
                f"{server_of(database_url(group[0], environ))}'s max_connections={limit} "
                f"(the launcher would use {size})",
                file=sys.stderr,
            )
        sizes.update((s.name, size) for s in group)
    return sizes


def replicas(service: ServiceInfo, environ: Mapping[str, str]) -> int:
    """How many processes of `service`: <SERVICE>_REPLICAS, else REPLICAS, else 1."""
    value = environ.get(f"{service.short.upper()}_REPLICAS") or environ.get("REPLICAS") or "1"
    count = int(value)
    if not 1 <= count <= 9:  # port + 100*i must stay clear of the next service's range
        raise ValueError(f"{service.name}: replicas must be 1-9, not {count}")
    return count


def replica_ports(service: ServiceInfo, environ: Mapping[str, str]) -> list[int]:
    return [service.port + 100 * i for i in range(replicas(service, environ))]


def gateway_env(services: list[ServiceInfo], environ: Mapping[str, str]) -> dict[str, str]:
    """The gateway's environment: UPSTREAMS maps each service started to its replicas' URLs;
    its identity store on GATEWAY_DATABASE_URL (else hotel_gateway on this machine), its
    events (guest sign-in codes) on RabbitMQ."""
    upstreams = {
        s.name: ",".join(f"http://127.0.0.1:{port}" for port in replica_ports(s, environ))
        for s in services
    }
    return {
        **environ,
        "UPSTREAMS": json.dumps(upstreams),
        "SERVICE_NAME": "gateway",
        "DATABASE_URL": environ.get("GATEWAY_DATABASE_URL", GATEWAY_DATABASE),
        "DATABASE_POOL_SIZE": environ.get("GATEWAY_POOL_SIZE", str(GATEWAY_POOL_SIZE)),
        "BUS": "rabbitmq",
        "RABBITMQ_URL": environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL),
        "SEED_DEMO": "false",  # make up takes its admin from BOOTSTRAP_ADMIN_EMAIL/PASSWORD
    }


def uvicorn_command(factory: str, port: int, host: str = "127.0.0.1") -> list[str]:
    # uvloop and httptools named, not left to uvicorn's "auto" (which quietly falls back to
    # the slower pure-Python ones if an import fails); no uvicorn access log: each service's
    # RequestIdMiddleware writes one line per request, with the request id.
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
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
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
    environ = with_pii_keys(with_run_secrets(os.environ))
    try:
        pools = pool_sizes(services, environ)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Own sessions: a terminal's Ctrl-C reaches only this launcher, which passes it on once
    # (uvicorn takes a second SIGINT as "exit now, skip the shutdown").
    children: Children = {
        f"{s.name}#{i}" if i else s.name: subprocess.Popen(
            uvicorn_command(f"{s.package}.main:create_app", port),
            env=service_env(s, environ, pools[s.name]),
            start_new_session=True,
        )
        for s in services
        for i, port in enumerate(replica_ports(s, environ))
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
            for port in replica_ports(s, environ):
                print(f"  {s.name}: http://127.0.0.1:{port}/docs", flush=True)
        while not stopping:
            if dead := exited(children):
                print(f"{', '.join(dead)} exited; stopping the platform", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        stop(children, stopping[0] if stopping else signal.SIGTERM)
