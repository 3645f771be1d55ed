"""The delivery log: what was sent to whom, its state, and a retry for failed notices (one, or
all that match filters, e.g. after a mail server outage outlasted the give-up age).
Who may read which notice: `notification_service.access`."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from hotel_common.contract import example
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep
from pydantic import BaseModel, ConfigDict, Field

from notification_service import access, delivery_log
from notification_service.delivery import delivery_of
from notification_service.delivery_log import RetryFilter
from notification_service.models import ListedKind, NotificationDetail, NotificationPublic, Status

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

EXAMPLE: dict[str, Any] = {
    "id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    "kind": "reservation_confirmed",
    "channel": "email",
    "reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
    "confirmation_number": "HV-7K3Q9D",
    "email": "lin.mei@example.com",
    "language": "en",
    "subject": "Booking confirmed: Bund Garden Hotel, confirmation number HV-7K3Q9D",
    "status": "sent",
    "attempts": 1,
    "last_error": None,
    "created_at": "2030-05-20T08:15:01Z",
    "sent_at": "2030-05-20T08:15:02Z",
}
DETAIL = EXAMPLE | {
    "event_id": "2e1d0c9b-8a7f-4e6d-5c4b-3a2f1e0d9c8b",
    "body": "Dear Lin Mei,\n\nThank you for booking ...\n",
    "next_attempt_at": None,
}
UNAUTHENTICATED = {401: "unauthenticated: no signed-in caller"}
READ_FORBIDDEN = {
    403: "forbidden: front desk, managers, the guest and the booking's holder only",
}
RETRY_FORBIDDEN = {403: "forbidden: managers only"}
NOT_FOUND = {404: "notification_not_found: no such notice, or not yours"}


class RetryResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"requeued": 3}]})

    requeued: int = Field(description="How many failed notices were queued again (a count).")


@router.post(
    "/retry",
    response_model=RetryResult,
    summary="Retry failed notices",
    dependencies=[access.may_retry],
    responses={
        200: example({"requeued": 3}),
        **problems(
            {
                **UNAUTHENTICATED,
                **RETRY_FORBIDDEN,
                422: "validation_error or invalid_range: bad filters (e.g. an unknown kind, "
                "or an empty created range)",
            }
        ),
    },
)
async def retry_notifications(
    session: SessionDep,
    runtime: RuntimeDep,
    filters: Annotated[
        RetryFilter | None,
        Body(
            openapi_examples={
                "one_kind": {
                    "summary": "Pickup notices that failed on one day",
                    "value": {
                        "kind": "transfer_assigned",
                        "created_from": "2030-06-01T00:00:00Z",
                        "created_to": "2030-06-02T00:00:00Z",
                    },
                }
            }
        ),
    ] = None,
) -> RetryResult:
    """Queue every failed notice matching the filters again, with a fresh set of attempts
    (managers).

    Idempotent: a repeat finds nothing failed left to queue (a notice superseded by its
    booking's cancellation is never retried, nor is a sign-in code). One UPDATE, so concurrent
    calls count each notice once.
    """
    wake = delivery_of(runtime).wake
    requeued = await delivery_log.requeue_failed(session, filters or RetryFilter(), wake)
    await session.commit()
    return RetryResult(requeued=requeued)


@router.get(
    "",
    response_model=Page[NotificationPublic],
    summary="List notices",
    responses={
        200: example({"items": [EXAMPLE], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **READ_FORBIDDEN}),
    },
)
async def list_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    reservation_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Status | None = None,
    email: Annotated[str | None, Query(max_length=320, description="Any case")] = None,
    kind: ListedKind | None = None,
) -> Page[NotificationPublic]:
    """Notices newest first. The front desk and managers see every notice; a signed-in guest
    those sent to their email; a booking holder its booking's. Sign-in codes are never listed.
    """
    return await delivery_log.page(
        session,
        paging,
        visible=access.notices_visible_to(principal),
        reservation_id=reservation_id,
        status=status,
        email=email,
        kind=kind,
    )


@router.get(
    "/{notification_id}",
    response_model=NotificationDetail,
    summary="Get one notice with its text",
    responses={
        200: example(DETAIL),
        **problems({**UNAUTHENTICATED, **READ_FORBIDDEN, **NOT_FOUND}),
    },
)
async def get_notification(
    session: SessionDep, principal: PrincipalDep, notification_id: str
) -> NotificationDetail:
    """One notice with the text that was sent, to whoever may list it; a notice the caller may
    not see (and any sign-in code) is a 404."""
    row = await delivery_log.get(session, notification_id, access.notices_visible_to(principal))
    return NotificationDetail.model_validate(row, from_attributes=True)


@router.post(
    "/{notification_id}/retry",
    response_model=NotificationDetail,
    summary="Retry one failed notice",
    dependencies=[access.may_retry],
    responses={
        200: example(DETAIL | {"status": "queued", "attempts": 0, "sent_at": None}),
        **problems(
            {
                **UNAUTHENTICATED,
                **RETRY_FORBIDDEN,
                404: "notification_not_found: no such notice",
                409: "notification_not_failed: only a failed notice can be retried",
            }
        ),
    },
)
async def retry_notification(
    session: SessionDep, runtime: RuntimeDep, notification_id: str
) -> NotificationDetail:
    """Queue a failed notice again with a fresh set of attempts (managers); a queued one is
    left as is."""
    row = await delivery_log.requeue(session, notification_id, delivery_of(runtime).wake)
    await session.commit()
    return NotificationDetail.model_validate(row, from_attributes=True)
