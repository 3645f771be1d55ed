"""The staff inbox (issue 20): alerts for dispatch and the front desk, with a per-minute digest.

Stub of the foundation: `alert` is what any handler calls to raise one.
"""

from sqlmodel.ext.asyncio.session import AsyncSession


async def alert(
    session: AsyncSession,
    *,
    audience: str,  # "dispatch" | "front_desk"
    kind: str,  # what happened, e.g. "guest_unreachable", "pickup_no_show"
    title: str,
    body: str,
    event_id: str,
    reservation_id: str | None = None,
    transfer_id: str | None = None,
) -> None:
    """Raise one alert for everyone in `audience`, once per (event_id, kind)."""
    return None
