"""The receipt of a completed transfer job, to whoever may see the job."""

from typing import Any

from fastapi import APIRouter
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.principal import PrincipalDep

from transfer_service import access, fares
from transfer_service.models import ReceiptPublic

router = APIRouter(prefix="/api/v1/transfers", tags=["transfers"])

EXAMPLE: dict[str, Any] = {
    "number": "TR-20300601-000042",
    "transfer_id": "6f1c2a9e-3b7d-4e0a-9c51-2d8e4f7a1b3c",
    "amount": 59400,
    "currency": "CNY",
    "lines": [
        {"code": "base", "amount": 42000, "note": "van fare"},
        {"code": "night_surcharge", "amount": 8400, "note": "night pickup (20% of the fare)"},
        {"code": "waiting", "amount": 9000, "note": "35 min past the free wait"},
    ],
    "issued_at": "2030-06-01T15:40:00Z",
}


@router.get(
    "/{transfer_id}/receipt",
    response_model=ReceiptPublic,
    summary="Get a job's receipt",
    responses={
        200: example(EXAMPLE),
        **problems(
            {
                401: "unauthenticated: no signed-in caller",
                403: "forbidden: housekeeping, marketing, reservations and partners",
                404: "transfer_not_found (no such job, or not yours) or receipt_not_found "
                "(not completed yet, or nothing to charge)",
            }
        ),
    },
)
async def get_transfer_receipt(
    session: SessionDep, principal: PrincipalDep, transfer_id: str
) -> ReceiptPublic:
    """The receipt issued when the job completed: base fare, night surcharge, waiting charge,
    or an `included` line when the booking's rate plan includes transfers (amount 0). Whoever
    may see the job (see List transfer jobs) may see its receipt."""
    return await fares.receipt_of(session, transfer_id, access.jobs_visible_to(principal))
