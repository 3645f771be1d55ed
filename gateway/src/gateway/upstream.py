"""How the gateway reaches a service: one small interface, two ways.

`HttpUpstream` (distributed mode) speaks HTTP/1.1 over a keep-alive connection pool of its own
(`gateway.wire`: asyncio protocols + httptools); `ReplicatedUpstream` spreads over several
replicas of one service round-robin; `AsgiUpstream` (embedded mode) calls the service's ASGI app
in the same process, without sockets. Both turn every failure into an `UpstreamError` whose kind
decides the gateway's answer (503 unreachable, 504 too slow, 502 anything else).

The client: first aiohttp, chosen over httpx (bench/gateway_proxy.py: ~7.7x httpx's
throughput at a twelfth of its p99). Issue 16 measured aiohttp's client at ~250 us of CPU per
proxied call against a trivial upstream (16 concurrent, uvloop) - most of the gateway's hop -
and `gateway.wire` at ~45 us for the same calls; see docs/DECISIONS.md, "Issue 16". Only this
module and `gateway.wire` know how the bytes travel.
"""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import unquote

from starlette.types import ASGIApp, Message

from gateway import wire

RawHeaders = Sequence[tuple[bytes, bytes]]


class UpstreamResponse(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class UpstreamError(Exception):
    """The service gave no usable answer (502)."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class UpstreamUnavailable(UpstreamError):
    """Refused or unreachable (503)."""


class UpstreamTimeout(UpstreamError):
    """Connected, but no complete answer within the timeout (504)."""


class Upstream(ABC):
    """One service as the gateway sees it."""

    def __init__(self, name: str, *, timeout: float = 10.0, ready_timeout: float = 3.0) -> None:
        self.name = name
        self.timeout = timeout
        self.ready_timeout = ready_timeout

    @abstractmethod
    async def forward(
        self,
        method: str,
        path_with_query: str,
        headers: RawHeaders,
        body: bytes,
        *,
        time_limit: float | None = None,
    ) -> UpstreamResponse:
        """Send one request; raise an `UpstreamError` when there is no usable answer."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections and wait for work in flight (briefly)."""

    async def ready(self) -> str:
        """The service's own /health/ready, as "ready" or the reason it is not."""
        try:
            answer = await self.forward(
                "GET", "/health/ready", (), b"", time_limit=self.ready_timeout
            )
        except UpstreamTimeout:
            return f"no answer within {self.ready_timeout:g} s"
        except UpstreamError as exc:
            return f"down: {exc.reason}"
        return "ready" if answer.status == 200 else f"not ready (status {answer.status})"


class HttpUpstream(Upstream):
    """A service in its own process, over a keep-alive connection pool (`gateway.wire`)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 2.0,
        ready_timeout: float = 3.0,
        max_connections: int = 100,
    ) -> None:
        super().__init__(name, timeout=timeout, ready_timeout=ready_timeout)
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        self._pool: wire.Pool | None = None

    def _open(self) -> wire.Pool:
        # Opened lazily: the pool belongs to the running event loop.
        self._pool = wire.Pool(
            self.base_url, limit=self.max_connections, connect_timeout=self.connect_timeout
        )
        return self._pool

    async def forward(
        self,
        method: str,
        path_with_query: str,
        headers: RawHeaders,
        body: bytes,
        *,
        time_limit: float | None = None,
    ) -> UpstreamResponse:
        pool = self._pool or self._open()
        try:
            # One deadline for the lot: waiting for a connection, connecting, the answer.
            async with asyncio.timeout(time_limit or self.timeout):
                status, raw_headers, content = await pool.request(
                    method, path_with_query, headers, body
                )
        except wire.ConnectFailed as exc:  # never reached the service
            raise UpstreamUnavailable(self.name, exc.reason) from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(self.name, "timed out") from exc
        except wire.WireError as exc:
            raise UpstreamError(self.name, exc.reason) from exc
        return UpstreamResponse(status, raw_headers, content)

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class ReplicatedUpstream(Upstream):
    """Several replicas of one service: round-robin, skipping one that cannot be reached.

    Another replica is tried only when the request never reached the first (connection
    refused, no connection in time: `UpstreamUnavailable`); after that, a retry could apply
    a write twice, so a timeout or a broken answer is the client's to see.
    """

    def __init__(self, name: str, replicas: Sequence[Upstream]) -> None:
        if not replicas:
            raise ValueError(f"{name}: no replicas")
        super().__init__(name, timeout=replicas[0].timeout, ready_timeout=replicas[0].ready_timeout)
        self.replicas = list(replicas)
        self._next = 0

    def _order(self) -> list[Upstream]:
        start = self._next
        self._next = (start + 1) % len(self.replicas)
        return self.replicas[start:] + self.replicas[:start]

    async def forward(
        self,
        method: str,
        path_with_query: str,
        headers: RawHeaders,
        body: bytes,
        *,
        time_limit: float | None = None,
    ) -> UpstreamResponse:
        refused: UpstreamUnavailable | None = None
        for replica in self._order():
            try:
                return await replica.forward(
                    method, path_with_query, headers, body, time_limit=time_limit
                )
            except UpstreamUnavailable as exc:  # never reached it: safe to try another
                refused = exc
        assert refused is not None
        raise UpstreamUnavailable(self.name, f"no replica reachable ({refused.reason})")

    async def ready(self) -> str:
        """Ready when any replica is (the gateway skips the others)."""
        states = await asyncio.gather(*(r.ready() for r in self.replicas))
        if "ready" in states:
            return "ready"
        return "; ".join(dict.fromkeys(states))

    async def aclose(self) -> None:
        await asyncio.gather(*(r.aclose() for r in self.replicas))


class AsgiUpstream(Upstream):
    """A service app in this process, called through its ASGI interface."""

    def __init__(
        self, name: str, app: ASGIApp, *, timeout: float = 10.0, ready_timeout: float = 3.0
    ) -> None:
        super().__init__(name, timeout=timeout, ready_timeout=ready_timeout)
        self.app = app
        self.host = name.encode("latin-1")  # what a Host header would name
        self._calls: set[asyncio.Future[None]] = set()

    def _call_done(self, call: "asyncio.Future[None]") -> None:
        self._calls.discard(call)
        if not call.cancelled():
            call.exception()  # retrieved: the service has logged it and answered 500

    async def aclose(self) -> None:
        """Let calls in flight (also ones the gateway gave up on) finish, within a bound."""
        if self._calls:
            _, pending = await asyncio.wait(set(self._calls), timeout=self.timeout + 5)
            for call in pending:
                call.cancel()

    async def forward(
        self,
        method: str,
        path_with_query: str,
        headers: RawHeaders,
        body: bytes,
        *,
        time_limit: float | None = None,
    ) -> UpstreamResponse:
        raw_path, _, query = path_with_query.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": [(b"host", self.host), *((k.lower(), v) for k, v in headers)],
            "client": ("127.0.0.1", 0),
            "server": (self.name, 80),
            "state": {},
        }
        finished = asyncio.Event()
        request_sent = complete = False
        status = 0
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await finished.wait()  # like a client that stays connected until it has the answer
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, response_headers, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    complete = True
                    finished.set()

        # The app runs as its own task so the answer returns once complete, as over a socket;
        # background work the app does after responding carries on without holding it.
        call = asyncio.ensure_future(self.app(scope, receive, send))
        self._calls.add(call)
        call.add_done_callback(self._call_done)
        call.add_done_callback(lambda _: finished.set())
        try:
            async with asyncio.timeout(time_limit or self.timeout):
                await finished.wait()
        except TimeoutError as exc:
            # The call is not cancelled: cut at an await it could stop after its commit and
            # before recording what it did. It runs to its end (tracked in _calls; aclose
            # waits for it), as a service behind a socket would; only the answer is dropped.
            raise UpstreamTimeout(self.name, "timed out") from exc
        if not complete:
            failure = call.exception() if call.done() and not call.cancelled() else None
            raise UpstreamError(self.name, type(failure).__name__ if failure else "no response")
        return UpstreamResponse(status, response_headers, b"".join(chunks))
