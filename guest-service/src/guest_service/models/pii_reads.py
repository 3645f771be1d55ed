"""The audit of personal data read in full: every read of a guest's ID document leaves a row.

No personal data here: who read (principal id and roles), whose, what and when. The row stays
when the guest is erased (the read happened; the person is gone from the profile).
"""

from datetime import datetime
from enum import StrEnum

from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from guest_service.models.profiles import _new_id


class PiiField(StrEnum):
    DOCUMENT = "document"


class PiiRead(SQLModel, table=True):
    __tablename__ = "guest_pii_reads"
    __table_args__ = (
        Index("ix_guest_pii_reads_read_at_id", "read_at", "id"),  # list order and cursor
        Index("ix_guest_pii_reads_guest", "guest_id"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    guest_id: str = Field(foreign_key="guests.id", max_length=36)
    field: PiiField = Field(sa_type=String(16))
    reader: str = Field(max_length=100)  # the principal's id, e.g. "staff:7"
    roles: str = Field(max_length=200)  # the reader's roles then, comma-separated
    ip: str | None = Field(default=None, max_length=64)
    read_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PiiReadPublic(SQLModel):
    id: str
    guest_id: str
    field: PiiField
    reader: str
    roles: list[str]
    ip: str | None
    read_at: datetime
