"""Every read of a guest's personal data in full leaves a row (models/pii_reads.py): today the
ID document, the one field shown whole to nobody else. The row commits with the answer, so a
read that was answered was recorded."""

from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.principal import Principal
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.models import PiiField, PiiRead, PiiReadPublic


def record(session: AsyncSession, guest_id: str, field: PiiField, reader: Principal) -> PiiRead:
    read = PiiRead(
        guest_id=guest_id,
        field=field,
        reader=reader.id,
        roles=",".join(sorted(role.value for role in reader.roles)),
        ip=reader.ip,
    )
    session.add(read)
    return read


def public(read: PiiRead) -> PiiReadPublic:
    return PiiReadPublic.model_validate(
        read, update={"roles": [r for r in read.roles.split(",") if r]}
    )


async def reads(
    session: AsyncSession, paging: Paging, *, guest_id: str | None, reader: str | None
) -> Page[PiiRead]:
    """Newest first, keyset-paged on (read_at, id)."""
    query = select(PiiRead)
    if guest_id is not None:
        query = query.where(PiiRead.guest_id == guest_id)
    if reader is not None:
        query = query.where(PiiRead.reader == reader)
    order = (col(PiiRead.read_at), col(PiiRead.id))
    return await keyset_page(session, query, paging, *order, descending=True)
