"""Drivers: list and register them."""

from fastapi import APIRouter
from hotel_common.deps import SessionDep
from hotel_common.errors import ProblemError
from hotel_common.pagination import Cursor, Limit, Page, int_cursor, split_page
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from transfer_service.models import Driver, DriverCreate, DriverPublic, DriverStatus

router = APIRouter(prefix="/api/v1/drivers", tags=["drivers"])


@router.get("", response_model=Page[DriverPublic])
async def list_drivers(
    session: SessionDep,
    status: DriverStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DriverPublic]:
    query = select(Driver).order_by(col(Driver.id)).limit(limit + 1)
    if status is not None:
        query = query.where(Driver.status == status)
    if (after := int_cursor(cursor)) is not None:
        query = query.where(col(Driver.id) > after)
    rows, next_cursor = split_page((await session.exec(query)).all(), limit, lambda d: str(d.id))
    return Page[DriverPublic](
        items=[DriverPublic.model_validate(d) for d in rows], next_cursor=next_cursor
    )


@router.post("", status_code=201, response_model=DriverPublic)
async def create_driver(session: SessionDep, body: DriverCreate) -> DriverPublic:
    taken = select(Driver.id).where(Driver.licence_number == body.licence_number)
    if (await session.exec(taken)).first():
        raise _licence_taken(body.licence_number)
    driver = Driver.model_validate(body)
    session.add(driver)
    try:
        await session.commit()
    except IntegrityError as exc:  # registered concurrently
        raise _licence_taken(body.licence_number) from exc
    return DriverPublic.model_validate(driver)


def _licence_taken(licence: str) -> ProblemError:
    return ProblemError(
        409, "driver_licence_taken", f"A driver with licence number {licence} is registered."
    )
