"""Surveys: the guest's answer through the invitation's link (no sign-in), results per period
and aspect for marketing and managers, and the follow-up calls after stays for desk staff.
Who may do what: `guest_service.feedback_access`."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import NotFound, ProblemError, problems
from hotel_common.pagination import Page, PagingDep, keyset_page
from hotel_common.principal import PrincipalDep
from hotel_common.time import utcnow
from sqlmodel import col, select

from guest_service import feedback_access as access
from guest_service import surveys
from guest_service.api.routes.common import UNAUTHENTICATED
from guest_service.models.feedback import (
    ASPECTS,
    FollowUp,
    FollowUpCall,
    FollowUpOutcome,
    FollowUpPublic,
    FollowUpStatus,
    SurveyAbout,
    SurveyAnswer,
    SurveyAnswered,
    SurveyInvitation,
    SurveyResults,
)
from guest_service.surveys import Period

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"])

Token = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
MAX_RESULT_DAYS = 3 * 366
TOKEN_PROBLEMS = {
    404: "survey_not_found: the link is not valid",
    409: "survey_answered: the survey has been answered already",
    410: "survey_expired: the link has expired",
}
FOLLOW_UP: dict[str, Any] = {
    "id": "5d1c7e0a-2b3f-4c5d-8e9f-0a1b2c3d4e5f",
    "reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
    "confirmation_number": "HV-7K3Q9D",
    "guest_id": "3c2b1a09-8f7e-4d6c-b5a4-93827160fedc",
    "name": "Lin Mei",
    "phone": "+8613900139000",
    "email": "lin.mei@example.com",
    "language": "zh-Hans",
    "checked_out_on": "2030-06-03",
    "due_on": "2030-06-10",
    "overdue": False,
    "priority": True,
    "status": "open",
    "attempts": 0,
    "last_outcome": None,
    "called_at": None,
    "called_by": None,
    "satisfaction": None,
    "problems": None,
    "suggestions": None,
    "plans_to_return": None,
}


@router.get(
    "/results",
    summary="Survey results per period and aspect",
    dependencies=[access.may_read_results],
    responses={
        200: example(
            {
                "period": "month",
                "periods": [
                    {
                        "period": "2030-06",
                        "about": None,
                        "responses": 40,
                        "promoters": 24,
                        "passives": 10,
                        "detractors": 6,
                        "nps": 45.0,
                        "aspects": [
                            {"aspect": a, "responses": 38, "average": 4.3} for a in ASPECTS
                        ],
                    }
                ],
            }
        ),
        **problems(
            {
                **UNAUTHENTICATED,
                403: "forbidden: marketing and managers only",
                422: "invalid_period: `from` after `to`, or more than three years",
            }
        ),
    },
)
async def survey_results(
    session: SessionDep,
    since: Annotated[date, Query(alias="from", description="First day (ISO date)")],
    until: Annotated[date, Query(alias="to", description="Last day (ISO date), inclusive")],
    period: Annotated[Period, Query(description="Group by day, week or month")] = "month",
    about: Annotated[SurveyAbout | None, Query(description="Stays or transfers only")] = None,
) -> SurveyResults:
    """Answers given from `from` to `to`, per period: how many, promoters (9-10), passives,
    detractors (0-6), the NPS (% promoters - % detractors) and each aspect's average rating
    (room, cleanliness, staff, transfer, value; 1-5). Anonymous answers count too."""
    if since > until or (until - since).days > MAX_RESULT_DAYS:
        raise ProblemError(
            422,
            "invalid_period",
            "`from` must not be after `to`, and the span at most three years.",
            errors=[{"field": "query.from", "message": "invalid period"}],
        )
    return await surveys.results(session, since, until, period, about)


@router.get(
    "/follow-ups",
    summary="Follow-up calls after stays",
    dependencies=[access.may_follow_up],
    responses={
        200: example({"items": [FOLLOW_UP], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, 403: "forbidden: desk staff only"}),
    },
)
async def list_follow_ups(
    session: SessionDep,
    paging: PagingDep,
    status_: Annotated[
        FollowUpStatus, Query(alias="status", description="open (default) or done")
    ] = FollowUpStatus.OPEN,
    due_before: Annotated[date | None, Query(description="Due on or before this day")] = None,
    priority: Annotated[bool | None, Query(description="Only the flagged ones")] = None,
) -> Page[FollowUpPublic]:
    """The calls to make within a week of check-out (manual: satisfaction, problems,
    suggestions, plans to return), soonest due first, with who to call. `priority`: a
    detractor's answer or a complaint about the stay."""
    query = select(FollowUp).where(FollowUp.status == status_)
    if due_before is not None:
        query = query.where(col(FollowUp.due_on) <= due_before)
    if priority is not None:
        query = query.where(FollowUp.priority == priority)
    page = await keyset_page(session, query, paging, col(FollowUp.due_on), col(FollowUp.id))
    today = utcnow().date()
    who = await surveys.addressees(session, page.items)
    shown = [_follow_up(f, w, today) for f, w in zip(page.items, who, strict=True)]
    return Page(items=shown, next_cursor=page.next_cursor)


