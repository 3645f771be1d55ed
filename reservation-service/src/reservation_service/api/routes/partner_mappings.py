"""Issue 21: a partner's room type and rate plan codes mapped to the hotel's, per property."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from hotel_common.bounds import RowId
from hotel_common.contract import answers, problems
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import Kind, Principal, Role, require

from reservation_service import partner_mappings
from reservation_service.access import DESK
from reservation_service.api.contract import (
    FORBIDDEN,
    INVALID_CURSOR,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.partner_mappings import MappingIn, MappingPublic, PartnerId

router = APIRouter(prefix="/api/v1/partner-mappings", tags=["partners"])

NEW_MAPPING = {
    "room_types": {"DBL-SEA": "KNG", "TWN-STD": "TWN"},
    "rate_plans": {"RO": "BASE", "NRF-14": "NR"},
}
MAPPING = {
    "partner_id": "7",
    "property_id": 1,
    **NEW_MAPPING,
    "version": 3,
    "updated_by": "staff:2",
    "updated_at": "2026-12-01T08:00:00Z",
}
PATH = "/{partner_id}/properties/{property_id}"
PROPERTY_NOT_FOUND = {404: "property_not_found: no property with that id"}
WHO_CHANGES = (
    "The admin, or a manager of the property (another property's manager: 403). "
    "Announces `partner.mapping_changed` with the whole mapping and its version."
)

# Changing a mapping: the admin, or a manager (at their properties: checked in the module).
_Manager = Annotated[Principal, Depends(require(Role.MANAGER))]
# Reading: desk staff and managers (their properties), a partner key (its own only).
_Reader = Annotated[Principal, Depends(require(*DESK, kinds=(Kind.PARTNER,)))]


@router.put(
    PATH,
    response_model=MappingPublic,
    summary="Put a partner's code mapping at a property",
    description="Replace the partner's whole mapping at the property: its room type codes and "
    "rate plan codes (keys, case-insensitive) to the hotel's (values, each checked against the "
    "property's catalog). From then on the partner books, quotes and modifies at the property "
    "with its own codes only; a code it has not mapped is refused (422 `unmapped_code`). Both "
    "maps empty: no mapping left, as DELETE. The same mapping again changes nothing.\n\n"
    + WHO_CHANGES,
    responses=answers(
        200,
        MAPPING,
        UNAUTHENTICATED
        | FORBIDDEN
        | PROPERTY_NOT_FOUND
        | {
            422: f"{VALIDATION}, unknown_hotel_code (a value is not a room type or rate plan "
            "code of the property; each named in `errors`)"
        },
    ),
)
async def put_partner_mapping(
    partner_id: Annotated[PartnerId, Path(description="The gateway's partner id")],
    property_id: RowId,
    data: Annotated[MappingIn, Body(openapi_examples={"ota": {"value": NEW_MAPPING}})],
    session: SessionDep,
    principal: _Manager,
) -> MappingPublic:
    mapping = await partner_mappings.put(session, principal, partner_id, property_id, data)
    await session.commit()
    return mapping


@router.delete(
    PATH,
    status_code=204,
    summary="Remove a partner's code mapping at a property",
    description="The partner uses the hotel's codes at the property again. Removing a mapping "
    "that is not there is no change (204).\n\n" + WHO_CHANGES,
    responses=problems(UNAUTHENTICATED | FORBIDDEN | PROPERTY_NOT_FOUND),
)
async def delete_partner_mapping(
    partner_id: Annotated[PartnerId, Path(description="The gateway's partner id")],
    property_id: RowId,
    session: SessionDep,
    principal: _Manager,
) -> Response:
    await partner_mappings.remove(session, principal, partner_id, property_id)
    await session.commit()
    return Response(status_code=204)


@router.get(
    "",
    response_model=Page[MappingPublic],
    summary="List partner code mappings",
    description="The mappings in force, oldest first. Desk staff and managers see those of "
    "their properties (filter by partner and property); a partner key sees its own only "
    "(another partner's id in the filter: an empty page).",
    responses=answers(200, page(MAPPING), INVALID_CURSOR | UNAUTHENTICATED | FORBIDDEN),
)
async def list_partner_mappings(
    session: SessionDep,
    paging: PagingDep,
    principal: _Reader,
    partner_id: Annotated[PartnerId | None, Query(description="One partner's")] = None,
    property_id: Annotated[RowId | None, Query(description="At one property")] = None,
) -> Page[MappingPublic]:
    return await partner_mappings.list_mappings(
        session, principal, paging, partner_id=partner_id, property_id=property_id
    )
