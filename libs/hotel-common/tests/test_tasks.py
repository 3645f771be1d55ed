"""Stopping background tasks: a cancellation a library swallowed cannot hang the stop."""

import asyncio
import contextlib
import time

from hotel_common.tasks import cancel_and_wait, raise_if_cancelled


async def _swallows_one_cancel(stopped: list[str]) -> None:
    """A worker whose first cancellation is lost inside a library call (Python 3.11's
    asyncio.wait_for when the awaited reply arrives with the cancel), and that asks nobody."""
    try:
        with contextlib.suppress(asyncio.CancelledError):  # swallowed
            await asyncio.sleep(60)
        await asyncio.Event().wait()  # goes on working, never to end by itself
    finally:
        stopped.append("stopped")


async def test_a_task_that_lost_its_cancellation_is_cancelled_again() -> None:
    stopped: list[str] = []
    task = asyncio.create_task(_swallows_one_cancel(stopped))
    await asyncio.sleep(0)
    started = time.monotonic()
    await asyncio.wait_for(cancel_and_wait([task], recancel_after=0.1), timeout=5)
    assert task.cancelled() and stopped == ["stopped"]
    assert time.monotonic() - started < 5


async def test_a_loop_that_asks_stops_at_its_next_turn() -> None:
    turns = 0

    async def worker() -> None:
        nonlocal turns
        while True:
            raise_if_cancelled()
            turns += 1
            with contextlib.suppress(asyncio.CancelledError):  # swallowed, as above
                await asyncio.sleep(60)

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    if not done:
        await cancel_and_wait([task], recancel_after=0.1)
    assert task in done and task.cancelled() and turns == 1


async def test_a_task_that_stops_at_once_is_not_waited_for_longer() -> None:
    task = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0)
    started = time.monotonic()
    await cancel_and_wait([task], recancel_after=30)
    assert task.cancelled() and time.monotonic() - started < 5
