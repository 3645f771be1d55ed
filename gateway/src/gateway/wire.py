"""The gateway's HTTP/1.1 client for its hop to a service: a pool of keep-alive connections
on `asyncio.Protocol`, responses parsed by httptools (llhttp, the parser uvicorn uses).

Why not aiohttp: the hop carries small requests and small answers, one at a time per
connection, and aiohttp's general client spent ~200 us of CPU on each (bench/gateway_proxy.py
profile, issue 16); this one does what the hop needs and no more. It raises `WireError`s
only; `gateway.upstream.HttpUpstream` turns them into the gateway's 502/503/504.

What it does:
- one pool per service URL, at most `limit` connections; a request that finds none free
  waits in line (first come, first served) for one to be returned or closed;
- idle connections are kept `IDLE_SECONDS` (below uvicorn's 5 s keep-alive, so the pool
  rarely hands out a connection the server is closing), the most recently used first;
- request bodies go whole with Content-Length; responses end by Content-Length, chunked
  encoding, or the server closing (no Content-Length); HEAD, 1xx, 204 and 304 have no body;
  `Connection: close` (or HTTP/1.0) retires the connection after the answer;
- a reused connection the server closed while idle, noticed only once the request is sent,
  is retried once on a new connection - only when nothing of the answer arrived and the
  method is idempotent (RFC 9112 9.3.1; as aiohttp did), since the service may have acted;
- a request given up on (timeout, cancelled) closes its connection: a late answer must
  never be read as the next request's.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from urllib.parse import urlsplit

import httptools

# RFC 9110 9.2.2; aiohttp's list too.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
# Methods whose requests carry no Content-Length unless they have a body.
WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})
IDLE_SECONDS = 3.0
MAX_HEADER_BYTES = 64 * 1024  # of one response's header names and values together


class WireError(Exception):
    """No usable answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConnectFailed(WireError):
    """No connection: the request never reached the service."""


class ConnectTimeout(ConnectFailed):
    """No connection within the connect timeout."""


