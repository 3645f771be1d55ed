"""Addresses known to be bad (issue 20): a provider or mail server refused a message to them for
good. Kept by hash (preferences.contact_hash), never the address itself; routing (reach.py)
skips them, so the next notice goes on another channel at once.
"""

from datetime import datetime

from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service.preferences import contact_hash


class BadAddress(SQLModel, table=True):
    __tablename__ = "bad_addresses"

    contact_hash: str = Field(primary_key=True, max_length=64)
    channel: str = Field(max_length=20)
    reason: str = Field(max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


def _kind(channel: str) -> str:
    """The contact kind of a channel's address: a phone for sms, else an email."""
    return "phone" if channel == "sms" else "email"


async def mark(session: AsyncSession, channel: str, address: str, reason: str) -> None:
    """Remember `address` on `channel` as bad (once: a second refusal changes nothing)."""
    if not address:
        return
    values = {
        "contact_hash": contact_hash(_kind(channel), address),
        "channel": channel,
        "reason": reason[:500],
        "at": utcnow(),
    }
    conn = await session.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await session.exec(insert(BadAddress).values(**values).on_conflict_do_nothing())


async def bad_of(session: AsyncSession, candidates: list[tuple[str, str]]) -> set[str]:
    """Which of the (channel, address) candidates are known bad: their addresses."""
    by_hash = {contact_hash(_kind(c), a): a for c, a in candidates if a}
    if not by_hash:
        return set()
    found = await session.exec(
        select(BadAddress.contact_hash).where(col(BadAddress.contact_hash).in_(list(by_hash)))
    )
    return {by_hash[h] for h in found.all()}


async def forget(session: AsyncSession, emails: list[str], phones: list[str]) -> int:
    """An erased guest's bad addresses go: the hash names them, and the refusal kept as the
    reason often quotes the address itself ("unknown subscriber +86...")."""
    hashes = [contact_hash("email", e) for e in emails if e.strip()]
    hashes += [contact_hash("phone", p) for p in phones if p.strip()]
    if not hashes:
        return 0
    gone = await session.exec(delete(BadAddress).where(col(BadAddress.contact_hash).in_(hashes)))
    return int(gone.rowcount or 0)
