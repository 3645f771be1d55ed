"""Fares and receipts (issue 18, Money and quality).

CONTRACT (the body is the money helper's to write): `price` gives a job's fare for a vehicle
class; `issue_receipt` issues the receipt of a completed job once (a second call returns the
first receipt). Until written, a job has no fare and no receipt.
"""

from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.config import Settings
from transfer_service.models import Receipt, TransferJob, Vehicle


async def price(
    session: AsyncSession, job: TransferJob, vehicle_class: str, settings: Settings
) -> tuple[int, str] | None:
    """The fare of `job` in `vehicle_class` (minor units, currency); None: no fare recorded."""
    return None


async def issue_receipt(
    session: AsyncSession, job: TransferJob, vehicle: Vehicle | None, settings: Settings
) -> Receipt | None:
    """The receipt of the completed `job`, issued once; None: nothing to charge is known."""
    return None
