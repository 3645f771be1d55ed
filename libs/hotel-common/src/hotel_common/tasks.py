"""Stopping background tasks so that a lost cancellation cannot hang a shutdown.

Python 3.11's `asyncio.wait_for` swallows a cancellation that lands in the loop turn its
awaited result arrives: it returns the result, and the task goes on as if never cancelled
(fixed in 3.12, cpython gh-86296). Our code uses `asyncio.timeout` instead, but libraries
still call it: aiosmtplib reads every SMTP reply through it, aio-pika its broker's answers.
A worker cancelled once at shutdown while such a reply comes in then runs on, and whoever
awaits it waits forever.

Two guards: a loop asks `raise_if_cancelled()` at every turn, so a swallowed request (still
counted by `Task.cancelling()`) stops it there; and `cancel_and_wait` cancels again a task
still running a while after it was asked to stop.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

# A stopping task gets this long to finish its clean-up (an SMTP QUIT, a last commit) before
# it is cancelled again.
RECANCEL_AFTER_SECONDS = 2.0


def raise_if_cancelled() -> None:
    """Raise CancelledError if this task has been asked to stop (and a library swallowed it)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], recancel_after: float = RECANCEL_AFTER_SECONDS
) -> None:
    """Cancel the tasks and wait until every one has ended, cancelling again any still
    running after `recancel_after` seconds. A task's own error is raised."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    pending = {task for task in tasks if not task.done()}
    while pending:
        _, pending = await asyncio.wait(pending, timeout=recancel_after)
        for task in pending:
            log.warning(
                "task still running after being cancelled; cancelling it again",
                extra={"task": task.get_name()},
            )
            task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
