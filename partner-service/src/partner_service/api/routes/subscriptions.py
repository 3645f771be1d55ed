"""/api/v1/webhook-subscriptions: a partner's webhooks, their delivery log and redelivery.

Partner keys only (anyone else: 401 unsigned, 403 otherwise); a partner sees its own
subscriptions, another's is a 404 as if it did not exist. The secret is shown twice in a
subscription's life: when it is made and when it is rotated.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from hotel_common.contract import answers
from hotel_common.db import after_commit
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.errors import ProblemError, problems
from hotel_common.pagination import PagingDep, keyset_page
from hotel_common.principal import ApiScope, Kind, Principal, PrincipalDep, refused
from hotel_common.strict import StrictModel
from hotel_common.text import SINGLE_LINE
from hotel_common.time import utcnow
from pydantic import BaseModel, Field, field_validator
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from partner_service import delivery
from partner_service.handlers import FEED_EVENT_TYPES
from partner_service.models import FeedEntry
from partner_service.outbound import Outbound, UnsafeTarget
from partner_service.subscriptions import (
    ACTIVE,
    ALL_TYPES,
    DISABLED,
    EVENT_TYPE,
    ROTATION_OVERLAP,
    SUBSCRIPTIONS_PER_PARTNER,
    URL_MAX,
    DeliveryAttempt,
    Redelivery,
    WebhookSubscription,
    count_of,
    current_seq,
    new_secret,
)

router = APIRouter(prefix="/api/v1", tags=["webhooks"])

UNAUTHENTICATED = {401: "unauthenticated: no partner key"}
FORBIDDEN = {403: "forbidden: partner keys only"}
# Changes: also a partner key without reservations:read.
STEER_FORBIDDEN = {403: "forbidden: partner keys with reservations:read only"}
NOT_FOUND = {404: "webhook_subscription_not_found: no such subscription, or not yours"}
BAD_URL = {422: "invalid_webhook_url: the URL may not be called (reason in detail)"}
REDELIVERY_RANGE_MAX = 10_000  # entries one redelivery request may name
# Open redelivery jobs per subscription: each may name 10 000 entries, so without a bound a
# loop of POSTs queues millions of sends (and rows) for one partner.
OPEN_REDELIVERIES_MAX = 10
# One line of text (a NUL cannot be stored by PostgreSQL; BEL, ESC, C1 end up in the
# disabled-webhook e-mail): refused as a 422 `control_characters`.
OneLine = Annotated[str, SINGLE_LINE]

SubscriptionId = Annotated[str, Path(max_length=32, pattern="^[0-9a-f]{32}$")]

SUBSCRIPTION: dict[str, Any] = {
    "id": "7f3c2a1b9e8d4c6f8a5b4e3d2c1b0a9f",
    "url": "https://hooks.example-ota.com/hotel",
    "event_types": ["reservation.confirmed", "reservation.cancelled"],
    "contact_email": "integrations@example-ota.com",
    "description": "bookings",
    "status": "active",
    "disabled_reason": None,
    "disabled_at": None,
    "cursor": "41",
    "failing_since": None,
    "next_attempt_at": None,
    "last_error": None,
    "last_delivered_at": "2030-05-20T08:15:02Z",
    "created_at": "2030-05-01T10:00:00Z",
    "updated_at": "2030-05-20T08:15:02Z",
}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _event_types(value: list[str]) -> list[str]:
    if ALL_TYPES in value:
        if len(value) != 1:
            raise ValueError('"*" (every type) stands alone')
        return value
    for item in value:
        if not EVENT_TYPE.match(item):
            raise ValueError(f"{item!r} is not an event type (e.g. reservation.confirmed)")
        if item not in FEED_EVENT_TYPES:
            known = ", ".join(sorted(FEED_EVENT_TYPES))
            raise ValueError(f"{item!r} is not an event type of the feed (one of: {known})")
    return sorted(set(value))


EventTypes = Annotated[
    list[Annotated[str, Field(max_length=100)]],
    Field(min_length=1, max_length=50, description='Event types, or ["*"] for every type'),
]


class SubscriptionIn(StrictModel):
    url: str = Field(max_length=URL_MAX, description="https outside development")
    event_types: EventTypes
    contact_email: OneLine | None = Field(
        default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    )
    description: OneLine | None = Field(default=None, max_length=500)

    _types = field_validator("event_types")(_event_types)


class SubscriptionPatch(StrictModel):
    url: str | None = Field(default=None, max_length=URL_MAX)
    event_types: EventTypes | None = None
    contact_email: OneLine | None = Field(
        default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    )
    description: OneLine | None = Field(default=None, max_length=500)
    status: Literal["active", "disabled"] | None = Field(
        default=None, description="active: re-enable (failing state reset); disabled: pause"
    )

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _event_types(value)


class SubscriptionPublic(BaseModel):
    id: str
    url: str
    event_types: list[str]
    contact_email: str | None
    description: str | None
    status: str = Field(description="active or disabled")
    disabled_reason: str | None
    disabled_at: datetime | None
    cursor: str = Field(description="The feed cursor delivered through (acknowledged or skipped)")
    failing_since: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None
    last_delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionPublic):
    secret: str = Field(description="whsec_...: shown only now; sign-checking key")


class SubscriptionList(BaseModel):
    items: list[SubscriptionPublic]


class SecretOut(BaseModel):
    secret: str = Field(description="The new secret; the old one also signs for 24 h")
    previous_valid_until: datetime


class AttemptPublic(BaseModel):
    id: str
    event_id: str
    event_type: str
    cursor: str
    attempt: int
    redelivery: bool
    at: datetime
    duration_ms: int
    status_code: int | None
    outcome: str = Field(description="delivered, failed (retried), not_retried or refused")
    error: str | None


class AttemptPage(BaseModel):
    items: list[AttemptPublic]
    next_cursor: str | None = None


class RedeliveryIn(StrictModel):
    event_id: str | None = Field(default=None, max_length=36)
    after: str | None = Field(default=None, max_length=20, pattern="^[0-9]+$")
    through: str | None = Field(default=None, max_length=20, pattern="^[0-9]+$")


class RedeliveryOut(BaseModel):
    id: str
    after: str
    through: str


def _partner(principal: Principal) -> str:
    if principal.kind is not Kind.PARTNER:
        raise refused(principal)
    return principal.id.removeprefix("partner:")


def _steering(principal: Principal) -> str:
    """The partner of a key that may change where and what its webhooks deliver: deliveries
    carry booking events, so the key needs `reservations:read` (as GET /reservations does);
    otherwise a rate-push key could point a subscription at a URL of its own and read them."""
    partner_id = _partner(principal)
    if not principal.may(ApiScope.RESERVATIONS_READ):
        raise ProblemError(
            403,
            "forbidden",
            f"This API key lacks the scope {ApiScope.RESERVATIONS_READ} (webhooks deliver "
            "booking events).",
        )
    return partner_id


def _public(sub: WebhookSubscription) -> SubscriptionPublic:
    fields = sub.model_dump(exclude={"secret", "previous_secret"})
    return SubscriptionPublic(**fields, cursor=str(sub.delivered_through))


async def _owned(session: AsyncSession, partner_id: str, sub_id: str) -> WebhookSubscription:
    query = select(WebhookSubscription).where(
        WebhookSubscription.id == sub_id, WebhookSubscription.partner_id == partner_id
    )
    sub = (await session.exec(query.with_for_update())).first()
    if sub is None:
        raise ProblemError(
            404, "webhook_subscription_not_found", f"No webhook subscription {sub_id}."
        )
    return sub


async def _checked_url(runtime: RuntimeDep, url: str) -> str:
    outbound: Outbound = runtime.extras.setdefault(delivery.OUTBOUND, Outbound(runtime.settings))
    try:
        await outbound.check(url)
    except UnsafeTarget as exc:
        raise ProblemError(422, "invalid_webhook_url", str(exc)) from exc
    return url


@router.post(
    "/webhook-subscriptions",
    status_code=201,
    response_model=SubscriptionWithSecret,
    summary="Subscribe a webhook",
    responses=answers(
        201,
        {**SUBSCRIPTION, "cursor": "0", "secret": SECRET},
        {
            **UNAUTHENTICATED,
            **STEER_FORBIDDEN,
            409: "too_many_subscriptions: at most 10 per partner",
            **BAD_URL,
        },
    ),
)
async def create_webhook_subscription(
    body: SubscriptionIn, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> SubscriptionWithSecret:
    """Deliveries start with the events recorded from now on (older ones: the feed, or a
    redelivery). The URL is resolved and checked now and again at every delivery. The
    secret is in this answer only. Changing webhooks needs the key's reservations:read."""
    partner_id = _steering(principal)
    await _checked_url(runtime, body.url)
    if await count_of(session, partner_id) >= SUBSCRIPTIONS_PER_PARTNER:
        raise ProblemError(
            409, "too_many_subscriptions", f"At most {SUBSCRIPTIONS_PER_PARTNER} per partner."
        )
    sub = WebhookSubscription(
        partner_id=partner_id,
        url=body.url,
        event_types=body.event_types,
        secret=new_secret(),
        contact_email=body.contact_email,
        description=body.description,
        delivered_through=await current_seq(session, partner_id),
    )
    session.add(sub)
    await session.commit()
    return SubscriptionWithSecret(**_public(sub).model_dump(), secret=sub.secret)


