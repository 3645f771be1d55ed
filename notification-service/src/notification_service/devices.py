"""The guests' app devices for push (issue 20): registered by the signed-in guest.

Stub of the foundation: `tokens_for` is what routing and the push sender ask.
"""

from sqlmodel.ext.asyncio.session import AsyncSession


async def tokens_for(session: AsyncSession, *, email: str | None, phone: str | None) -> list[str]:
    """The push tokens of the app installs signed in as `email` or `phone` (none: no push)."""
    return []
