"""Signing in: staff by password (OAuth2 password flow) and refresh token, guests by a one-time
code sent to their email or phone, or by confirmation number and last name."""

import hashlib
import hmac
import json
import logging
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Self
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from hotel_common.contacts import Email, LanguageTag, Phone
from hotel_common.contracts.identity import SignInCodeRequested
from hotel_common.deps import SessionDep
from hotel_common.errors import ProblemError, problems
from hotel_common.events.outbox import add_event
from hotel_common.principal import (
    HEADER,
    Kind,
    Principal,
    PrincipalDep,
    booking_token,
    sign,
)
from hotel_common.strict import StrictModel
from hotel_common.time import as_utc, utcnow
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.config import Settings
from gateway.identity import audit
from gateway.identity.credentials import (
    code_digest,
    digest,
    mint_jwt,
    new_id,
    password_matches,
    random_token,
    six_digits,
)
from gateway.identity.deps import IpDep, SettingsDep
from gateway.identity.models import RefreshToken, SignInCode, StaffUser
from gateway.identity.problems import HeaderedProblem, InvalidCredentials
from gateway.identity.staff import staff_principal
from gateway.upstream import Upstream, UpstreamError

log = logging.getLogger(__name__)

RESERVATIONS = "reservation-service"
SERVICE_PRINCIPAL = Principal(id="service:gateway", kind=Kind.SERVICE)
BOOKING_TOKEN_AFTER_CHECK_OUT = timedelta(days=30)  # as reservation-service mints them


class TokenAnswer(BaseModel):
    access_token: str
    refresh_token: str | None = Field(
        None, description="Staff only: exchange at /api/v1/auth/refresh; each is used once"
    )
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the access token is valid")


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class GuestAddress(StrictModel):
    """Where a guest receives codes: exactly one of email and phone."""

    email: Email | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if (self.email is None) == (self.phone is None):
            raise ValueError("send exactly one of email and phone")
        return self

    @property
    def address(self) -> str:
        return f"email:{self.email}" if self.email is not None else f"phone:{self.phone}"


class CodeRequest(GuestAddress):
    language: LanguageTag = "en"


class CodeSignIn(GuestAddress):
    code: str = Field(pattern=r"^[0-9]{6}$", description="The six digits received")


class BookingSignIn(StrictModel):
    confirmation_number: str = Field(min_length=1, max_length=40)
    last_name: str = Field(min_length=1, max_length=200)


class BookingTokenAnswer(BaseModel):
    access_token: str = Field(description="A booking token (bk_...): send as Bearer")
    token_type: str = "bearer"


class PrincipalPublic(BaseModel):
    id: str
    kind: Kind
    roles: list[str]
    scopes: list[str]
    channel: str | None
    properties: list[int] | None


router = APIRouter(prefix="/api/v1/auth", tags=["authentication"])
me_router = APIRouter(prefix="/api/v1", tags=["authentication"])

# -- staff -----------------------------------------------------------------------------------


async def refresh_token_for(
    session: AsyncSession, user_id: int, family: str, settings: Settings
) -> str:
    token = random_token(32)
    session.add(
        RefreshToken(
            id=new_id(),
            token_hash=digest(token),
            family=family,
            user_id=user_id,
            expires_at=utcnow() + timedelta(days=settings.refresh_token_days),
        )
    )
    return token


def staff_answer(user: StaffUser, refresh: str, settings: Settings) -> TokenAnswer:
    token = mint_jwt(staff_principal(user), settings.token_secret, settings.access_token_seconds)
    return TokenAnswer(
        access_token=token, refresh_token=refresh, expires_in=settings.access_token_seconds
    )


def locked(until: datetime) -> HeaderedProblem:
    seconds = max(1, int((until - utcnow()).total_seconds()) + 1)
    return HeaderedProblem(
        423,
        "account_locked",
        "Too many failed sign-ins: this account is locked for now.",
        {"Retry-After": str(seconds)},
    )


