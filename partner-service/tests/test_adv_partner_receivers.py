"""Adversarial: hostile receivers and a hostile network against the webhook sender.

A receiver written to hurt the sender: redirects of every kind toward the cloud's metadata
address, a body trickled a byte at a time (slowloris), a header of a megabyte, an error page
that echoes secrets; and a name server that answers differently the second time (the sender
connects to the address it checked and never asks again: proven with a name no real resolver
knows). Each attempt is bounded in time, logged in a few hundred characters, and the answer's
body is never stored.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from partner_service.config import Settings
from partner_service.delivery import OUTBOUND
from partner_service.outbound import Outbound
from partner_service.subscriptions import ERROR_MAX

from .webhook_support import Receiver, eventually, platform, receiving

Conversation = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_receiver(talk: Conversation) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A TCP server on loopback that reads one request head and then runs `talk`."""
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            await talk(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hook", heads
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


async def slowloris(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
    for _ in range(10_000):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(0.05)


async def trickled_headers(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\n")
    for i in range(10_000):
        writer.write(f"x-{i}: y\r\n".encode())
        await writer.drain()
        await asyncio.sleep(0.05)


async def huge_header(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    big = b"a" * 1_000_000
    writer.write(b"HTTP/1.1 200 OK\r\nx-big: " + big + b"\r\ncontent-length: 0\r\n\r\n")
    await writer.drain()


def redirect(status: int) -> Conversation:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            f"HTTP/1.1 {status} Moved\r\nlocation: http://169.254.169.254/latest/meta-data/\r\n"
            "content-length: 0\r\n\r\n".encode()
        )
        await writer.drain()

    return answer


async def echoing_error(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    page = b"Internal error: db password=hunter2-SECRET " + b"z" * 5000
    writer.write(b"HTTP/1.1 500 Oops\r\ncontent-length: %d\r\n\r\n" % len(page) + page)
    await writer.drain()


OPTIONS: dict[str, Any] = {"webhook_timeout_seconds": 1.0, "webhook_connect_timeout_seconds": 0.5}


@pytest.mark.parametrize("talk", [slowloris, trickled_headers], ids=["body", "headers"])
async def test_a_trickling_receiver_holds_an_attempt_no_longer_than_the_timeout(
    tmp_path: Path, talk: Conversation
) -> None:
    async with raw_receiver(talk) as (url, _), platform(tmp_path, **OPTIONS) as p:
        made = await p.subscribe(url)
        await p.append()
        [attempt, *_] = await eventually(lambda: p.deliveries(made["id"]), timeout=10)
        assert attempt["outcome"] == "failed"
        assert attempt["error"].startswith("timeout")
        assert attempt["duration_ms"] < 3000  # 1 s timeout; the trickle would last 500 s


async def test_a_megabyte_header_is_a_connection_error_in_a_bounded_log_line(
    tmp_path: Path,
) -> None:
    async with raw_receiver(huge_header) as (url, _), platform(tmp_path, **OPTIONS) as p:
        made = await p.subscribe(url)
        await p.append()
        [attempt, *_] = await eventually(lambda: p.deliveries(made["id"]), timeout=10)
        assert attempt["outcome"] == "failed"
        assert len(attempt["error"]) <= ERROR_MAX
        assert "aaaaaaaaaa" not in attempt["error"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_no_redirect_is_followed_toward_the_metadata_address(
    tmp_path: Path, status: int
) -> None:
    async with raw_receiver(redirect(status)) as (url, heads), platform(tmp_path, **OPTIONS) as p:
        made = await p.subscribe(url)
        await p.append()
        [attempt] = await eventually(lambda: p.deliveries(made["id"]), timeout=10)
        assert (attempt["outcome"], attempt["status_code"]) == ("not_retried", status)
        assert "169.254" not in attempt["error"]
        assert len(heads) == 1


async def test_an_error_page_is_never_stored(tmp_path: Path) -> None:
    async with raw_receiver(echoing_error) as (url, _), platform(tmp_path, **OPTIONS) as p:
        made = await p.subscribe(url)
        await p.append()
        [attempt, *_] = await eventually(lambda: p.deliveries(made["id"]), timeout=10)
        assert attempt["error"] == "HTTP 500"
        state = await p.subscription(made["id"])
        assert "hunter2" not in str(state)


async def test_the_checked_address_is_the_one_connected_to(tmp_path: Path) -> None:
    """DNS rebinding: the name resolves once per attempt, and the connection goes to that
    answer's address (a second answer, were one asked for, would point nowhere)."""
    async with platform(tmp_path, **OPTIONS) as p, receiving(Receiver()) as receiver:
        assert receiver.proxy is not None
        asked: list[str] = []

        async def rebinding(host: str, port: int) -> list[str]:
            asked.append(host)
            # The subscribe check and the delivery's check: the receiver; any third question
            # (a client resolving the name again to connect): an address nothing listens on.
            return ["127.0.0.1"] if len(asked) <= 2 else ["127.0.0.2"]

        p.runtime.extras[OUTBOUND].resolve = rebinding
        url = f"http://hooks.rebind.invalid:{receiver.proxy.port}/hook"
        made = await p.subscribe(url)  # the check: first answer
        assert asked == ["hooks.rebind.invalid"]
        await p.append()
        await eventually(lambda: len(receiver.accepted) == 1, timeout=10)
        # One resolution for the delivery, and its address connected to at the first attempt.
        assert asked == ["hooks.rebind.invalid"] * 2
        assert receiver.accepted[0].headers["host"] == f"hooks.rebind.invalid:{receiver.proxy.port}"
        log = await eventually(lambda: p.deliveries(made["id"]), timeout=10)
        assert [a["outcome"] for a in log] == ["delivered"]


async def test_one_slow_receiver_never_holds_a_sender_past_its_timeout() -> None:
    """The bound of one attempt, measured at the sender itself (no database in between)."""
    async with raw_receiver(slowloris) as (url, _):
        outbound = Outbound(Settings(environment="development", **OPTIONS))
        started = time.monotonic()
        async with outbound.client() as client:
            answer = await outbound.post(client, url, b"{}", {})
        assert time.monotonic() - started < 3  # 1 s timeout; the trickle would last 500 s
        assert answer.error is not None and answer.error.startswith("timeout")
