"""Stopping the sender: a cancellation is never lost, even when it lands as a wake-up does."""

import asyncio
import contextlib

from notification_service.config import Settings
from notification_service.delivery import Delivery


async def test_a_cancel_racing_a_wake_up_stops_the_sender() -> None:
    delivery = Delivery(sessions=None, settings=Settings(delivery_poll_seconds=60))  # type: ignore[arg-type]
    first_pass = asyncio.Event()

    async def deliver_due() -> int:
        first_pass.set()
        return 0

    async def next_due() -> None:
        return None

    delivery.deliver_due = deliver_due  # type: ignore[method-assign]
    delivery._next_due = next_due  # type: ignore[method-assign]
    task = asyncio.create_task(delivery.run())
    await first_pass.wait()
    for _ in range(5):  # let it settle in its wait for a wake-up
        await asyncio.sleep(0)
    # A commit wakes the sender in the very step the service stops it: with Python 3.11's
    # asyncio.wait_for the wake-up won and the cancellation was swallowed.
    delivery.wake()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    if not done:  # stop it for good, then fail
        delivery.deliver_due = None  # type: ignore[assignment,method-assign]
        task.cancel()
        await asyncio.wait({task}, timeout=2)
    assert task in done and task.cancelled(), "the sender went on after being cancelled"


async def test_a_cancel_swallowed_inside_a_send_still_stops_the_sender() -> None:
    """aiosmtplib reads each SMTP reply through Python 3.11's asyncio.wait_for, which drops a
    cancellation landing as the reply arrives: the send returns as if never cancelled. The
    sender must stop at its next turn, not deliver (and idle-close, and poll) forever."""
    delivery = Delivery(sessions=None, settings=Settings(delivery_poll_seconds=60))  # type: ignore[arg-type]
    in_send = asyncio.Event()
    passes = 0

    async def deliver_due() -> int:
        nonlocal passes
        passes += 1
        if passes == 1:
            in_send.set()
            # Awaiting the server's reply; the cancel dropped, as 3.11's wait_for does when
            # the reply wins the race.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(60)
        return 0

    async def next_due() -> None:
        return None

    delivery.deliver_due = deliver_due  # type: ignore[method-assign]
    delivery._next_due = next_due  # type: ignore[method-assign]
    task = asyncio.create_task(delivery.run())
    await in_send.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    if not done:  # stop it for good, then fail
        delivery.deliver_due = None  # type: ignore[assignment,method-assign]
        task.cancel()
        await asyncio.wait({task}, timeout=2)
    assert task in done and task.cancelled(), "the sender went on after its stop was swallowed"
    assert passes == 1