@router.post(
    "/token",
    summary="Sign in as staff (OAuth2 password flow)",
    description="Form fields `username` (the staff email) and `password`. "
    "An account is locked for a while after repeated failures (423, Retry-After).",
    responses=problems(
        {
            401: "invalid_credentials",
            423: "account_locked (see Retry-After)",
            422: "validation_error",
        }
    ),
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
) -> TokenAnswer:
    email = form.username.strip().lower()[:254]
    user = (await session.exec(select(StaffUser).where(StaffUser.email == email))).first()
    tries = 0 if user is None else await claim_attempt(session, user, settings)
    await session.commit()  # no transaction (no SQLite write lock) held while Argon2 runs
    if user is not None and tries == 0:  # locked
        audit.record(
            session, "login", actor=email, ip=ip, outcome=audit.REFUSED, detail="account locked"
        )
        await session.commit()
        refreshed = await session.get(StaffUser, user.id, populate_existing=True)
        raise locked((refreshed and refreshed.locked_until) or utcnow())
    if user is not None and tries > settings.lockout_failures:
        # Guesses sent at once beyond the limit are not checked at all: they lock the account.
        await lock(session, user.id, ip, settings)
        await session.commit()
        refreshed = await session.get(StaffUser, user.id, populate_existing=True)
        raise locked((refreshed and refreshed.locked_until) or utcnow())
    matches = await password_matches(user.password_hash if user else None, form.password)
    if user is None or not matches or not user.active:
        why = "unknown email" if user is None else "inactive" if matches else "wrong password"
        audit.record(
            session,
            "login",
            actor=email,
            actor_kind="staff",
            ip=ip,
            outcome=audit.FAILURE,
            detail=why,
        )
        if user is not None and not matches and tries >= settings.lockout_failures:
            await lock(session, user.id, ip, settings)
        await session.commit()
        raise InvalidCredentials("Wrong email or password.")
    fresh = await session.get(StaffUser, user.id, with_for_update=True, populate_existing=True)
    assert fresh is not None and fresh.id is not None
    fresh.failed_logins, fresh.first_failed_at, fresh.locked_until = 0, None, None
    session.add(fresh)
    refresh = await refresh_token_for(session, fresh.id, new_id(), settings)
    audit.record(session, "login", actor=staff_principal(fresh, ip))
    await session.commit()
    return staff_answer(fresh, refresh, settings)


async def claim_attempt(session: AsyncSession, user: StaffUser, settings: Settings) -> int:
    """Count this sign-in attempt as a failure before the password is checked (a success
    clears the count): the how-manieth attempt of the window it is, 0 if the account is locked.
    Atomic UPDATEs, so guesses sent at once are each counted (a read-modify-write of the count
    let any number of simultaneous guesses be checked before the lock)."""
    now = utcnow()
    window_start = now - timedelta(seconds=settings.lockout_window_seconds)
    await session.exec(  # a new window: the first claim resets the count, later ones see it
        update(StaffUser)
        .where(
            col(StaffUser.id) == user.id,
            (col(StaffUser.first_failed_at).is_(None))
            | (col(StaffUser.first_failed_at) <= window_start),
        )
        .values(failed_logins=0, first_failed_at=now)
    )
    claimed = await session.exec(
        update(StaffUser)
        .where(
            col(StaffUser.id) == user.id,
            (col(StaffUser.locked_until).is_(None)) | (col(StaffUser.locked_until) <= now),
        )
        .values(failed_logins=col(StaffUser.failed_logins) + 1)
        .returning(col(StaffUser.failed_logins))
    )
    tries = claimed.scalar_one_or_none()
    return 0 if tries is None else int(tries)


async def lock(
    session: AsyncSession, user_id: int | None, ip: str | None, settings: Settings
) -> None:
    """Lock the account (the failures are spent); a lock already running is kept."""
    now = utcnow()
    locking = await session.exec(
        update(StaffUser)
        .where(
            col(StaffUser.id) == user_id,
            (col(StaffUser.locked_until).is_(None)) | (col(StaffUser.locked_until) <= now),
        )
        .values(
            locked_until=now + timedelta(seconds=settings.lockout_seconds),
            failed_logins=0,
            first_failed_at=None,
        )
    )
    if locking.rowcount == 1:
        audit.record(
            session,
            "login.lockout",
            actor=f"staff:{user_id}",
            actor_kind="staff",
            ip=ip,
            outcome=audit.REFUSED,
            detail=f"{settings.lockout_failures} failures",
        )


