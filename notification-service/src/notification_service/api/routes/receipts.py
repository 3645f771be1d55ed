"""Delivery receipts from the SMS and push providers (issue 20): signed, not signed-in.

`POST /api/v1/delivery-receipts/{provider}` with `X-Timestamp` (unix seconds, within 300 s) and
`X-Signature: sha256=<hex HMAC-SHA256 of "<X-Timestamp>.<raw body>" keyed with the provider's
receipt_secret>`. The body names the message by the provider's `message_id` or our notice `id`.
Delivered: the notice is `delivered` (idempotent; nothing later downgrades it). Failed: the
notice failed on its channel and goes on the next one (once); `permanent` (or `undeliverable`)
also marks the address bad. Every error (unsigned 401, then unknown provider 404, bad or
stale signature 401, malformed body 422, unknown message 404) writes nothing.
"""

import hashlib
import hmac
import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from hotel_common.contract import example
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.errors import ProblemError, problems
from hotel_common.strict import StrictModel
from hotel_common.time import utcnow
from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy import update
from sqlmodel import col, select

from notification_service import bad_addresses, statuses
from notification_service.config import Settings
from notification_service.delivery import delivery_of, fall_back
from notification_service.models import Channel, Notification, Reason, Status

router = APIRouter(prefix="/api/v1/delivery-receipts", tags=["delivery receipts"])

SIGNATURE_WINDOW_SECONDS = 300


class Receipt(StrictModel):
    message_id: str | None = Field(default=None, max_length=200, description="The provider's id")
    id: str | None = Field(default=None, max_length=36, description="Our notice id")
    status: Literal["delivered", "failed", "undeliverable"]
    error: str | None = Field(default=None, max_length=500)
    permanent: bool | None = Field(default=None, description="failed for good: the address")

    @model_validator(mode="after")
    def _named(self) -> "Receipt":
        if not self.message_id and not self.id:
            raise ValueError("a receipt names its message: message_id or id")
        return self


class ReceiptResult(BaseModel):
    id: str = Field(description="Our notice id")
    status: Status


def _unsigned(detail: str) -> ProblemError:
    return ProblemError(401, "invalid_signature", detail)


MAX_RECEIPT_BYTES = 16_384


def _handed(row: Notification, provider: str) -> bool:
    """Was the message handed to `provider`? Its outcome names the provider once recorded; a
    receipt may also come while the sender that holds it (a lease) has not recorded it yet.
    A notice still waiting, or handed to another provider, takes no receipt of this one: a
    receipt must not stop a notice that was never sent."""
    if row.provider is not None:
        return row.provider == provider
    return row.status == Status.QUEUED and row.leased_until is not None


def _verify(secret: str, headers: Any, raw: bytes) -> None:
    stamp = headers.get("x-timestamp") or ""
    signature = headers.get("x-signature") or ""
    try:
        at = int(stamp)
    except ValueError:
        raise _unsigned("X-Timestamp (unix seconds) is required") from None
    if abs(time.time() - at) > SIGNATURE_WINDOW_SECONDS:
        raise _unsigned("X-Timestamp is not within 300 seconds of now")
    expected = hmac.new(secret.encode(), f"{at}.".encode() + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.encode(), f"sha256={expected}".encode()):
        raise _unsigned("X-Signature does not match the body")


@router.post(
    "/{provider}",
    response_model=ReceiptResult,
    summary="Record a provider's delivery receipt",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Receipt.model_json_schema()}},
        }
    },
    responses={
        200: example({"id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", "status": "delivered"}),
        **problems(
            {
                401: "invalid_signature: X-Signature or X-Timestamp missing, wrong or stale",
                413: "receipt_too_large: a body over 16 KiB",
                404: "provider_not_found or notification_not_found",
                422: "validation_error: a malformed receipt",
            }
        ),
    },
)
async def record_receipt(
    provider: str, request: Request, session: SessionDep, runtime: RuntimeDep
) -> ReceiptResult:
    """A provider tells what became of a message (signed with its receipt secret; no sign-in)."""
    settings: Settings = runtime.settings
    if not request.headers.get("x-signature") or not request.headers.get("x-timestamp"):
        # Unsigned: refused before anything else, whoever the provider.
        raise _unsigned("X-Signature and X-Timestamp are required")
    config = settings.provider(provider)
    if config is None or not config.receipt_secret:
        raise ProblemError(404, "provider_not_found", f"No provider {provider} takes receipts.")
    raw = await request.body()
    if len(raw) > MAX_RECEIPT_BYTES:  # a receipt is a few hundred bytes
        raise ProblemError(
            413, "receipt_too_large", f"A receipt is at most {MAX_RECEIPT_BYTES} bytes."
        )
    _verify(config.receipt_secret, request.headers, raw)
    try:
        receipt = Receipt.model_validate_json(raw)
    except ValidationError as exc:
        raise ProblemError(422, "validation_error", _first(exc)) from None
    if receipt.message_id:
        query = select(Notification).where(
            Notification.provider == provider,
            Notification.provider_message_id == receipt.message_id,
        )
    else:
        query = select(Notification).where(Notification.id == receipt.id)
    row = (await session.exec(query)).first()
    if row is None or row.channel not in (Channel.SMS, Channel.PUSH) or not _handed(row, provider):
        raise ProblemError(404, "notification_not_found", "No message of that provider.")
    fell_back = False
    now = utcnow()
    if receipt.status == "delivered":
        # statuses.change: delivered once (a repeated receipt changes nothing), published.
        await statuses.change(
            session,
            col(Notification.id) == row.id,
            values={"status": Status.DELIVERED, "delivered_at": now, "next_attempt_at": None},
            at=now,
        )
    elif row.status != Status.DELIVERED:
        permanent = bool(receipt.permanent) or receipt.status == "undeliverable"
        error = f"{provider}: {receipt.error or receipt.status}"
        values = {"status": Status.FAILED, "last_error": error[:500], "next_attempt_at": None}
        claimed = await statuses.change(
            session,
            col(Notification.id) == row.id,
            col(Notification.status) != Status.DELIVERED,
            col(Notification.reason).is_(None),
            values=values | {"reason": Reason.PERMANENT if permanent else Reason.FELL_BACK},
            at=now,
        )
        if claimed == 1:  # once: not fallen back yet
            if permanent and row.channel == Channel.SMS and row.phone:
                await bad_addresses.mark(session, "sms", row.phone, error)
            fell_back = await fall_back(session, row) is not None
        elif not await statuses.change(
            session,
            col(Notification.id) == row.id,
            col(Notification.status) != Status.DELIVERED,
            values=values,
            at=now,
        ):
            # Failed already (a repeated receipt): only its latest error is kept.
            await session.exec(
                update(Notification)
                .where(col(Notification.id) == row.id, col(Notification.status) == Status.FAILED)
                .values(last_error=values["last_error"])
            )
    await session.commit()
    if fell_back:
        delivery_of(runtime).wake()
    status = await session.scalar(select(Notification.status).where(Notification.id == row.id))
    return ReceiptResult(id=row.id, status=Status(status or row.status))


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ())) or "body"
    return f"{where}: {error.get('msg', 'invalid')}"
