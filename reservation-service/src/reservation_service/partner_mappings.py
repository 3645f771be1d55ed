"""Issue 21: a partner's own room type and rate plan codes, mapped to the hotel's per property.

An OTA or channel manager sells the hotel under its own codes ("DBL-SEA" for our KNG). Staff
(admin, or a manager of the property) put a partner's whole mapping at one property; from then
on that partner books, quotes and modifies there with ITS codes only, each translated to ours
before anything else is checked (`translate_*`), and a code it has not mapped is 422
`unmapped_code` naming the code and the field, with nothing written. A partner with no mapping
at a property uses the hotel's codes, as before issue 21.

Tables: `partner_mappings` (one row per partner and property: the version the event carries,
kept after a DELETE so versions only grow) and `partner_mapping_codes` (one row per partner,
property, kind and partner code -> our code). A mapping is in force while it has codes. Our
codes are checked against the catalog at PUT; answers and events always carry the hotel's codes.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from hotel_common.contracts.partners import PartnerMappingChanged
from hotel_common.errors import ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.principal import Kind, Principal
from hotel_common.strict import StrictModel
from hotel_common.text import SINGLE_LINE
from hotel_common.time import UtcDateTime, utcnow
from hotel_common.uniques import try_insert
from pydantic import AfterValidator, BaseModel, StringConstraints, field_validator
from pydantic import Field as PydanticField
from sqlalchemy import UniqueConstraint, delete, exists
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.access import check_property
from reservation_service.catalog import resolve_property
from reservation_service.models import (
    REQUESTED_CODE_PATTERN,
    Property,
    ReservationCreate,
    RoomType,
)
from reservation_service.rates.models import BASE_CODE, QuoteRequest, RatePlan

# -- tables ----------------------------------------------------------------------------------------


class CodeKind(StrEnum):
    ROOM_TYPE = "room_type"
    RATE_PLAN = "rate_plan"


class PartnerMapping(SQLModel, table=True):
    """A partner's mapping at one property: its version (grows with every change, kept after a
    DELETE so a consumer never sees an older version win) and who changed it last."""

    __tablename__ = "partner_mappings"
    __table_args__ = (
        UniqueConstraint("partner_id", "property_id", name="uq_partner_mappings_partner_property"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: str = Field(max_length=64)
    property_id: int = Field(foreign_key="properties.id", index=True)
    version: int = 0
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PartnerMappingCode(SQLModel, table=True):
    """One code of a partner at one property, and the hotel's code it stands for."""

    __tablename__ = "partner_mapping_codes"
    __table_args__ = (
        UniqueConstraint(
            "partner_id",
            "property_id",
            "kind",
            "partner_code",
            name="uq_partner_mapping_codes_code",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: str = Field(max_length=64)
    property_id: int = Field(foreign_key="properties.id")
    kind: str = Field(max_length=16)  # CodeKind
    partner_code: str = Field(max_length=32)
    our_code: str = Field(max_length=16)


# -- API shapes ------------------------------------------------------------------------------------

PartnerCode = Annotated[
    str,
    StringConstraints(pattern=REQUESTED_CODE_PATTERN),
    AfterValidator(str.upper),
    SINGLE_LINE,
]
HotelCode = Annotated[str, StringConstraints(min_length=1, max_length=16), SINGLE_LINE]
# The gateway's partner ids (hex, at most 32): one no partner can hold is refused here, at the
# source, rather than mapped and then ignored by partner-service.
PartnerId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{1,32}$")]
MAX_CODES = 500  # per kind: far above a hotel's room types and plans


class MappingIn(StrictModel):
    """A partner's whole mapping at one property (it replaces the one there). Keys are the
    partner's codes (case-insensitive, 1-32 letters, digits, `.`, `_`, `-`), values the hotel's.
    Both empty: no mapping left (the partner uses the hotel's codes again)."""

    room_types: dict[PartnerCode, HotelCode] = PydanticField(
        default_factory=dict,
        max_length=MAX_CODES,
        description="Partner room type code -> the hotel's room type code at the property",
    )
    rate_plans: dict[PartnerCode, HotelCode] = PydanticField(
        default_factory=dict,
        max_length=MAX_CODES,
        description="Partner rate plan code -> the hotel's rate plan code (BASE: the base plan)",
    )

    @field_validator("room_types", "rate_plans", mode="before")
    @classmethod
    def _one_spelling_per_code(cls, value: Any) -> Any:
        """Codes are case-insensitive and trimmed: `dbl` and `DBL` are one code. Two keys that
        fold together would be merged silently (the last winning), a mapping staff never
        saw; refused, naming both."""
        if not isinstance(value, dict):
            return value
        seen: dict[str, str] = {}
        for key in value:
            if not isinstance(key, str):
                continue
            folded = key.strip().upper()
            if folded in seen:
                raise ValueError(
                    f"{seen[folded]!r} and {key!r} are the same code (case-insensitive)"
                )
            seen[folded] = key
        return value


class MappingPublic(BaseModel):
    partner_id: str
    property_id: int
    room_types: dict[str, str]
    rate_plans: dict[str, str]
    version: int = PydanticField(description="Grows with every change (the event's version)")
    updated_by: str
    updated_at: datetime


# -- staff: put, delete, list ----------------------------------------------------------------------


async def _property(session: AsyncSession, principal: Principal, property_id: int) -> Property:
    prop = await session.get(Property, property_id)
    if prop is None:
        raise ProblemError(404, "property_not_found", f"No property with id {property_id}.")
    check_property(principal, prop)
    return prop


def _unknown(codes: dict[str, str], known: set[str], kind: str) -> list[tuple[str, str]]:
    """(field, our code) of every value of `codes` that is not in `known`."""
    return [(f"body.{kind}.{theirs}", ours) for theirs, ours in codes.items() if ours not in known]


async def _checked(session: AsyncSession, prop: Property, data: MappingIn) -> MappingIn:
    """`data` with our codes upper-cased, every one known at the property; otherwise 422
    `unknown_hotel_code` naming each unknown code."""
    room_types = {k: v.strip().upper() for k, v in data.room_types.items()}
    rate_plans = {k: v.strip().upper() for k, v in data.rate_plans.items()}
    ours = set(
        (await session.exec(select(RoomType.code).where(RoomType.property_id == prop.id))).all()
    )
    plans = {BASE_CODE} | set(
        (
            await session.exec(
                select(RatePlan.code)
                .join(RoomType, col(RoomType.id) == RatePlan.room_type_id)
                .where(RoomType.property_id == prop.id)
            )
        ).all()
    )
    unknown = _unknown(room_types, ours, "room_types") + _unknown(rate_plans, plans, "rate_plans")
    if unknown:
        named = ", ".join(sorted({code for _, code in unknown}))
        raise ProblemError(
            422,
            "unknown_hotel_code",
            f"Not room type or rate plan codes of property {prop.id}: {named}. Map to the "
            "hotel's own codes.",
            errors=[
                {
                    "field": where,
                    "message": f"{code} is not a code of property {prop.id}.",
                    "type": "unknown_hotel_code",
                }
                for where, code in unknown
            ],
        )
    return MappingIn(room_types=room_types, rate_plans=rate_plans)


async def _header(
    session: AsyncSession, partner_id: str, property_id: int, by: str
) -> PartnerMapping:
    """The mapping's row, locked (FOR UPDATE), inserted if there is none yet (two PUTs racing
    to make the first one: one inserts, the other reads the winner's row)."""
    query = (
        select(PartnerMapping)
        .where(PartnerMapping.partner_id == partner_id, PartnerMapping.property_id == property_id)
        .with_for_update()
    )
    if (row := (await session.exec(query)).first()) is not None:
        return row
    fresh = PartnerMapping(partner_id=partner_id, property_id=property_id, updated_by=by)
    if await try_insert(session, fresh):
        return fresh
    row = (await session.exec(query.execution_options(populate_existing=True))).first()
    if row is None:
        raise ProblemError(409, "concurrent_change", "The mapping changed meanwhile; try again.")
    return row


async def _codes(
    session: AsyncSession, partner_id: str, property_id: int
) -> tuple[dict[str, str], dict[str, str]]:
    rows = (
        await session.exec(
            select(PartnerMappingCode).where(
                PartnerMappingCode.partner_id == partner_id,
                PartnerMappingCode.property_id == property_id,
            )
        )
    ).all()
    room_types = {r.partner_code: r.our_code for r in rows if r.kind == CodeKind.ROOM_TYPE}
    rate_plans = {r.partner_code: r.our_code for r in rows if r.kind == CodeKind.RATE_PLAN}
    return room_types, rate_plans


async def put(
    session: AsyncSession,
    principal: Principal,
    partner_id: str,
    property_id: int,
    data: MappingIn,
) -> MappingPublic:
    """Replace the partner's mapping at the property. A change bumps the version and stages
    `partner.mapping_changed` (the whole mapping) in the caller's transaction; the same mapping
    again changes nothing and announces nothing. Never commits."""
    prop = await _property(session, principal, property_id)
    data = await _checked(session, prop, data)
    header = await _header(session, partner_id, property_id, principal.id)
    room_types, rate_plans = await _codes(session, partner_id, property_id)
    if (room_types, rate_plans) != (data.room_types, data.rate_plans):
        await session.exec(
            delete(PartnerMappingCode).where(
                col(PartnerMappingCode.partner_id) == partner_id,
                col(PartnerMappingCode.property_id) == property_id,
            )
        )
        session.add_all(
            PartnerMappingCode(
                partner_id=partner_id,
                property_id=property_id,
                kind=kind,
                partner_code=theirs,
                our_code=ours,
            )
            for kind, codes in (
                (CodeKind.ROOM_TYPE, data.room_types),
                (CodeKind.RATE_PLAN, data.rate_plans),
            )
            for theirs, ours in codes.items()
        )
        header.version += 1
        header.updated_by, header.updated_at = principal.id, utcnow()
        session.add(header)
        await session.flush()
        add_event(
            session,
            PartnerMappingChanged(
                aggregate_version=header.version,
                mapping_key=f"{partner_id}:{property_id}",
                partner_id=partner_id,
                property_id=property_id,
                room_types=data.room_types,
                rate_plans=data.rate_plans,
            ),
        )
    return _public(header, data.room_types, data.rate_plans)


async def remove(
    session: AsyncSession, principal: Principal, partner_id: str, property_id: int
) -> None:
    """No mapping left for the partner at the property (it uses the hotel's codes again): an
    empty `put`. Removing none is no change."""
    await put(session, principal, partner_id, property_id, MappingIn())


def _public(
    header: PartnerMapping, room_types: dict[str, str], rate_plans: dict[str, str]
) -> MappingPublic:
    return MappingPublic(
        partner_id=header.partner_id,
        property_id=header.property_id,
        room_types=room_types,
        rate_plans=rate_plans,
        version=header.version,
        updated_by=header.updated_by,
        updated_at=header.updated_at,
    )


def partner_of(principal: Principal) -> str | None:
    """The gateway partner id of a partner key's caller (principal id `partner:<id>`)."""
    if principal.kind is not Kind.PARTNER:
        return None
    return principal.id.partition(":")[2] or None


async def list_mappings(
    session: AsyncSession,
    principal: Principal,
    paging: Paging,
    *,
    partner_id: str | None,
    property_id: int | None,
) -> Page[MappingPublic]:
    """The mappings in force: staff's at their properties, a partner's own only (another
    partner's id in the filter: an empty page)."""
    query = select(PartnerMapping).where(
        exists().where(
            col(PartnerMappingCode.partner_id) == PartnerMapping.partner_id,
            col(PartnerMappingCode.property_id) == PartnerMapping.property_id,
        )
    )
    if principal.kind is Kind.PARTNER:
        query = query.where(PartnerMapping.partner_id == (partner_of(principal) or ""))
    elif principal.properties is not None:
        query = query.where(col(PartnerMapping.property_id).in_(sorted(principal.properties)))
    if partner_id is not None:
        query = query.where(PartnerMapping.partner_id == partner_id)
    if property_id is not None:
        query = query.where(PartnerMapping.property_id == property_id)
    page = await keyset_page(session, query, paging, col(PartnerMapping.id))
    items = []
    for header in page.items:
        room_types, rate_plans = await _codes(session, header.partner_id, header.property_id)
        items.append(_public(header, room_types, rate_plans))
    return Page(items=items, next_cursor=page.next_cursor)


# -- translation: a mapped partner's codes to ours -------------------------------------------------


def unmapped(kind: str, code: str, field_name: str, property_id: int) -> ProblemError:
    detail = (
        f"{kind} code {code} ({field_name}) is not mapped for your channel at property "
        f"{property_id}."
    )
    return ProblemError(
        422,
        "unmapped_code",
        detail,
        errors=[{"field": field_name, "message": detail, "type": "unmapped_code"}],
    )


@dataclass(frozen=True)
class Codes:
    """A partner's mapping at one property, as the booking paths translate with it."""

    property_id: int
    room_types: dict[str, str] = field(default_factory=dict)
    rate_plans: dict[str, str] = field(default_factory=dict)

    def room_type(self, code: str, field_name: str) -> str:
        ours = self.room_types.get(code.strip().upper())
        if ours is None:
            raise unmapped("Room type", code, field_name, self.property_id)
        return ours

    def rate_plan(self, code: str | None, field_name: str) -> str | None:
        """None (no plan named: the base plan) stays None."""
        if code is None:
            return None
        ours = self.rate_plans.get(code.strip().upper())
        if ours is None:
            raise unmapped("Rate plan", code, field_name, self.property_id)
        return ours


async def codes_for(
    session: AsyncSession, principal: Principal, property_id: int | None, where: str = "body"
) -> Codes | None:
    """The caller's mapping at the property (None: not a partner, or no mapping there; the
    hotel's codes apply). A partner with no mapping anywhere costs one indexed read; a request
    naming no property is resolved to the only one only when the partner has mappings."""
    partner_id = partner_of(principal)
    if partner_id is None:
        return None
    query = select(PartnerMappingCode).where(PartnerMappingCode.partner_id == partner_id)
    if property_id is not None:
        query = query.where(PartnerMappingCode.property_id == property_id)
    rows = (await session.exec(query)).all()
    if not rows:
        return None
    if property_id is None:
        property_id = (await resolve_property(session, None, where)).id
        rows = [r for r in rows if r.property_id == property_id]
        if not rows or property_id is None:
            return None
    return Codes(
        property_id,
        {r.partner_code: r.our_code for r in rows if r.kind == CodeKind.ROOM_TYPE},
        {r.partner_code: r.our_code for r in rows if r.kind == CodeKind.RATE_PLAN},
    )


async def translate_booking(
    session: AsyncSession, principal: Principal, data: ReservationCreate
) -> ReservationCreate:
    """A booking request with a mapped partner's codes replaced by ours (every room of a
    multi-room request); unchanged for anyone else."""
    codes = await codes_for(session, principal, data.property_id)
    if codes is None:
        return data
    if data.rooms is not None:
        rooms = [
            room.model_copy(
                update={
                    "room_type_code": codes.room_type(
                        room.room_type_code, f"body.rooms.{i}.room_type_code"
                    ),
                    "rate_plan_code": codes.rate_plan(
                        room.rate_plan_code, f"body.rooms.{i}.rate_plan_code"
                    ),
                }
            )
            for i, room in enumerate(data.rooms)
        ]
        return data.model_copy(update={"rooms": rooms})
    update: dict[str, str | None] = {}
    if data.room_type_code is not None:
        update["room_type_code"] = codes.room_type(data.room_type_code, "body.room_type_code")
    update["rate_plan_code"] = codes.rate_plan(data.rate_plan_code, "body.rate_plan_code")
    return data.model_copy(update=update)


async def translate_quote(
    session: AsyncSession, principal: Principal, data: QuoteRequest
) -> QuoteRequest:
    """A quote request with a mapped partner's codes replaced by ours."""
    codes = await codes_for(session, principal, data.property_id)
    if codes is None:
        return data
    return data.model_copy(
        update={
            "room_type_code": codes.room_type(data.room_type_code, "body.room_type_code"),
            "rate_plan_code": codes.rate_plan(data.rate_plan_code, "body.rate_plan_code"),
        }
    )