def _follow_up(follow_up: FollowUp, who: dict[str, str | None], today: date) -> FollowUpPublic:
    data = follow_up.model_dump(mode="json", warnings=False)
    data["overdue"] = follow_up.status == FollowUpStatus.OPEN and follow_up.due_on < today
    return FollowUpPublic.model_validate(data | who)


@router.post(
    "/follow-ups/{follow_up_id}/calls",
    summary="Record a follow-up call",
    dependencies=[access.may_follow_up],
    responses={
        200: example(
            FOLLOW_UP
            | {
                "status": "done",
                "attempts": 1,
                "last_outcome": "reached",
                "called_at": "2030-06-05T09:30:00Z",
                "called_by": "staff:7",
                "satisfaction": 4,
                "plans_to_return": True,
            }
        ),
        **problems(
            {
                **UNAUTHENTICATED,
                403: "forbidden: desk staff only",
                404: "follow_up_not_found",
                409: "follow_up_done: the call was made already",
            }
        ),
    },
)
async def record_call(
    session: SessionDep, principal: PrincipalDep, follow_up_id: str, body: FollowUpCall
) -> FollowUpPublic:
    """What the call found. `reached` or `declined` completes the task; `no_answer` counts an
    attempt and keeps it open."""
    follow_up = await session.get(FollowUp, follow_up_id, with_for_update=True)
    if follow_up is None:
        raise NotFound("follow_up", follow_up_id)
    if follow_up.status == FollowUpStatus.DONE:
        raise ProblemError(409, "follow_up_done", "This follow-up call was made already.")
    now = utcnow()
    follow_up.attempts += 1
    follow_up.last_outcome = body.outcome
    follow_up.called_at = now
    follow_up.called_by = principal.id
    if body.outcome != FollowUpOutcome.NO_ANSWER:
        follow_up.status = FollowUpStatus.DONE
        follow_up.satisfaction = body.satisfaction
        follow_up.problems = body.problems
        follow_up.suggestions = body.suggestions
        follow_up.plans_to_return = body.plans_to_return
    session.add(follow_up)
    await session.commit()
    (who,) = await surveys.addressees(session, [follow_up])
    return _follow_up(follow_up, who, now.date())


@router.get(
    "/{token}",
    summary="Open a survey from its link",
    responses={
        200: example(
            {"about": "stay", "aspects": list(ASPECTS), "expires_at": "2030-06-18T09:00:00Z"}
        ),
        **problems({**TOKEN_PROBLEMS, 422: "the token is malformed"}),
    },
)
async def open_survey(session: SessionDep, token: Token) -> SurveyInvitation:
    """What the survey asks, for the page the invitation's link opens. No sign-in: the token
    is the key."""
    survey = await surveys.by_token(session, token, utcnow())
    return SurveyInvitation(about=survey.about, aspects=list(ASPECTS), expires_at=survey.expires_at)


@router.post(
    "/{token}/response",
    status_code=status.HTTP_201_CREATED,
    summary="Answer a survey",
    responses={
        201: example(
            {
                "id": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910",
                "about": "stay",
                "anonymous": True,
                "answered_on": "2030-06-05",
            },
            "Created",
        ),
        **problems(
            {**TOKEN_PROBLEMS, 422: "invalid answer: a rating outside 1-5, NPS outside 0-10"}
        ),
    },
)
async def answer_survey(session: SessionDep, token: Token, body: SurveyAnswer) -> SurveyAnswered:
    """The guest's ratings (room, cleanliness, staff, transfer, value: 1-5, each optional),
    NPS (0-10) and comments, once per link. `anonymous`: the answer is kept with no link to
    the guest or the stay (it still counts in the results)."""
    response = await surveys.answer(session, token, body, utcnow())
    await session.commit()
    return SurveyAnswered(
        id=response.id,
        about=response.about,
        anonymous=response.anonymous,
        answered_on=response.answered_on,
    )
