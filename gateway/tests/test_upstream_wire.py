"""The gateway's own HTTP/1.1 client (gateway.wire, behind HttpUpstream), against scripted
servers: keep-alive reuse, response framing, the stale-connection retry, the pool's bound and
its queue, and what a request given up on does to its connection."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from gateway.upstream import HttpUpstream, UpstreamError, UpstreamTimeout, UpstreamUnavailable


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[bytes, bytes]
    body: bytes
    connection: int  # which connection (0, 1, ...) carried it
    on_connection: int  # its place on that connection (0 = first)


CLOSE = "close"
Reply = bytes | tuple[bytes, str] | None


@dataclass
class Script:
    """A server whose `answer(seen)` says what to write back: bytes, then the next request;
    (bytes, CLOSE): those, then it hangs up; None: it hangs up unanswered."""

    answer: Callable[[Seen], Awaitable[Reply]]
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0


def ok(body: bytes = b"ok", *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Length: %d" % len(body), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@contextlib.asynccontextmanager
async def scripted(
    answer: Callable[[Seen], Awaitable[Reply]],
) -> AsyncIterator[tuple[str, Script]]:
    script = Script(answer)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = script.connections
        script.connections += 1
        script.open_now += 1
        script.most_open = max(script.most_open, script.open_now)
        try:
            for place in range(1000):
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                line, *rest = head[:-4].split(b"\r\n")
                method, path, _ = line.decode().split(" ")
                headers = dict(
                    (name.lower(), value) for name, _, value in (h.partition(b": ") for h in rest)
                )
                body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
                seen = Seen(method, path, headers, body, number, place)
                script.seen.append(seen)
                reply = await script.answer(seen)
                if reply is None:
                    return
                writer.write(reply if isinstance(reply, bytes) else reply[0])
                await writer.drain()
                if not isinstance(reply, bytes):
                    return
        finally:
            script.open_now -= 1
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", script


async def test_one_connection_carries_request_after_request() -> None:
    async def answer(seen: Seen) -> bytes:
        return ok(seen.path.encode())

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        for n in range(3):
            got = await upstream.forward("GET", f"/things/{n}?q=1", [(b"X-A", b"1")], b"")
            assert got.status == 200
            assert got.body == f"/things/{n}?q=1".encode()
            assert (b"Content-Length", b"%d" % len(got.body)) in got.headers
        await upstream.aclose()
    assert script.connections == 1
    first = script.seen[0]
    assert first.headers[b"host"] == url.removeprefix("http://").encode()
    assert first.headers[b"x-a"] == b"1"
    assert b"content-length" not in first.headers  # a GET without a body says nothing of it
    assert set(first.headers) == {b"host", b"x-a"}  # no headers of the client's own


async def test_request_bodies_go_with_their_length_and_a_base_path_prefixes_the_target() -> None:
    async def answer(seen: Seen) -> bytes:
        return ok(seen.body)

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url + "/base/")
        put = await upstream.forward(
            "PUT",
            "/x",
            [(b"content-length", b"999"), (b"transfer-encoding", b"chunked")],
            b"\0" * 70000,
        )
        post = await upstream.forward("POST", "/y", [], b"")
        await upstream.aclose()
    assert put.body == b"\0" * 70000
    assert script.seen[0].path == "/base/x"
    assert script.seen[0].headers[b"content-length"] == b"70000"
    assert b"transfer-encoding" not in script.seen[0].headers
    assert post.body == b""
    assert script.seen[1].headers[b"content-length"] == b"0"  # as aiohttp sent for a bodiless POST


async def test_chunked_and_connection_delimited_bodies_arrive_whole() -> None:
    async def answer(seen: Seen) -> Reply:
        if seen.path == "/chunked":
            return (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )
        return b"HTTP/1.1 200 OK\r\n\r\nuntil the end", CLOSE

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        chunked = await upstream.forward("GET", "/chunked", [], b"")
        again = await upstream.forward("GET", "/chunked", [], b"")
        to_eof = await upstream.forward("GET", "/eof", [], b"")
        after = await upstream.forward("GET", "/chunked", [], b"")
        await upstream.aclose()
    assert chunked.body == again.body == after.body == b"hello world"
    assert to_eof.body == b"until the end"
    assert [s.connection for s in script.seen] == [0, 0, 0, 1]  # closed after the EOF body


async def test_head_204_304_and_interim_answers_have_no_body_and_keep_the_connection() -> None:
    async def answer(seen: Seen) -> bytes:
        if seen.method == "HEAD":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        if seen.path == "/204":
            return b"HTTP/1.1 204 No Content\r\n\r\n"
        if seen.path == "/304":
            return b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"
        if seen.path == "/continue":
            return b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"final", b"X-Final: 1")
        return ok(b"hello")

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        head = await upstream.forward("HEAD", "/", [], b"")
        get = await upstream.forward("GET", "/", [], b"")
        no_content = await upstream.forward("GET", "/204", [], b"")
        not_modified = await upstream.forward("GET", "/304", [], b"")
        final = await upstream.forward("POST", "/continue", [(b"expect", b"100-continue")], b"x")
        head_again = await upstream.forward("HEAD", "/", [], b"")
        last = await upstream.forward("GET", "/", [], b"")
        await upstream.aclose()
    assert (head.status, head.body) == (200, b"")
    assert (b"Content-Length", b"5") in head.headers
    assert get.body == last.body == b"hello"
    assert (no_content.status, no_content.body) == (204, b"")
    assert (not_modified.status, not_modified.body) == (304, b"")
    assert (final.status, final.body, final.headers) == (
        200,
        b"final",
        [(b"Content-Length", b"5"), (b"X-Final", b"1")],
    )
    assert head_again.body == b""
    assert {s.connection for s in script.seen} == {0}


async def test_head_answers_keep_or_retire_the_connection_as_their_headers_say() -> None:
    async def answer(seen: Seen) -> Reply:
        if seen.path == "/10":
            return b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n", CLOSE
        if seen.path == "/10-keep":
            return b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n", CLOSE

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        for path in ("/10-keep", "/10-keep", "/close", "/10", "/10-keep"):
            assert (await upstream.forward("HEAD", path, [], b"")).body == b""
        await upstream.aclose()
    assert [s.connection for s in script.seen] == [0, 0, 0, 1, 2]


async def test_headers_beyond_the_bound_are_a_502() -> None:
    async def answer(seen: Seen) -> Reply:
        return ok(b"x", *(b"X-Big-%d: %s" % (n, b"v" * 1000) for n in range(70)))

    async with scripted(answer) as (url, _):
        upstream = HttpUpstream("svc", url)
        with pytest.raises(UpstreamError) as failed:
            await upstream.forward("GET", "/", [], b"")
        await upstream.aclose()
    assert type(failed.value) is UpstreamError
    assert failed.value.reason == "response headers too large"


async def test_connection_close_retires_the_connection() -> None:
    async def answer(seen: Seen) -> bytes:
        return ok(b"bye", b"Connection: close")

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        for _ in range(3):
            assert (await upstream.forward("POST", "/", [], b"x")).body == b"bye"
        await upstream.aclose()
    assert [s.connection for s in script.seen] == [0, 1, 2]


async def test_a_stale_keep_alive_connection_is_retried_once_for_an_idempotent_request() -> None:
    """The server hangs up on the second request of a connection without answering it: the
    race of a keep-alive connection closing as a request is sent."""

    async def answer(seen: Seen) -> Reply:
        return None if seen.on_connection == 1 else ok(seen.method.encode())

    async with scripted(answer) as (url, script):
        for method in ("GET", "PUT", "DELETE"):
            upstream = HttpUpstream("svc", url)
            assert (await upstream.forward(method, "/", [], b"")).body == method.encode()
            assert (await upstream.forward(method, "/", [], b"")).body == method.encode()
            await upstream.aclose()
    # each second request reached the server twice: once on the stale connection, once anew
    assert [(s.method, s.on_connection) for s in script.seen] == [
        (m, place) for m in ("GET", "PUT", "DELETE") for place in (0, 1, 0)
    ]


async def test_a_request_that_is_not_idempotent_is_never_sent_twice() -> None:
    async def answer(seen: Seen) -> Reply:
        return None if seen.on_connection == 1 else ok()

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        assert (await upstream.forward("POST", "/", [], b"{}")).status == 200
        with pytest.raises(UpstreamError) as failed:
            await upstream.forward("POST", "/", [], b"{}")
        await upstream.aclose()
    assert type(failed.value) is UpstreamError  # a 502: the service may have acted on it
    assert len(script.seen) == 2


async def test_an_answer_cut_short_is_a_502_and_never_retried() -> None:
    async def answer(seen: Seen) -> Reply:
        if seen.on_connection == 1:
            return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart", CLOSE
        return ok()

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        await upstream.forward("GET", "/", [], b"")
        with pytest.raises(UpstreamError) as failed:
            await upstream.forward("GET", "/", [], b"")
        await upstream.aclose()
    assert type(failed.value) is UpstreamError
    assert len(script.seen) == 2


async def test_a_server_that_closes_an_idle_connection_costs_nothing() -> None:
    async def answer(seen: Seen) -> Reply:
        return ok(), CLOSE  # without saying so: the pool learns it while the connection idles

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        await upstream.forward("POST", "/", [], b"1")
        await asyncio.sleep(0.05)
        assert (await upstream.forward("POST", "/", [], b"2")).status == 200  # not retried: fresh
        await upstream.aclose()
    assert [s.body for s in script.seen] == [b"1", b"2"]
    assert script.connections == 2


async def test_garbage_is_a_502_and_a_refused_port_a_503() -> None:
    async def answer(seen: Seen) -> bytes:
        return b"NOT HTTP AT ALL\r\n\r\n"

    async with scripted(answer) as (url, _):
        upstream = HttpUpstream("svc", url)
        with pytest.raises(UpstreamError) as garbage:
            await upstream.forward("GET", "/", [], b"")
        await upstream.aclose()
    assert type(garbage.value) is UpstreamError
    with pytest.raises(UpstreamUnavailable):
        await HttpUpstream("svc", url).forward("GET", "/", [], b"")


async def test_a_header_that_would_split_the_request_is_refused_unsent() -> None:
    async def answer(seen: Seen) -> bytes:
        return ok()

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url)
        for name, value in ((b"x-a", b"1\r\nX-Injected: 1"), (b"x-a\n", b"1"), (b"x-a", b"1\r")):
            with pytest.raises(UpstreamError):
                await upstream.forward("GET", "/", [(name, value)], b"")
        assert (await upstream.forward("GET", "/", [], b"")).status == 200
        await upstream.aclose()
    assert len(script.seen) == 1


async def test_a_request_given_up_on_closes_its_connection() -> None:
    """The late answer to a timed-out request is never read as the next request's."""

    async def answer(seen: Seen) -> bytes:
        if seen.path == "/slow":
            await asyncio.sleep(0.5)
        return ok(seen.path.encode())

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url, timeout=0.2)
        await upstream.forward("GET", "/warm", [], b"")
        with pytest.raises(UpstreamTimeout):
            await upstream.forward("GET", "/slow", [], b"")
        assert (await upstream.forward("GET", "/next", [], b"")).body == b"/next"
        await upstream.aclose()
    assert [s.connection for s in script.seen] == [0, 0, 1]