@router.get(
    "/webhook-subscriptions",
    response_model=SubscriptionList,
    summary="List my webhook subscriptions",
    responses=answers(200, {"items": [SUBSCRIPTION]}, {**UNAUTHENTICATED, **FORBIDDEN}),
)
async def list_webhook_subscriptions(
    session: SessionDep, principal: PrincipalDep
) -> SubscriptionList:
    """The calling partner's subscriptions, oldest first (at most 10; never their secrets)."""
    partner_id = _partner(principal)
    query = select(WebhookSubscription).where(WebhookSubscription.partner_id == partner_id)
    rows = (await session.exec(query.order_by(col(WebhookSubscription.created_at)))).all()
    return SubscriptionList(items=[_public(r) for r in rows])


@router.get(
    "/webhook-subscriptions/{subscription_id}",
    response_model=SubscriptionPublic,
    summary="Get one webhook subscription",
    responses=answers(200, SUBSCRIPTION, {**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND}),
)
async def get_webhook_subscription(
    subscription_id: SubscriptionId, session: SessionDep, principal: PrincipalDep
) -> SubscriptionPublic:
    """Its state: cursor delivered through, failing since, next attempt, last error, status
    and why it was disabled (never the secret)."""
    return _public(await _owned(session, _partner(principal), subscription_id))


