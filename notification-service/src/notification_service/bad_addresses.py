"""Addresses known to be bad (issue 20): a provider or mail server refused a message to them for
good. Kept by hash (preferences.contact_hash), never the address itself; routing (reach.py)
skips them, so the next notice goes on another channel at once.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import Table, bindparam, literal, null, or_, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service.preferences import NoticeContact, contact_hash


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


async def bad_of(
    session: AsyncSession,
    candidates: list[tuple[str, str]],
    known: "Known | None" = None,
) -> set[str]:
    """Which of the (channel, address) candidates are known bad: their addresses. `known`:
    the hashes already looked up, and which of them were bad (holders_and_bad): only the
    others are read."""
    by_hash = {contact_hash(_kind(c), a): a for c, a in candidates if a}
    if not by_hash:
        return set()
    hits = {h for h in known.bad if h in by_hash} if known is not None else set()
    rest = [h for h in by_hash if known is None or h not in known.asked]
    if rest:
        found = await session.exec(
            select(BadAddress.contact_hash).where(col(BadAddress.contact_hash).in_(rest))
        )
        hits.update(found.all())
    return {by_hash[h] for h in hits}


@dataclass(frozen=True)
class Known:
    """Contact hashes looked up in bad_addresses (`asked`) and those found there (`bad`)."""

    asked: frozenset[str]
    bad: frozenset[str]


_bad = cast(Table, BadAddress.__table__)  # type: ignore[attr-defined]
_contacts = cast(Table, NoticeContact.__table__)  # type: ignore[attr-defined]
# Built once (its cache key too): preferences' _HOLDERS and the same hashes' bad marks.
_HOLDERS_AND_BAD = union_all(
    sa_select(literal("held"), _contacts.c.contact_hash, _contacts.c.guest_id).where(
        or_(
            _contacts.c.contact_hash == bindparam("email_hash"),
            _contacts.c.contact_hash == bindparam("phone_hash"),
        )
    ),
    sa_select(literal("bad"), _bad.c.contact_hash, null()).where(
        or_(
            _bad.c.contact_hash == bindparam("email_hash"),
            _bad.c.contact_hash == bindparam("phone_hash"),
        )
    ),
)


async def holders_and_bad(
    session: AsyncSession, *, email: str | None, phone: str | None
) -> tuple[dict[str, list[str]], Known]:
    """In one query, for a notice naming `email` and `phone`: the guest profiles holding each
    (preferences.wishes_of's `held`) and whether each is a bad address (bad_of's `known`)."""
    email_hash = contact_hash("email", email) if email else None
    phone_hash = contact_hash("phone", phone) if phone else None
    held: dict[str, list[str]] = {}
    bad: set[str] = set()
    if email_hash or phone_hash:
        # Core on the connection, after flushing what the caller left pending (as autoflush
        # would).
        if session.new or session.dirty or session.deleted:
            await session.flush()
        conn = await session.connection()
        params = {"email_hash": email_hash, "phone_hash": phone_hash}
        for what, digest, holder in await conn.execute(_HOLDERS_AND_BAD, params):
            if what == "held":
                held.setdefault(digest, []).append(holder)
            else:
                bad.add(digest)
    asked = frozenset(h for h in (email_hash, phone_hash) if h)
    return held, Known(asked=asked, bad=frozenset(bad))


async def forget(session: AsyncSession, emails: list[str], phones: list[str]) -> int:
    """An erased guest's bad addresses go: the hash names them, and the refusal kept as the
    reason often quotes the address itself ("unknown subscriber +86...")."""
    hashes = [contact_hash("email", e) for e in emails if e.strip()]
    hashes += [contact_hash("phone", p) for p in phones if p.strip()]
    if not hashes:
        return 0
    gone = await session.exec(delete(BadAddress).where(col(BadAddress.contact_hash).in_(hashes)))
    return int(gone.rowcount or 0)
