"""Merge suggestions (two profiles that may be one person) and merges (two profiles made one,
with a memo per part of the CRM so the merge can be undone)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from guest_service.models.profiles import _new_id


class SuggestionStatus(StrEnum):
    OPEN = "open"
    MERGED = "merged"  # staff merged the pair
    DISMISSED = "dismissed"  # staff said they are two people (or a merge of them was undone)


class Reason(StrEnum):
    """Why two profiles may be one person (docs/domain.md "Merging" gives each its weight)."""

    SAME_DOCUMENT = "same_document"  # same ID document type and number
    SAME_NAME_AND_BIRTH_DATE = "same_name_and_birth_date"
    SAME_PHONE = "same_phone"
    SAME_NAME = "same_name"  # only ever beside another reason: names alone are common
    OTHER_EMAIL = "other_email"  # a booking of this phone and name came with another email


class MergeSuggestion(SQLModel, table=True):
    """Two active profiles that may be one person; one row per pair (`first_id` < `second_id`),
    its score and reasons growing as more evidence arrives."""

    __tablename__ = "merge_suggestions"
    __table_args__ = (
        Index("ix_merge_suggestions_pair", "first_id", "second_id", unique=True),
        Index("ix_merge_suggestions_list", "status", "score", "created_at", "id"),
        Index("ix_merge_suggestions_second", "second_id"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    first_id: str = Field(foreign_key="guests.id", max_length=36)
    second_id: str = Field(foreign_key="guests.id", max_length=36)
    score: int = Field(ge=0, le=100)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: SuggestionStatus = Field(default=SuggestionStatus.OPEN, sa_type=String(16))
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GuestMerge(SQLModel, table=True):
    """One merge: `absorbed_id` lives on in `survivor_id`; `memo` holds, per part of the CRM,
    exactly what moved, so an undo moves it back."""

    __tablename__ = "guest_merges"
    __table_args__ = (
        Index("ix_guest_merges_survivor", "survivor_id"),
        Index("ix_guest_merges_absorbed", "absorbed_id"),
    )

    id: str = Field(default_factory=_new_id, primary_key=True, max_length=36)
    survivor_id: str = Field(foreign_key="guests.id", max_length=36)
    absorbed_id: str = Field(foreign_key="guests.id", max_length=36)
    suggestion_id: str | None = Field(
        default=None, foreign_key="merge_suggestions.id", max_length=36
    )
    merged_by: str = Field(max_length=200)  # the staff member's subject ("staff:7")
    merged_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    memo: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    undone_by: str | None = Field(default=None, max_length=200)
    undone_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


# -- API --------------------------------------------------------------------------------------
class SuggestedGuest(SQLModel):
    id: str
    name: str
    email: str | None
    phone: str | None
    created_at: datetime


class MergeSuggestionPublic(SQLModel):
    id: str
    guests: list[SuggestedGuest]  # the pair, older profile first (the likely survivor)
    score: int
    reasons: list[Reason]
    status: SuggestionStatus
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime


class GuestMergeCreate(SQLModel):
    """Merge `absorbed_id` into `survivor_id`; `suggestion_id` names the suggestion acted on."""

    model_config = SQLModelConfig(extra="forbid")

    survivor_id: str = Field(min_length=1, max_length=36)
    absorbed_id: str = Field(min_length=1, max_length=36)
    suggestion_id: str | None = Field(default=None, min_length=1, max_length=36)


class GuestMergePublic(SQLModel):
    id: str
    survivor_id: str
    absorbed_id: str
    suggestion_id: str | None
    merged_by: str
    merged_at: datetime
    parts: list[str]  # the parts of the CRM the merge walked (each keeps a memo for undo)
    undone_by: str | None
    undone_at: datetime | None
