"""Partners' codes per property, as reservation-service publishes them (helper: feed).

A projection of `partner.mapping_changed`: the whole mapping of one partner at one property,
keyed by the mapping's aggregate version (an older event arriving late changes nothing). An
empty mapping means none left there; its row stays, with its version, so a stale event of the
old mapping arriving after it cannot bring it back. The feed uses it to send
`availability.changed` to the partners mapped at the property, in their own codes.
"""

from datetime import datetime
from typing import Any

from hotel_common.contracts.partners import PartnerMappingChanged
from hotel_common.events.envelope import newer_than_stored
from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

PARTNER_ID_MAX = 32  # as models.PARTNER_ID_MAX (not imported: models imports this module)


class MappedProperty(SQLModel, table=True):
    """One partner's codes at one property: theirs (keys) to ours (values)."""

    __tablename__ = "mapped_properties"

    partner_id: str = Field(primary_key=True, max_length=PARTNER_ID_MAX)
    property_id: int = Field(primary_key=True, index=True)
    room_types: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rate_plans: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int | None = None  # the mapping's aggregate version
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    @property
    def mapped(self) -> bool:
        return bool(self.room_types)


async def apply(session: AsyncSession, event: PartnerMappingChanged) -> bool:
    """Store the mapping the event carries unless a newer one is stored; whether it did.
    (The inbox runs the events of one mapping one at a time.)"""
    if len(event.partner_id) > PARTNER_ID_MAX:
        # reservation-service takes ids up to 64 characters; the gateway's are 32 hex, so no
        # partner holds a longer one. Storing it fails on PostgreSQL (varchar(32)) at every
        # retry of the event: nothing to feed, skipped.
        return False
    row = await session.get(MappedProperty, (event.partner_id, event.property_id))
    if row is None:
        row = MappedProperty(partner_id=event.partner_id, property_id=event.property_id)
    elif not newer_than_stored(event.aggregate_version, row.version):
        return False
    row.room_types = dict(event.room_types)
    row.rate_plans = dict(event.rate_plans)
    row.version = event.aggregate_version
    row.updated_at = utcnow()
    session.add(row)
    return True


async def mapped_at(session: AsyncSession, property_id: int) -> list[MappedProperty]:
    """The partners mapped at the property (a non-empty mapping), by partner id."""
    rows = await session.exec(
        select(MappedProperty)
        .where(MappedProperty.property_id == property_id)
        .order_by(col(MappedProperty.partner_id))
    )
    return [row for row in rows if row.mapped]


def translate(mapping: MappedProperty, payload: dict[str, Any]) -> dict[str, Any] | None:
    """`availability.changed` as the partner sees it: the room type in its code(s) and only the
    rate plans it mapped, renamed, each with the hotel's code beside it. None: the partner
    mapped nothing to this room type."""
    ours = payload["room_type_code"]
    theirs = sorted(code for code, hotel in mapping.room_types.items() if hotel == ours)
    if not theirs:
        return None
    plans: list[dict[str, Any]] = []
    for plan in payload.get("rate_plans", []):
        for code in sorted(c for c, hotel in mapping.rate_plans.items() if hotel == plan["code"]):
            plans.append({**plan, "code": code, "hotel_code": plan["code"]})
    return {
        **payload,
        # One hotel room type may be sold under several of the partner's codes.
        "room_type_code": theirs[0],
        "room_type_codes": theirs,
        "hotel_room_type_code": ours,
        "rate_plans": plans,
    }