@router.post(
    "/refresh",
    summary="Exchange a refresh token for new tokens",
    description="Each refresh token is used once and replaced; presenting a used one again "
    "revokes every token descended from the same sign-in.",
    responses=problems({401: "invalid_credentials", 422: "validation_error"}),
)
async def refresh_tokens(
    body: RefreshRequest, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> TokenAnswer:
    row = (
        await session.exec(
            select(RefreshToken).where(RefreshToken.token_hash == digest(body.refresh_token))
        )
    ).first()
    if row is None or row.revoked_at is not None:
        raise InvalidCredentials("Unknown or revoked refresh token.")
    now = utcnow()
    spent = await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # used before: a copy was kept by someone else
        await session.exec(
            update(RefreshToken)
            .where(col(RefreshToken.family) == row.family, col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=now)
        )
        audit.record(
            session,
            "refresh_token.reuse",
            actor=f"staff:{row.user_id}",
            actor_kind="staff",
            ip=ip,
            outcome=audit.REFUSED,
            detail=f"family {row.family} revoked",
        )
        await session.commit()
        raise InvalidCredentials("This refresh token was already used; sign in again.")
    user = await session.get(StaffUser, row.user_id)
    if row.expires_at <= now or user is None or not user.active:
        await session.commit()
        raise InvalidCredentials("The refresh token has expired or the account is inactive.")
    refresh = await refresh_token_for(session, row.user_id, row.family, settings)
    await session.commit()
    return staff_answer(user, refresh, settings)


# -- guests ----------------------------------------------------------------------------------


def guest_id(address: str) -> str:
    return "guest:" + hashlib.sha256(address.encode()).hexdigest()[:24]


@router.post(
    "/guest/code",
    status_code=202,
    summary="Send a guest a one-time sign-in code",
    description="By email or text message, valid 10 minutes. Always 202: whether the address "
    "is known is not told. At most a few codes per address per hour are sent.",
    responses=problems({422: "validation_error"}),
)
async def request_sign_in_code(
    body: CodeRequest, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> Response:
    now = utcnow()
    address = body.address
    sent = (
        await session.exec(
            select(func.count())
            .select_from(SignInCode)
            .where(
                col(SignInCode.address) == address,
                col(SignInCode.created_at) > now - timedelta(hours=1),
            )
        )
    ).one()
    if sent >= settings.sign_in_codes_per_hour:
        audit.record(
            session,
            "guest.code",
            actor=guest_id(address),
            actor_kind="guest",
            ip=ip,
            outcome=audit.REFUSED,
            detail="hourly limit reached",
        )
        await session.commit()
        return Response(status_code=202)
    code = six_digits()
    expires = now + timedelta(seconds=settings.sign_in_code_seconds)
    session.add(
        SignInCode(
            address=address,
            code_hash=code_digest(settings.token_secret, address, code),
            expires_at=expires,
        )
    )
    add_event(
        session,
        SignInCodeRequested(
            email=body.email,
            phone=body.phone,
            code=code,
            language=body.language,
            expires_at=expires,
        ),
    )
    await session.commit()
    return Response(status_code=202)


@router.post(
    "/guest/token",
    summary="Sign in as a guest with a one-time code",
    responses=problems({401: "invalid_code", 422: "validation_error"}),
)
async def sign_in_with_code(
    body: CodeSignIn, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> TokenAnswer:
    now = utcnow()
    address = body.address
    row = (
        await session.exec(
            select(SignInCode)
            .where(
                col(SignInCode.address) == address,
                col(SignInCode.used_at).is_(None),
                col(SignInCode.expires_at) > now,
            )
            .order_by(col(SignInCode.id).desc())
            .limit(1)
            .with_for_update()
        )
    ).first()
    wrong = ProblemError(401, "invalid_code", "The code is wrong, used or expired.")
    if row is None or row.attempts >= settings.sign_in_code_attempts:
        raise wrong
    if not hmac.compare_digest(
        row.code_hash, code_digest(settings.token_secret, address, body.code)
    ):
        row.attempts += 1
        session.add(row)
        audit.record(
            session,
            "guest.login",
            actor=guest_id(address),
            actor_kind="guest",
            ip=ip,
            outcome=audit.FAILURE,
            detail="wrong code",
        )
        await session.commit()
        raise wrong
    row.used_at = now
    session.add(row)
    principal = Principal(
        id=guest_id(address), kind=Kind.GUEST, email=body.email, phone=body.phone, ip=ip
    )
    audit.record(session, "guest.login", actor=principal)
    await session.commit()
    lifetime = settings.guest_token_seconds
    return TokenAnswer(
        access_token=mint_jwt(principal, settings.token_secret, lifetime), expires_in=lifetime
    )


def last_word(name: str) -> str:
    words = name.split()
    return words[-1].casefold() if words else ""


async def find_booking(
    upstream: Upstream, confirmation_number: str, secret: str
) -> dict[str, Any] | None:
    """The reservation with this confirmation number, asked of reservation-service as the
    gateway itself (a SERVICE principal may read every booking)."""
    headers = [(HEADER.encode(), sign(SERVICE_PRINCIPAL, secret, lifetime=60).encode())]
    target = "/api/v1/reservations?confirmation_number=" + quote(confirmation_number, safe="")
    try:
        answer = await upstream.forward("GET", target, headers, b"")
    except UpstreamError as exc:
        raise ProblemError(
            503, "service_unavailable", f"{exc.service} is unavailable; try again shortly."
        ) from exc
    if answer.status != 200:
        log.warning("booking sign-in: reservation-service answered %s", answer.status)
        raise ProblemError(503, "service_unavailable", "Bookings cannot be checked just now.")
    items = json.loads(answer.body).get("items") or []
    wanted = confirmation_number.strip().upper()
    return next((i for i in items if str(i.get("confirmation_number", "")).upper() == wanted), None)


@router.post(
    "/booking",
    summary="Sign in to one booking with its confirmation number and last name",
    description="Answers a booking token (bk_...) for that booking only.",
    responses=problems(
        {
            401: "invalid_credentials",
            422: "validation_error",
            503: "service_unavailable: bookings cannot be checked now",
        }
    ),
)
async def sign_in_with_booking(
    body: BookingSignIn, request: Request, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> BookingTokenAnswer:
    upstream: Upstream | None = request.app.state.upstreams.get(RESERVATIONS)
    if upstream is None:
        raise ProblemError(503, "service_unavailable", "Bookings cannot be checked here.")
    booking = await find_booking(upstream, body.confirmation_number, settings.internal_secret)
    name = ((booking or {}).get("guest") or {}).get("name") or ""
    if booking is None or not last_word(name) or last_word(name) != last_word(body.last_name):
        audit.record(
            session,
            "booking.login",
            actor="anonymous",
            ip=ip,
            outcome=audit.FAILURE,
            detail=f"confirmation number {body.confirmation_number[:40]}",
        )
        await session.commit()
        raise InvalidCredentials("No booking with this confirmation number and last name.")
    check_out = date.fromisoformat(booking["check_out"])
    until = datetime.combine(check_out, datetime.min.time()).replace(tzinfo=as_utc(utcnow()).tzinfo)
    lifetime = max(3600.0, (until + BOOKING_TOKEN_AFTER_CHECK_OUT - utcnow()).total_seconds())
    audit.record(
        session, "booking.login", actor=f"booking:{booking['id']}", actor_kind="booking", ip=ip
    )
    await session.commit()
    return BookingTokenAnswer(
        access_token=booking_token(str(booking["id"]), settings.internal_secret, lifetime)
    )


# -- anyone ----------------------------------------------------------------------------------


@me_router.get(
    "/me",
    summary="Who the caller is",
    description="The principal the gateway verified for this request's credentials.",
    responses=problems({401: "invalid_credentials"}),
)
async def who_am_i(principal: PrincipalDep) -> PrincipalPublic:
    return PrincipalPublic(
        id=principal.id,
        kind=principal.kind,
        roles=sorted(principal.roles),
        scopes=sorted(principal.scopes),
        channel=principal.channel,
        properties=None if principal.properties is None else sorted(principal.properties),
    )
