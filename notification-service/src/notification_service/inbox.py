"""The guest's in-app inbox (issue 20): a copy of every notice sent to a guest, for the app.

Stub of the foundation: `keep` is called by handlers._queue for each notice it queues.
"""

from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service.models import Notification


async def keep(session: AsyncSession, notification: Notification) -> None:
    """Put the app's copy of `notification` in its guest's inbox (never a sign-in code)."""
    return None
