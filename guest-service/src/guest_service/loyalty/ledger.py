"""The points ledger: every line has a reason, the balance is their sum."""

from sqlmodel.ext.asyncio.session import AsyncSession


async def award(
    session: AsyncSession, guest_id: str, points: int, reason: str, reference: str
) -> None:
    """Post `points` to the guest's account now, once per `reference` (a retry posts nothing
    more); e.g. a complaint's compensation. Called inside the caller's transaction."""
    raise NotImplementedError  # the loyalty part implements it
