"""A job's live steps, reported by its driver or dispatch: en route, on site, guest on board,
completed, no-show. Rules: transfer_service.live."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Body
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.principal import Principal, PrincipalDep
from sqlmodel import SQLModel

from transfer_service import access, audit, jobs, live
from transfer_service.api.common import SettingsDep
from transfer_service.api.routes.transfers import EXAMPLE
from transfer_service.config import Settings
from transfer_service.models import STRICT, TransferPublic

router = APIRouter(prefix="/api/v1/transfers", tags=["live"])
REFUSALS = {
    401: "unauthenticated: no signed-in caller",
    422: "validation_error: a body with any field (a step takes none)",
    403: "forbidden: only drivers and dispatchers report steps",
    404: "transfer_not_found: no such job, or (for a driver) not assigned to you",
}


class StepReport(SQLModel):
    """A step carries nothing but itself: no body, or an empty JSON object. A field sent (an
    `at`, a note) is refused (422, unknown field), never silently dropped: the step is
    timestamped when reported."""

    model_config = STRICT


async def step(
    session: SessionDep,
    settings: Settings,
    principal: Principal,
    transfer_id: str,
    which: live.Step,
) -> TransferPublic:
    visible = access.progress_jobs_of(principal)
    await live.report(session, settings, transfer_id, which, visible, audit.actor_of(principal))
    await session.commit()
    return await jobs.get_job(session, transfer_id)


def _route(
    path: str, which: live.Step, summary: str, doc: str, status: str, extra: dict[int, str]
) -> Callable[..., Awaitable[TransferPublic]]:
    async def report_step(
        session: SessionDep,
        settings: SettingsDep,
        principal: PrincipalDep,
        transfer_id: str,
        _body: Annotated[StepReport | None, Body()] = None,
    ) -> TransferPublic:
        return await step(session, settings, principal, transfer_id, which)

    name = f"report_transfer_{which.value}"
    report_step.__name__ = report_step.__qualname__ = name
    report_step.__doc__ = doc
    router.post(
        f"/{{transfer_id}}/{path}",
        response_model=TransferPublic,
        summary=summary,
        operation_id=name,
        responses={
            200: example(EXAMPLE | {"status": status}),
            **problems({**REFUSALS, **extra}),
        },
    )(report_step)
    return report_step


OUT_OF_ORDER = "invalid_transition: the job is not in a state this step follows"
report_transfer_en_route = _route(
    "en-route",
    live.Step.EN_ROUTE,
    "The driver has set off",
    "assigned -> en_route, timestamped; published as `transfer.status_changed`.",
    "en_route",
    {409: OUT_OF_ORDER},
)
report_transfer_on_site = _route(
    "on-site",
    live.Step.ON_SITE,
    "The driver is at the pickup point",
    "assigned or en_route -> driver_on_site, timestamped (starts the free waiting time's "
    "count for a no-show).",
    "driver_on_site",
    {409: OUT_OF_ORDER},
)
report_transfer_on_board = _route(
    "on-board",
    live.Step.ON_BOARD,
    "The guest is on board",
    "driver_on_site -> in_progress, timestamped; records `waiting_minutes`, the wait past the "
    "free waiting time (charged by the fare).",
    "in_progress",
    {409: OUT_OF_ORDER},
)
report_transfer_complete = _route(
    "complete",
    live.Step.COMPLETE,
    "The ride is over",
    "in_progress -> completed, timestamped; the receipt is issued and its number and fare are "
    "on the `transfer.status_changed` event and the job.",
    "completed",
    {409: OUT_OF_ORDER},
)
report_transfer_no_show = _route(
    "no-show",
    live.Step.NO_SHOW,
    "The guest did not come",
    "driver_on_site -> no_show, only once the driver's arrival is recorded and the free waiting "
    "time is over (60 min international, 45 domestic, 15 train; from the later of the pickup "
    "time and the driver's arrival).",
    "no_show",
    {409: "arrival_not_recorded, waiting_time_not_over (with no_show_from), " + OUT_OF_ORDER},
)
