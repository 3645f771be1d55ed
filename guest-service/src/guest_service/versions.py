"""The guest's version: the one place it moves on.

Every event of the GUEST aggregate (preferences changed, erased, merged, merge undone, tier
changed) carries the profile's version, and a consumer keeps only what is newer than what it
stored. So each publication takes the next version from the row itself, in the publishing
transaction: an atomic `UPDATE ... SET version = version + 1 ... RETURNING version`, which
also holds the row's lock until commit (PostgreSQL; SQLite holds its write lock). Two
transactions at once, on any replica, therefore publish distinct versions in commit order,
and a profile loaded earlier in the session (a stale version) cannot lose an increment.
Never bump `Guest.version` in memory.
"""

from hotel_common.errors import NotFound
from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.models import Guest

_guests = Guest.__table__  # type: ignore[attr-defined]
_NEXT = (
    update(_guests)
    .where(_guests.c.id == bindparam("guest_id"))
    .values(version=_guests.c.version + 1)
    .returning(_guests.c.version)
)


async def next_version(session: AsyncSession, guest_id: str) -> int:
    """The guest's next version, written (and the row locked) in the session's transaction:
    the `aggregate_version` of the GUEST event published now. The profile in the session, if
    loaded, holds it too (as stored, so a later flush does not write an older one back)."""
    version = (await session.exec(_NEXT, params={"guest_id": guest_id})).scalar_one_or_none()
    if version is None:
        raise NotFound("guest", guest_id)
    loaded = session.sync_session.identity_map.get(identity_key(Guest, guest_id))
    if loaded is not None:
        set_committed_value(loaded, "version", version)
    return int(version)