@router.patch(
    "/webhook-subscriptions/{subscription_id}",
    response_model=SubscriptionPublic,
    summary="Change a webhook subscription",
    responses=answers(
        200, SUBSCRIPTION, {**UNAUTHENTICATED, **STEER_FORBIDDEN, **NOT_FOUND, **BAD_URL}
    ),
)
async def update_webhook_subscription(
    subscription_id: SubscriptionId,
    body: SubscriptionPatch,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> SubscriptionPublic:
    """Fields left out stay. `status: active` re-enables a disabled subscription: its failing
    state is reset and it resumes where it stopped (entries still kept by the feed)."""
    sub = await _owned(session, _steering(principal), subscription_id)
    now = utcnow()
    if body.url is not None:
        sub.url = await _checked_url(runtime, body.url)
        sub.next_attempt_at = None  # a new URL is tried at once (the failing streak stays)
    if body.event_types is not None:
        sub.event_types = body.event_types
    if "contact_email" in body.model_fields_set:
        sub.contact_email = body.contact_email
    if "description" in body.model_fields_set:
        sub.description = body.description
    if body.status == ACTIVE and sub.status != ACTIVE:
        sub.status = ACTIVE
        sub.disabled_reason = None
        sub.disabled_at = None
        sub.reset_failing()
    elif body.status == DISABLED and sub.status != DISABLED:
        sub.status = DISABLED
        sub.disabled_reason = "disabled by the partner"
        sub.disabled_at = now
    sub.updated_at = now
    sub.version += 1
    session.add(sub)
    after_commit(session, lambda: delivery.wake(runtime))
    await session.commit()
    return _public(sub)


@router.delete(
    "/webhook-subscriptions/{subscription_id}",
    status_code=204,
    summary="Delete a webhook subscription",
    responses=problems({**UNAUTHENTICATED, **STEER_FORBIDDEN, **NOT_FOUND}),
)
async def delete_webhook_subscription(
    subscription_id: SubscriptionId, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Its delivery log and redelivery jobs go with it."""
    sub = await _owned(session, _steering(principal), subscription_id)
    for model in (DeliveryAttempt, Redelivery):
        rows = await session.exec(select(model).where(model.subscription_id == sub.id))
        for row in rows.all():
            await session.delete(row)
    await session.delete(sub)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/webhook-subscriptions/{subscription_id}/rotate-secret",
    response_model=SecretOut,
    summary="Rotate a webhook subscription's secret",
    responses=answers(
        200,
        {"secret": SECRET, "previous_valid_until": "2030-05-21T08:00:00Z"},
        {**UNAUTHENTICATED, **STEER_FORBIDDEN, **NOT_FOUND},
    ),
)
async def rotate_webhook_secret(
    subscription_id: SubscriptionId, session: SessionDep, principal: PrincipalDep
) -> SecretOut:
    """Deliveries carry two signatures (new and old secret) for 24 hours, then the new only.
    The new secret is in this answer only."""
    sub = await _owned(session, _steering(principal), subscription_id)
    now = utcnow()
    sub.previous_secret = sub.secret
    sub.previous_secret_until = now + ROTATION_OVERLAP
    sub.secret = new_secret()
    sub.updated_at = now
    sub.version += 1
    session.add(sub)
    await session.commit()
    return SecretOut(secret=sub.secret, previous_valid_until=sub.previous_secret_until)


@router.get(
    "/webhook-subscriptions/{subscription_id}/deliveries",
    response_model=AttemptPage,
    summary="List a webhook subscription's delivery attempts",
    responses=answers(
        200,
        {
            "items": [
                {
                    "id": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
                    "event_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
                    "event_type": "reservation.confirmed",
                    "cursor": "42",
                    "attempt": 2,
                    "redelivery": False,
                    "at": "2030-05-20T08:15:02Z",
                    "duration_ms": 87,
                    "status_code": 503,
                    "outcome": "failed",
                    "error": "HTTP 503",
                }
            ],
            "next_cursor": None,
        },
        {400: "invalid_cursor", **UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND},
    ),
)
async def list_webhook_deliveries(
    subscription_id: SubscriptionId,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
) -> AttemptPage:
    """Every attempt, newest first (kept as long as the subscription)."""
    sub = await _owned(session, _partner(principal), subscription_id)
    query = select(DeliveryAttempt).where(DeliveryAttempt.subscription_id == sub.id)
    order = (col(DeliveryAttempt.at), col(DeliveryAttempt.id))
    page = await keyset_page(session, query, paging, *order, descending=True)
    return AttemptPage(
        items=[
            AttemptPublic(**row.model_dump(exclude={"seq", "subscription_id"}), cursor=str(row.seq))
            for row in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/webhook-subscriptions/{subscription_id}/redeliveries",
    status_code=202,
    response_model=RedeliveryOut,
    summary="Redeliver an event or a cursor range",
    responses=answers(
        202,
        {"id": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", "after": "40", "through": "42"},
        {
            **UNAUTHENTICATED,
            **STEER_FORBIDDEN,
            404: "webhook_subscription_not_found, event_not_found: not in your feed (any more)",
            409: "webhook_subscription_disabled: re-enable it first; too_many_redeliveries: "
            f"at most {OPEN_REDELIVERIES_MAX} open at once, wait for one to finish",
            422: "invalid_redelivery: one event_id, or after and through (at most 10000)",
        },
    ),
)
async def redeliver_webhook_events(
    subscription_id: SubscriptionId,
    body: RedeliveryIn,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> RedeliveryOut:
    """`{"event_id": ...}` sends that event again; `{"after": c1, "through": c2}` the entries
    of the range (of the subscription's types, in cursor order). They go once the subscription
    has caught up with its feed, marked `redelivery` in the log, with their original
    `webhook-id` (a receiver that keeps ids sees them as duplicates)."""
    partner_id = _steering(principal)
    sub = await _owned(session, partner_id, subscription_id)
    if sub.status != ACTIVE:
        raise ProblemError(409, "webhook_subscription_disabled", "Re-enable it first.")
    if body.event_id is not None and body.after is None and body.through is None:
        seqs = await session.exec(
            select(col(FeedEntry.seq)).where(
                FeedEntry.partner_id == partner_id, FeedEntry.event_id == body.event_id
            )
        )
        seq = seqs.first()
        if seq is None:
            raise ProblemError(404, "event_not_found", f"No event {body.event_id} in your feed.")
        after, through = seq - 1, seq
    elif body.event_id is None and body.after is not None and body.through is not None:
        after, through = int(body.after), int(body.through)
        last = await current_seq(session, partner_id)
        if not after < through <= last or through - after > REDELIVERY_RANGE_MAX:
            raise ProblemError(
                422,
                "invalid_redelivery",
                f"Need after < through <= {last} (the newest cursor), at most "
                f"{REDELIVERY_RANGE_MAX} apart.",
            )
    else:
        raise ProblemError(
            422, "invalid_redelivery", "Send one event_id, or after and through (cursors)."
        )
    open_jobs = await session.exec(
        select(col(Redelivery.id)).where(
            Redelivery.subscription_id == sub.id, col(Redelivery.finished_at).is_(None)
        )
    )
    if len(open_jobs.all()) >= OPEN_REDELIVERIES_MAX:
        raise ProblemError(
            409,
            "too_many_redeliveries",
            f"At most {OPEN_REDELIVERIES_MAX} redeliveries open at once; wait for one to finish "
            "(see the delivery log) or redeliver a wider range.",
        )
    job = Redelivery(
        subscription_id=sub.id, after_seq=after, through_seq=through, done_through=after
    )
    session.add(job)
    after_commit(session, lambda: delivery.wake(runtime))
    await session.commit()
    return RedeliveryOut(id=job.id, after=str(after), through=str(through))