async def test_the_pool_is_bounded_and_waiters_are_served_in_order() -> None:
    async def answer(seen: Seen) -> bytes:
        await asyncio.sleep(0.05)
        return ok(seen.path.encode())

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url, max_connections=2)
        answers = await asyncio.gather(
            *(upstream.forward("GET", f"/{n}", [], b"") for n in range(8))
        )
        await upstream.aclose()
    assert [a.body for a in answers] == [f"/{n}".encode() for n in range(8)]
    assert script.connections == 2 and script.most_open == 2
    assert [s.path for s in script.seen] == [f"/{n}" for n in range(8)]  # first come, first served


async def test_a_waiter_that_gives_up_leaves_its_turn_to_the_next() -> None:
    async def answer(seen: Seen) -> bytes:
        await asyncio.sleep(0.2 if seen.path == "/first" else 0)
        return ok(seen.path.encode())

    async with scripted(answer) as (url, script):
        upstream = HttpUpstream("svc", url, max_connections=1)
        first = asyncio.ensure_future(upstream.forward("GET", "/first", [], b""))
        await asyncio.sleep(0.05)
        quitter = asyncio.ensure_future(upstream.forward("GET", "/quitter", [], b""))
        waiting = asyncio.ensure_future(upstream.forward("GET", "/waiting", [], b""))
        short = upstream.forward("GET", "/short", [], b"", time_limit=0.05)
        with pytest.raises(UpstreamTimeout):  # timed out in the queue, never sent
            await short
        quitter.cancel()
        assert (await first).body == b"/first"
        assert (await waiting).body == b"/waiting"
        assert (await upstream.forward("GET", "/after", [], b"")).body == b"/after"
        await upstream.aclose()
    assert [s.path for s in script.seen] == ["/first", "/waiting", "/after"]
    assert script.connections == 1
