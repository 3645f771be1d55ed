"""Partners (OTAs, channel managers) and their API keys (admin).

A key is `pk_` + 256 random bits, shown once when created; the store keeps its sha256. All keys
of one partner are one tenant (`partner:<id>`), each with its own scopes. Rotation issues a new
key and lets the old one live `overlap_seconds` more, so a partner can switch without a gap.
"""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from hotel_common.deps import SessionDep
from hotel_common.errors import NotFound, ProblemError, problems
from hotel_common.principal import ApiScope
from hotel_common.strict import StrictModel
from hotel_common.time import utcnow
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.identity import audit
from gateway.identity.credentials import KEY_PREFIX, digest, new_id, random_token
from gateway.identity.deps import AdminDep
from gateway.identity.keys import KeyCache
from gateway.identity.models import Partner, PartnerKey

ChannelCode = Annotated[
    str,
    Field(
        min_length=2,
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9_\-]*$",
        description="The channel code the partner's bookings carry, e.g. booking_com",
    ),
]
PartnerId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
KeyId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


class PartnerCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    channel: ChannelCode


class PartnerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    channel: str


class KeyCreate(StrictModel):
    scopes: list[ApiScope] = Field(min_length=1, max_length=len(ApiScope))


class KeyRotate(StrictModel):
    overlap_seconds: int = Field(
        3600, ge=0, le=30 * 86400, description="How long the old key keeps working"
    )


