"""Staff accounts (admin): create, list, change roles, properties, password, deactivate."""

from typing import Annotated

from fastapi import APIRouter, Path
from hotel_common.contacts import Email
from hotel_common.deps import SessionDep
from hotel_common.errors import NotFound, ProblemError, problems
from hotel_common.pagination import Page, PagingDep, keyset_page
from hotel_common.principal import Kind, Principal, Role
from hotel_common.strict import StrictModel
from hotel_common.time import utcnow
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.identity import audit
from gateway.identity.credentials import hash_password
from gateway.identity.deps import AdminDep
from gateway.identity.models import RefreshToken, StaffUser

Password = Annotated[
    str, Field(min_length=12, max_length=200, description="At least 12 characters")
]
PropertyIds = Annotated[
    list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None,
    Field(max_length=1000, description="Property ids this member may reach; null: every one"),
]
DriverId = Annotated[
    int | None, Field(ge=1, le=2**31 - 1, description="Their driver row in transfer-service")
]


class StaffUserCreate(StrictModel):
    email: Email
    name: str = Field(min_length=1, max_length=200)
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    properties: PropertyIds = None
    driver_id: DriverId = None


class StaffUserUpdate(StrictModel):
    roles: list[Role] | None = Field(None, min_length=1, max_length=len(Role))
    properties: PropertyIds = None
    driver_id: DriverId = None
    active: bool | None = None
    password: Password | None = None


class StaffUserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    roles: list[Role]
    properties: list[int] | None
    driver_id: int | None
    active: bool


def staff_principal(user: StaffUser, ip: str | None = None) -> Principal:
    assert user.id is not None
    return Principal(
        id=f"staff:{user.id}",
        kind=Kind.STAFF,
        roles=frozenset(Role(r) for r in user.roles),
        properties=None if user.properties is None else frozenset(user.properties),
        driver_id=user.driver_id,
        ip=ip,
    )


async def add_staff_user(session: AsyncSession, body: StaffUserCreate) -> StaffUser:
    """Insert (the caller commits); 409 `email_taken` for an address already in use."""
    existing = await session.exec(select(StaffUser.id).where(StaffUser.email == body.email))
    if existing.first() is not None:
        raise ProblemError(409, "email_taken", "A staff account with this email exists.")
    user = StaffUser(
        email=body.email,
        name=body.name,
        password_hash=await hash_password(body.password),
        roles=sorted(set(body.roles)),
        properties=None if body.properties is None else sorted(set(body.properties)),
        driver_id=body.driver_id,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a twin request inserted the email since the check above
        raise ProblemError(409, "email_taken", "A staff account with this email exists.") from exc
    return user


router = APIRouter(prefix="/api/v1/staff-users", tags=["staff users"])
ADMIN_ONLY = {401: "unauthenticated / invalid_credentials", 403: "forbidden: admin only"}


@router.post(
    "",
    status_code=201,
    summary="Create a staff account (admin)",
    responses=problems({**ADMIN_ONLY, 409: "email_taken", 422: "validation_error"}),
)
async def create_staff_user(
    body: StaffUserCreate, session: SessionDep, admin: AdminDep
) -> StaffUserPublic:
    user = await add_staff_user(session, body)
    audit.record(
        session,
        "staff.create",
        actor=admin,
        target=f"staff:{user.id}",
        detail=f"roles={','.join(user.roles)}",
    )
    try:
        await session.commit()
    except IntegrityError as exc:  # a twin request took the email first
        raise ProblemError(409, "email_taken", "A staff account with this email exists.") from exc
    return StaffUserPublic.model_validate(user)


@router.get(
    "",
    summary="List staff accounts (admin)",
    responses=problems({**ADMIN_ONLY, 400: "invalid_cursor"}),
)
async def list_staff_users(
    session: SessionDep, paging: PagingDep, _admin: AdminDep
) -> Page[StaffUserPublic]:
    page = await keyset_page(session, select(StaffUser), paging, col(StaffUser.id))
    return page.map(StaffUserPublic.model_validate)


@router.patch(
    "/{user_id}",
    summary="Change a staff account (admin)",
    description="Roles, properties, driver id, active, password; only the fields sent change. "
    "Deactivating an account stops its refresh tokens at once; its access tokens expire "
    "within their short lifetime.",
    responses=problems({**ADMIN_ONLY, 404: "staff_user_not_found", 422: "validation_error"}),
)
async def update_staff_user(
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: StaffUserUpdate,
    session: SessionDep,
    admin: AdminDep,
) -> StaffUserPublic:
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise NotFound("staff_user", user_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("roles", "active"):
        if name in changes and changes[name] is None:
            raise ProblemError(422, "validation_error", f"{name} cannot be null.")
    if body.roles is not None:
        user.roles = sorted(set(body.roles))
    if "properties" in changes:
        user.properties = None if body.properties is None else sorted(set(body.properties))
    if "driver_id" in changes:
        user.driver_id = body.driver_id
    if body.active is not None:
        user.active = body.active
    if body.password is not None:
        user.password_hash = await hash_password(body.password)
        user.failed_logins, user.first_failed_at, user.locked_until = 0, None, None
    if body.password is not None or body.active is False:
        # A reset or a deactivation follows a compromise or a departure: a refresh token
        # copied before must not mint access tokens again (not even after a reactivation).
        await session.exec(
            update(RefreshToken)
            .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
    session.add(user)
    shown = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes:
        shown["password"] = "changed"
    audit.record(
        session,
        "staff.update",
        actor=admin,
        target=f"staff:{user_id}",
        detail=", ".join(f"{k}={v}" for k, v in sorted(shown.items())),
    )
    await session.commit()
    return StaffUserPublic.model_validate(user)