class Disconnected(WireError):
    """The connection ended before the whole answer."""

    def __init__(self, reason: str, *, received: bool, sent: bool = True) -> None:
        super().__init__(reason)
        self.received = received  # any byte of the answer
        self.sent = sent  # any byte of the request


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self, pool: "Pool") -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.open = True
        self.pooled = False  # idle in the pool (else connecting, in use, or closed)
        self.used = 0  # answers completed on it
        self.idle_since = 0.0
        self.waiter: asyncio.Future[None] | None = None
        self._reset(False)

    def _reset(self, head: bool) -> None:
        self.head = head
        self.received = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.chunks: list[bytes] = []
        self.headers_done = False
        self.interim = False
        self.complete = False
        self.keep_alive = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or self.complete:
            # Nothing was asked (or the answer was whole): a server out of step.
            self.keep_alive = False
            self.close()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(WireError("unexpected protocol upgrade"))
        except httptools.HttpParserError as exc:
            cause = exc.__context__ if isinstance(exc.__context__, WireError) else None
            self._fail(cause or WireError("invalid response"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.pool._all.discard(self)
        if self.pooled:
            self.pool._lost_idle(self)
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.headers_done and not self.interim and not self._framed():
            self.keep_alive = False
            self._finish()  # a body delimited by the end of the connection
            return
        if exc is None:
            reason = "connection closed before the answer was whole"
        else:
            reason = (
                f"connection lost ({exc.strerror or type(exc).__name__})"
                if isinstance(exc, OSError)
                else f"connection lost ({type(exc).__name__})"
            )
        self._fail(Disconnected(reason, received=self.received))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.complete:  # a second answer to one request
            self.keep_alive = False
            return
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > MAX_HEADER_BYTES:
            raise WireError("response headers too large")
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.complete:
            self.keep_alive = False
            return
        status = self.parser.get_status_code()
        self.status = status
        if status < 200:  # 1xx: an interim answer; the final one follows on the same parser
            self.interim = True
            return
        self.headers_done = True
        if self.head:
            # No body follows, whatever Content-Length says; llhttp cannot be told so,
            # so the next request on this connection gets a fresh parser.
            keep_alive = self._headers_keep_alive()
            self.parser = httptools.HttpResponseParser(self)
            self._finish(keep_alive)

    def on_body(self, body: bytes) -> None:
        if self.complete:  # bytes after a HEAD answer
            self.keep_alive = False
            return
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            self.headers = []
            self.header_bytes = 0
            return
        if not self.complete:
            self._finish(self.parser.should_keep_alive())

    # the request side

    def _framed(self) -> bool:
        """Whether the answer's end is marked (Content-Length, chunked), not the socket's end."""
        for name, _ in self.headers:
            if name.lower() in (b"content-length", b"transfer-encoding"):
                return True
        return self.status in (204, 304)

    def _headers_keep_alive(self) -> bool:
        version = self.parser.get_http_version()
        connection = b""
        for name, value in self.headers:
            if name.lower() == b"connection":
                connection += b"," + value.lower()
        if version == "1.0":
            return b"keep-alive" in connection
        return b"close" not in connection

    def _finish(self, keep_alive: bool = False) -> None:
        self.complete = True
        self.keep_alive = keep_alive
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: WireError) -> None:
        self.keep_alive = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def usable(self) -> bool:
        return self.open and self.transport is not None and not self.transport.is_closing()

    async def exchange(self, request: bytes, head: bool) -> Answer:
        if not self.usable():  # closed while handed from one request to the next
            raise Disconnected("connection closed", received=False, sent=False)
        self._reset(head)
        waiter = self.waiter = self.pool.loop.create_future()
        assert self.transport is not None
        self.transport.write(request)
        try:
            await waiter
        finally:
            self.waiter = None
        self.used += 1
        return self.status, self.headers, b"".join(self.chunks)


class Pool:
    """Keep-alive connections to one `http://host:port` (or https), at most `limit` at once."""

    def __init__(self, base_url: str, *, limit: int, connect_timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = parts.scheme == "https"
        self.netloc = parts.netloc.rpartition("@")[2].encode("latin-1")
        self.prefix = parts.path.rstrip("/")
        self.limit = limit
        self.connect_timeout = connect_timeout
        self.loop = asyncio.get_running_loop()
        self.closed = False
        self._count = 0  # connections open, opening, or promised to a request
        self._idle: deque[Connection] = deque()
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._all: set[Connection] = set()

    # the request as bytes

    def encode(
        self, method: str, target: str, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> bytes:
        has_host = False
        lines = [f"{method} {self.prefix}{target} HTTP/1.1".encode("latin-1")]
        for name, value in headers:
            if len(name) == 14 and name.lower() == b"content-length":
                continue  # set below, from the body actually sent
            if len(name) == 17 and name.lower() == b"transfer-encoding":
                continue  # the body goes whole
            if len(name) == 4 and name.lower() == b"host":
                has_host = True
            lines.append(name + b": " + value)
        if not has_host:
            lines.append(b"Host: " + self.netloc)
        if body or method not in WITHOUT_BODY:
            lines.append(b"Content-Length: " + str(len(body)).encode())
        lines.append(b"\r\n")
        head = b"\r\n".join(lines)
        # A CR or LF inside a name or value (or a space in the target) would split the request.
        if head.count(b"\n") != len(lines) or head.count(b"\r") != len(lines) or " " in target:
            raise WireError("invalid request line or header")
        return head + body

    # connections

    async def _acquire(self) -> Connection | None:
        """An idle connection, or None: a slot to open one in."""
        idle = self._idle
        if idle:
            now = self.loop.time()
            stale = now - IDLE_SECONDS
            while idle and idle[0].idle_since < stale:  # the oldest first out
                self._drop(idle.popleft())
            while idle:
                conn = idle.pop()
                conn.pooled = False
                if conn.usable():
                    return conn
                self._drop(conn)
        if self._count < self.limit and not self._waiters:
            self._count += 1
            return None
        waiter: asyncio.Future[Connection | None] = self.loop.create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # given to us as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def _drop(self, conn: Connection) -> None:
        """Close an idle connection taken out of the pool; its slot is freed."""
        conn.pooled = False
        conn.close()
        self._count -= 1

    def _lost_idle(self, conn: Connection) -> None:
        """An idle connection the server closed: out of the pool, its slot to whoever waits."""
        conn.pooled = False
        try:
            self._idle.remove(conn)
        except ValueError:
            return
        self._release(None)

    def _release(self, conn: Connection | None) -> None:
        """Give a connection (or, with None, a slot) to the first waiter, else back."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is None:
            self._count -= 1
        else:
            conn.idle_since = self.loop.time()
            conn.pooled = True
            self._idle.append(conn)

    async def _connect(self) -> Connection:
        if self.closed:
            raise ConnectFailed("client closed")
        try:
            async with asyncio.timeout(self.connect_timeout) as limit:
                _, conn = await self.loop.create_connection(
                    lambda: Connection(self), self.host, self.port, ssl=self.ssl or None
                )
        except TimeoutError as exc:
            if limit.expired():
                raise ConnectTimeout("no connection in time") from exc
            raise
        except OSError as exc:
            raise ConnectFailed(exc.strerror or str(exc) or "connection failed") from exc
        self._all.add(conn)
        return conn

    # the request

    async def request(
        self, method: str, target: str, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> Answer:
        data = self.encode(method, target, headers, body)
        head = method == "HEAD"
        conn = await self._acquire()
        try:
            if conn is None:
                conn = await self._connect()
            try:
                answer = await conn.exchange(data, head)
            except Disconnected as lost:
                # A keep-alive connection the server closed while it idled: if nothing came
                # back and the method may be repeated, once more on a new connection.
                if lost.sent and (not conn.used or lost.received or method not in IDEMPOTENT):
                    raise
                conn = None
                conn = await self._connect()
                answer = await conn.exchange(data, head)
        except BaseException:
            if conn is not None:
                conn.close()
            self._release(None)
            raise
        if conn.keep_alive and conn.usable() and not self.closed:
            self._release(conn)
        else:
            conn.close()
            self._release(None)
        return answer

    def close(self) -> None:
        """Close every connection; requests in flight fail, waiters get a slot to fail in."""
        self.closed = True
        for conn in list(self._all):
            conn.close()
        self._all.clear()
        self._idle.clear()