class KeyPublic(BaseModel):
    id: str
    scopes: list[ApiScope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(BaseModel):
    id: str
    key: str = Field(description="The API key: shown only in this answer, send as X-API-Key")
    scopes: list[ApiScope]
    created_at: datetime
    expires_at: datetime | None


def key_cache(request: Request) -> KeyCache:
    cache: KeyCache = request.app.state.key_cache
    return cache


async def issue_key(
    session: AsyncSession, partner: Partner, scopes: list[str], cache: KeyCache
) -> tuple[PartnerKey, str]:
    """A new key, staged in `session` and known to this replica's cache once committed."""
    secret = KEY_PREFIX + random_token(32)
    row = PartnerKey(
        id=new_id(), partner_id=partner.id, key_hash=digest(secret), scopes=sorted(set(scopes))
    )
    session.add(row)
    await session.flush()
    cache.put(row, partner)  # before the commit: harmless, the commit follows at once
    return row, secret


async def partner_or_404(session: AsyncSession, partner_id: str) -> Partner:
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("partner", partner_id)
    return partner


async def key_or_404(session: AsyncSession, partner_id: str, key_id: str) -> PartnerKey:
    key = await session.get(PartnerKey, key_id)
    if key is None or key.partner_id != partner_id:
        raise NotFound("partner_key", key_id)
    return key


def created(row: PartnerKey, secret: str) -> KeyCreated:
    return KeyCreated(
        id=row.id,
        key=secret,
        scopes=[ApiScope(s) for s in row.scopes],
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


router = APIRouter(prefix="/api/v1/partners", tags=["partners"])
ADMIN_ONLY = {401: "unauthenticated / invalid_credentials", 403: "forbidden: admin only"}


@router.post(
    "",
    status_code=201,
    summary="Register a partner (admin)",
    responses=problems({**ADMIN_ONLY, 422: "validation_error"}),
)
async def create_partner(
    body: PartnerCreate, session: SessionDep, admin: AdminDep
) -> PartnerPublic:
    partner = Partner(id=new_id(), name=body.name, channel=body.channel)
    session.add(partner)
    audit.record(
        session,
        "partner.create",
        actor=admin,
        target=f"partner:{partner.id}",
        detail=f"channel={partner.channel}",
    )
    await session.commit()
    return PartnerPublic.model_validate(partner)


@router.get("", summary="List partners (admin)", responses=problems(ADMIN_ONLY))
async def list_partners(session: SessionDep, _admin: AdminDep) -> list[PartnerPublic]:
    rows = await session.exec(select(Partner).order_by(col(Partner.created_at), col(Partner.id)))
    return [PartnerPublic.model_validate(p) for p in rows.all()]


@router.post(
    "/{partner_id}/keys",
    status_code=201,
    summary="Create an API key for a partner (admin)",
    description="The key is in this answer only; the platform keeps a hash of it.",
    responses=problems({**ADMIN_ONLY, 404: "partner_not_found", 422: "validation_error"}),
)
async def create_partner_key(
    partner_id: PartnerId, body: KeyCreate, session: SessionDep, admin: AdminDep, request: Request
) -> KeyCreated:
    partner = await partner_or_404(session, partner_id)
    row, secret = await issue_key(session, partner, list(body.scopes), key_cache(request))
    audit.record(
        session,
        "partner_key.create",
        actor=admin,
        target=f"partner:{partner.id}/{row.id}",
        detail=f"scopes={','.join(row.scopes)}",
    )
    await session.commit()
    return created(row, secret)


@router.get(
    "/{partner_id}/keys",
    summary="List a partner's API keys (admin)",
    description="Without the keys themselves, which are never shown again.",
    responses=problems({**ADMIN_ONLY, 404: "partner_not_found"}),
)
async def list_partner_keys(
    partner_id: PartnerId, session: SessionDep, _admin: AdminDep
) -> list[KeyPublic]:
    await partner_or_404(session, partner_id)
    rows = await session.exec(
        select(PartnerKey)
        .where(col(PartnerKey.partner_id) == partner_id)
        .order_by(col(PartnerKey.created_at), col(PartnerKey.id))
    )
    return [KeyPublic.model_validate(k, from_attributes=True) for k in rows.all()]


@router.post(
    "/{partner_id}/keys/{key_id}/rotate",
    status_code=201,
    summary="Rotate an API key (admin)",
    description="A new key with the same scopes; the old one keeps working for "
    "`overlap_seconds`, then expires.",
    responses=problems(
        {
            **ADMIN_ONLY,
            404: "partner_not_found / partner_key_not_found",
            409: "key_revoked",
            422: "validation_error",
        }
    ),
)
async def rotate_partner_key(
    partner_id: PartnerId,
    key_id: KeyId,
    body: KeyRotate,
    session: SessionDep,
    admin: AdminDep,
    request: Request,
) -> KeyCreated:
    partner = await partner_or_404(session, partner_id)
    old = await key_or_404(session, partner_id, key_id)
    now = utcnow()
    if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
        raise ProblemError(409, "key_revoked", "A revoked or expired key cannot be rotated.")
    cache = key_cache(request)
    old.expires_at = now + timedelta(seconds=body.overlap_seconds)
    session.add(old)
    cache.expire(old.key_hash, old.expires_at)
    row, secret = await issue_key(session, partner, old.scopes, cache)
    audit.record(
        session,
        "partner_key.rotate",
        actor=admin,
        target=f"partner:{partner.id}/{old.id}",
        detail=f"new_key={row.id} overlap_seconds={body.overlap_seconds}",
    )
    await session.commit()
    return created(row, secret)


@router.delete(
    "/{partner_id}/keys/{key_id}",
    status_code=204,
    summary="Revoke an API key (admin)",
    description="At once on this gateway, within the key refresh interval on the others.",
    responses=problems({**ADMIN_ONLY, 404: "partner_not_found / partner_key_not_found"}),
)
async def revoke_partner_key(
    partner_id: PartnerId, key_id: KeyId, session: SessionDep, admin: AdminDep, request: Request
) -> Response:
    await partner_or_404(session, partner_id)
    key = await key_or_404(session, partner_id, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        audit.record(
            session, "partner_key.revoke", actor=admin, target=f"partner:{partner_id}/{key.id}"
        )
        await session.commit()
    key_cache(request).drop(key.key_hash)
    return Response(status_code=204)
