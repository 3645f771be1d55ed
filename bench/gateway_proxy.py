"""What the gateway's hop costs, and which HTTP client it should use for it.

Starts a trivial upstream (uvicorn, loopback, a free port), then gateways in front of it - one
over its own HTTP client (`HttpUpstream`, gateway/wire.py), one over httpx, one calling the
upstream app in-process (`AsgiUpstream`, embedded mode) - each in its own process, and sends
the same bounded load to the upstream directly and to every gateway. Prints requests/s and
latency percentiles.

    .venv/bin/python bench/gateway_proxy.py [--requests 2000] [--concurrency 16] [--rounds 3]
"""

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import aiohttp
import httpx
import uvicorn
from gateway.config import Settings
from gateway.main import create_app
from gateway.upstream import (
    AsgiUpstream,
    RawHeaders,
    Upstream,
    UpstreamError,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from hotel_common.testing import free_port
from starlette.types import Receive, Scope, Send

PATH = "/api/v1/rooms/101?include=type"  # routed to reservation-service
SERVICE = "reservation-service"
ROOM = json.dumps({"id": 101, "number": "101", "room_type": "deluxe", "status": "clean"}).encode()


async def trivial_upstream(scope: Scope, receive: Receive, send: Send) -> None:
    """A service that answers at once: the measurement is the hop, not the work behind it."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": ROOM})


class HttpxUpstream(Upstream):
    """The contender: the same interface over httpx.AsyncClient (kept here, not in the gateway)."""

    def __init__(self, name: str, base_url: str) -> None:
        super().__init__(name)
        self.base_url = base_url
        self.client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            timeout=httpx.Timeout(self.timeout, connect=2.0),
        )

    async def forward(
        self,
        method: str,
        path_with_query: str,
        headers: RawHeaders,
        body: bytes,
        *,
        time_limit: float | None = None,
    ) -> UpstreamResponse:
        try:
            answer = await self.client.request(
                method, self.base_url + path_with_query, headers=list(headers), content=body
            )
        except httpx.ConnectError as exc:
            raise UpstreamUnavailable(self.name, "connection failed") from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(self.name, "timed out") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(self.name, type(exc).__name__) from exc
        return UpstreamResponse(answer.status_code, answer.headers.raw, answer.content)

    async def aclose(self) -> None:
        await self.client.aclose()


def serve(kind: str, port: int, upstream_url: str) -> None:
    """Child process: the upstream, or a gateway of the given kind in front of it."""
    upstreams: dict[str, Upstream]
    if kind == "upstream":
        uvicorn.run(trivial_upstream, host="127.0.0.1", port=port, log_level="warning")
        return
    if kind == "http":
        upstreams = {}  # the default: HttpUpstream from settings
    elif kind == "httpx":
        upstreams = {SERVICE: HttpxUpstream(SERVICE, upstream_url)}
    else:
        upstreams = {SERVICE: AsgiUpstream(SERVICE, trivial_upstream)}
    # The hop is measured, not the rate limits (bench/gateway_auth.py measures authentication).
    settings = Settings(
        upstreams={SERVICE: upstream_url}, log_level="WARNING", rate_limit_enabled=False
    )
    app = create_app(settings, upstreams or None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextlib.contextmanager
def process(kind: str, upstream_url: str = "") -> Iterator[str]:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port), "--upstream", upstream_url]
    )
    try:
        deadline = (
            time.monotonic() + 90
        )  # a busy 2-core machine: the gateway imports for tens of seconds
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(10)


async def load(url: str, requests: int, concurrency: int) -> tuple[float, list[float]]:
    """`requests` GETs, `concurrency` at a time: (requests per second, latencies in ms)."""
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as client:

        async def worker(count: int) -> None:
            for _ in range(count):
                started = time.perf_counter()
                async with client.get(url + PATH) as answer:
                    await answer.read()
                    if answer.status != 200:
                        raise RuntimeError(f"{url}: status {answer.status}")
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker(20) for _ in range(concurrency)))  # warm the pools
        latencies.clear()
        started = time.perf_counter()
        share, extra = divmod(requests, concurrency)
        await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return requests / elapsed, latencies


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="the best round is shown")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.upstream)
        return

    kinds = {
        "direct to upstream": None,
        "gateway, HttpUpstream (wire.py)": "http",
        "gateway, httpx upstream": "httpx",
        "gateway, in-process ASGI (embedded)": "asgi",
    }
    best: dict[str, tuple[float, float, float]] = {}
    with contextlib.ExitStack() as stack:
        upstream_url = stack.enter_context(process("upstream"))
        urls = {
            label: upstream_url
            if kind is None
            else stack.enter_context(process(kind, upstream_url))
            for label, kind in kinds.items()
        }
        # Rounds interleave the targets, and the best round of each is kept: on a shared
        # machine, noise only ever makes a run slower.
        for _ in range(args.rounds):
            for label, url in urls.items():
                rate, latencies = asyncio.run(load(url, args.requests, args.concurrency))
                if rate > best.get(label, (0.0, 0.0, 0.0))[0]:
                    best[label] = (rate, percentile(latencies, 50), percentile(latencies, 99))
    rows = [(label, *best[label]) for label in kinds]

    direct = rows[0][1]
    print(
        f"\n{args.requests} GET {PATH}, {args.concurrency} concurrent, loopback, "
        f"best of {args.rounds} rounds\n"
    )
    print(f"{'target':<38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'of direct':>10}")
    for label, rate, p50, p99 in rows:
        print(f"{label:<38} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} {rate / direct:>9.0%}")


if __name__ == "__main__":
    main()
