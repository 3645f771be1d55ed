"""Loyalty members: enrol, find by member number or guest, the points statement, redemptions;
and the signed-in guest's own membership (`/me`). Who may do what: `loyalty/access.py`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from hotel_common.contract import example
from hotel_common.deps import SessionDep, get_settings
from hotel_common.errors import NotFound, problems
from hotel_common.pagination import Page, PagingDep, keyset_page
from hotel_common.principal import Principal, PrincipalDep, refused
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import profiles
from guest_service.api.routes.common import UNAUTHENTICATED, GuestCaller
from guest_service.config import Settings
from guest_service.loyalty import access, members, redemptions
from guest_service.loyalty import part as _part  # noqa: F401  (registers the lifecycle part)
from guest_service.models.loyalty import (
    EnrolledBy,
    Enrolment,
    LedgerLine,
    LedgerLinePublic,
    LoyaltyMember,
    MemberPublic,
    MemberStatus,
    Redemption,
    RedemptionCreate,
    RedemptionPublic,
    RewardPublic,
    Tier,
)

router = APIRouter(prefix="/api/v1/loyalty", tags=["loyalty"])

SettingsDep = Annotated[Settings, Depends(get_settings)]

MEMBER: dict[str, Any] = {
    "member_number": "M204815163",
    "guest_id": "3c2b1a09-8f7e-4d6c-b5a4-93827160fedc",
    "tier": "silver",
    "discount_percent": 15,
    "status": "active",
    "enrolled_by": "stay",
    "enrolled_at": "2030-05-20T08:15:00Z",
    "tier_since": "2030-09-02T03:10:00Z",
    "last_stay_at": "2030-09-02",
    "lapsed_at": None,
    "points_balance": 11840,
    "points_pending": 1580,
}
LINE: dict[str, Any] = {
    "id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
    "reason": "stay",
    "reference": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
    "points": 1580,
    "state": "posted",
    "expires_on": "2031-12-31",
    "note": None,
    "created_at": "2030-05-20T08:15:00Z",
    "posted_at": "2030-06-03T04:00:00Z",
}
REDEMPTION: dict[str, Any] = {
    "id": "5e4f4a3b-2c1d-0e9f-8a7b-6c5d9a8b7c6d",
    "member_number": "M204815163",
    "kind": "reward",
    "reward": "breakfast",
    "points": 800,
    "credit_amount": None,
    "credit_currency": None,
    "reservation_id": None,
    "created_at": "2030-09-02T03:10:00Z",
    "points_balance": 11040,
}
READ_FORBIDDEN = {403: "forbidden: desk staff and marketing only"}
ENROL_FORBIDDEN = {403: "forbidden: desk staff only; waive_minimum: managers only"}
REDEEM_FORBIDDEN = {403: "forbidden: front desk and managers only"}
GUEST_ONLY = {403: "forbidden: only a signed-in guest has a membership of their own"}
NOT_FOUND = {404: "member_not_found: no membership with this number"}
REDEEM_REFUSED = {
    409: "insufficient_points (the problem names `balance` and `points`), not_a_member",
    422: "validation_error, unknown_reward, invalid_points",
}


@router.get(
    "/rewards",
    summary="The reward catalogue",
    responses={200: example([{"code": "breakfast", "points": 800}])},
)
async def list_rewards(settings: SettingsDep) -> list[RewardPublic]:
    """What points buy besides folio credit, and at how many points; open to everyone."""
    return [RewardPublic(code=c, points=p) for c, p in sorted(settings.loyalty_rewards.items())]


@router.get(
    "/members",
    summary="Find loyalty members",
    dependencies=[access.may_read],
    responses={
        200: example({"items": [MEMBER], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **READ_FORBIDDEN}),
    },
)
async def list_loyalty_members(
    session: SessionDep,
    paging: PagingDep,
    guest_id: Annotated[str | None, Query(max_length=36)] = None,
    tier: Tier | None = None,
    member_status: Annotated[MemberStatus | None, Query(alias="status")] = None,
) -> Page[MemberPublic]:
    """Memberships newest first; `guest_id` finds a guest's (at most one)."""
    query = select(LoyaltyMember)
    if guest_id is not None:
        query = query.where(LoyaltyMember.guest_id == guest_id)
    if tier is not None:
        query = query.where(LoyaltyMember.tier == tier, LoyaltyMember.status == MemberStatus.ACTIVE)
    if member_status is not None:
        query = query.where(LoyaltyMember.status == member_status)
    order = (col(LoyaltyMember.created_at), col(LoyaltyMember.id))
    page = await keyset_page(session, query, paging, *order, descending=True)
    return Page(
        items=[await members.public(session, m) for m in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/members",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol a guest",
    dependencies=[access.may_enrol],
    responses={
        201: example(MEMBER | {"tier": "regular", "discount_percent": 10}, "Enrolled"),
        **problems(
            {
                **UNAUTHENTICATED,
                **ENROL_FORBIDDEN,
                404: "guest_not_found",
                409: "membership_closed (merged or erased)",
                422: "validation_error, not_eligible (no stay whose settled bill reached the "
                "minimum)",
            }
        ),
    },
)
async def enrol_member(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, body: Enrolment
) -> MemberPublic:
    """Enrol a guest who asks (a lapsed member rejoins with the same number, at Regular).
    Enrolment needs one completed stay whose settled bill reached the minimum (500 CNY); a
    manager may waive it. A guest who is already a member is answered as they are."""
    if body.waive_minimum and not access.may_waive(principal):
        raise refused(principal)
    member, _ = await members.enrol(
        session, body.guest_id, EnrolledBy.STAFF, settings, waive_minimum=body.waive_minimum
    )
    await session.commit()
    return await members.public(session, member)


async def _my_guest_id(session: AsyncSession, principal: Principal) -> str:
    guest = await profiles.find_own(session, principal.email, principal.phone)
    if guest is None:
        raise NotFound("guest", "me")
    return guest.id


async def _my_member(
    session: AsyncSession, principal: Principal, *, lock: bool = False
) -> LoyaltyMember:
    member = await members.member_of(session, await _my_guest_id(session, principal), lock=lock)
    if member is None or member.status in (MemberStatus.MERGED, MemberStatus.ERASED):
        raise NotFound("member", "me")
    return member


# The /me routes come before /{member_number}, which would otherwise take "me" for a number.
@router.get(
    "/members/me",
    summary="My membership",
    responses={
        200: example(MEMBER),
        **problems({**UNAUTHENTICATED, **GUEST_ONLY, 404: "member_not_found: not a member"}),
    },
)
async def get_my_membership(session: SessionDep, principal: GuestCaller) -> MemberPublic:
    """The signed-in guest's membership: tier, discount, points balance and pending points."""
    return await members.public(session, await _my_member(session, principal))


@router.post(
    "/members/me",
    status_code=status.HTTP_201_CREATED,
    summary="Join the loyalty programme",
    responses={
        201: example(MEMBER | {"tier": "regular", "discount_percent": 10}, "Enrolled"),
        **problems(
            {
                **UNAUTHENTICATED,
                **GUEST_ONLY,
                404: "guest_not_found: no profile has the address you signed in with",
                409: "membership_closed",
                422: "not_eligible",
            }
        ),
    },
)
async def enrol_me(
    session: SessionDep, principal: GuestCaller, settings: SettingsDep
) -> MemberPublic:
    """Join, once a stay's settled bill reached the minimum (a qualifying stay enrols the
    guest by itself at check-out; this is for one made before the programme)."""
    guest_id = await _my_guest_id(session, principal)
    member, _ = await members.enrol(session, guest_id, EnrolledBy.GUEST, settings)
    await session.commit()
    return await members.public(session, member)


async def _statement(
    session: AsyncSession, member: LoyaltyMember, paging: Any
) -> Page[LedgerLinePublic]:
    query = select(LedgerLine).where(LedgerLine.member_id == member.id)
    order = (col(LedgerLine.created_at), col(LedgerLine.id))
    page = await keyset_page(session, query, paging, *order, descending=True)
    return page.map(lambda line: LedgerLinePublic.model_validate(line, from_attributes=True))


@router.get(
    "/members/me/statement",
    summary="My points statement",
    responses={
        200: example({"items": [LINE], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **GUEST_ONLY, **NOT_FOUND}),
    },
)
async def my_points_statement(
    session: SessionDep, principal: GuestCaller, paging: PagingDep
) -> Page[LedgerLinePublic]:
    """Every line of the signed-in guest's points, newest first; the balance is the sum of
    the posted, redeemed and expired lines."""
    return await _statement(session, await _my_member(session, principal), paging)


@router.post(
    "/members/me/redemptions",
    status_code=status.HTTP_201_CREATED,
    summary="Redeem my points",
    responses={
        201: example(REDEMPTION, "Redeemed"),
        **problems({**UNAUTHENTICATED, **GUEST_ONLY, **NOT_FOUND, **REDEEM_REFUSED}),
    },
)
async def redeem_my_points(
    session: SessionDep, principal: GuestCaller, settings: SettingsDep, body: RedemptionCreate
) -> RedemptionPublic:
    """Spend the signed-in guest's points on a reward or folio credit; never beyond the
    balance (409 `insufficient_points`, nothing written), also when two arrive at once."""
    points, credit = redemptions.price_of(body, settings)
    member = await _my_member(session, principal, lock=True)
    done = await redemptions.redeem_locked(session, member, body, points, credit, principal)
    await session.commit()
    return done


@router.get(
    "/members/{member_number}",
    summary="Get a loyalty member",
    dependencies=[access.may_read],
    responses={
        200: example(MEMBER),
        **problems({**UNAUTHENTICATED, **READ_FORBIDDEN, **NOT_FOUND}),
    },
)
async def get_member(session: SessionDep, member_number: str) -> MemberPublic:
    """A membership by its number: tier, discount, points balance and pending points."""
    return await members.public(session, await members.by_number(session, member_number))


@router.get(
    "/members/{member_number}/statement",
    summary="A member's points statement",
    dependencies=[access.may_read],
    responses={
        200: example({"items": [LINE], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **READ_FORBIDDEN, **NOT_FOUND}),
    },
)
async def get_points_statement(
    session: SessionDep, member_number: str, paging: PagingDep
) -> Page[LedgerLinePublic]:
    """Every line of the member's points, newest first, each with its reason and state."""
    return await _statement(session, await members.by_number(session, member_number), paging)


@router.get(
    "/members/{member_number}/redemptions",
    summary="A member's redemptions",
    dependencies=[access.may_read],
    responses={
        200: example({"items": [REDEMPTION], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **READ_FORBIDDEN, **NOT_FOUND}),
    },
)
async def list_redemptions(
    session: SessionDep, member_number: str, paging: PagingDep
) -> Page[RedemptionPublic]:
    """What the member's points were spent on, newest first (`points_balance`: today's)."""
    member = await members.by_number(session, member_number)
    balance, _ = await members.points_of(session, member.id)
    query = select(Redemption).where(Redemption.member_id == member.id)
    order = (col(Redemption.created_at), col(Redemption.id))
    page = await keyset_page(session, query, paging, *order, descending=True)
    return page.map(lambda r: redemptions.public(r, member, balance))


@router.post(
    "/members/{member_number}/redemptions",
    status_code=status.HTTP_201_CREATED,
    summary="Redeem a member's points",
    dependencies=[access.may_redeem],
    responses={
        201: example(REDEMPTION, "Redeemed"),
        **problems({**UNAUTHENTICATED, **REDEEM_FORBIDDEN, **NOT_FOUND, **REDEEM_REFUSED}),
    },
)
async def redeem_points(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    member_number: str,
    body: RedemptionCreate,
) -> RedemptionPublic:
    """Spend points on a reward of the catalogue or on folio credit (10 points a yuan by
    default; the credit is settled at the desk against the booking's folio). Never beyond the
    balance (409 `insufficient_points`, nothing written), also when two arrive at once."""
    done = await redemptions.redeem(session, member_number, body, principal, settings)
    await session.commit()
    return done
