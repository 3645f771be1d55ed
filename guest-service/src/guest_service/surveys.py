"""Surveys: scheduled when a stay ends or a ride is completed, sent after a delay as
`SurveyRequested` (notification-service delivers the link), answered once through the link's
token without signing in, counted per period and aspect with the NPS.

The token is made when the invitation is sent and only its sha256 is kept: the link lives in
the invitation alone, and a database read does not reveal a working link.
"""

import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from hotel_common.contracts.guests import SurveyAnswered, SurveyRequested
from hotel_common.contracts.reservations import GuestContact as BookingGuest
from hotel_common.contracts.reservations import ReservationCheckedOut
from hotel_common.contracts.transfers import TransferStatusChanged
from hotel_common.errors import ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.time import as_utc, utcnow
from hotel_common.uniques import try_insert
from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, history
from guest_service.config import Settings
from guest_service.contacts import booking_email
from guest_service.models import ContactKind, Guest, GuestContact, GuestStatus
from guest_service.models.feedback import (
    ASPECTS,
    AspectResult,
    FollowUp,
    PeriodResult,
    Survey,
    SurveyAbout,
    SurveyAnswer,
    SurveyResponse,
    SurveyResults,
    SurveyStatus,
)
from guest_service.models.stays import GuestStay

log = logging.getLogger(__name__)

SEND_BATCH = 200  # surveys sent per worker step; the next step takes the rest
PROMOTER, DETRACTOR = 9, 6  # NPS: 9-10 promote, 0-6 detract
Period = Literal["day", "week", "month"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def guest_of_stay(session: AsyncSession, reservation_id: str | None) -> str | None:
    """The profile the booking's stay is linked to (None: no booking, or not linked)."""
    if reservation_id is None:
        return None
    query = select(GuestStay.guest_id).where(GuestStay.reservation_id == reservation_id)
    return (await session.exec(query)).first()


async def _guest_of(
    session: AsyncSession, reservation_id: str | None, guest: BookingGuest
) -> str | None:
    """The profile the stay is linked to, else the one holding the guest's email."""
    found = await guest_of_stay(session, reservation_id)
    if found is not None:
        return found
    email = booking_email(guest.email)
    holders = await contact_book.holders(session, ContactKind.EMAIL, email) if email else []
    return holders[0] if holders else None


async def _erased(session: AsyncSession, guest_id: str | None) -> bool:
    """Is the stay's guest erased? An event on its way when they were (a check-out, a ride)
    still carries their name and contacts: no survey may bring those back."""
    if guest_id is None:
        return False
    guest = await session.get(Guest, guest_id)
    return guest is not None and guest.status == GuestStatus.ERASED


async def _schedule(session: AsyncSession, survey: Survey) -> Survey | None:
    """Insert the survey once per subject: None when it was scheduled already (a redelivery
    or a racing twin)."""
    query = select(Survey.id).where(Survey.subject == survey.subject)
    if (await session.exec(query)).first() is not None:
        return None
    return survey if await try_insert(session, survey) else None


def _addressee(guest: BookingGuest) -> dict[str, Any]:
    return {
        "name": guest.name,
        "email": booking_email(guest.email),
        "phone": guest.phone,
        "language": guest.language,
    }


async def after_checkout(
    session: AsyncSession, settings: Settings, checkout: ReservationCheckedOut
) -> Survey | None:
    """Schedule the stay's survey and its follow-up call, once per reservation."""
    guest_id = await _guest_of(session, checkout.reservation_id, checkout.guest)
    if await _erased(session, guest_id):
        return None
    now = utcnow()
    survey = await _schedule(
        session,
        Survey(
            subject=f"stay:{checkout.reservation_id}",
            about=SurveyAbout.STAY,
            guest_id=guest_id,
            reservation_id=checkout.reservation_id,
            send_at=now + timedelta(hours=settings.survey_delay_hours_after_checkout),
            **_addressee(checkout.guest),
        ),
    )
    if survey is None:
        return None
    session.add(
        FollowUp(
            reservation_id=checkout.reservation_id,
            confirmation_number=checkout.confirmation_number,
            guest_id=guest_id,
            survey_id=survey.id,
            checked_out_on=checkout.check_out,
            due_on=checkout.check_out + timedelta(days=settings.follow_up_days),
        )
    )
    await session.flush()
    return survey


async def after_transfer(
    session: AsyncSession, settings: Settings, change: TransferStatusChanged
) -> Survey | None:
    """Schedule a completed ride's survey, once per transfer; other steps schedule nothing."""
    if change.status != "completed":
        return None
    guest_id = await _guest_of(session, change.reservation_id, change.guest)
    if await _erased(session, guest_id):
        return None
    survey = await _schedule(
        session,
        Survey(
            subject=f"transfer:{change.transfer_id}",
            about=SurveyAbout.TRANSFER,
            guest_id=guest_id,
            reservation_id=change.reservation_id,
            transfer_id=change.transfer_id,
            send_at=as_utc(change.at) + timedelta(hours=settings.survey_delay_hours_after_transfer),
            **_addressee(change.guest),
        ),
    )
    if survey is not None:
        await session.flush()
    return survey


class SurveyHandlers:
    """The consumers (handlers.py subscribes them), with the service's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def checked_out(self, session: AsyncSession, checkout: ReservationCheckedOut) -> None:
        survey = await after_checkout(session, self.settings, checkout)
        if survey is not None:
            log.info(
                "stay survey scheduled",
                extra={"survey_id": survey.id, "reservation_id": checkout.reservation_id},
            )

    async def transfer_changed(self, session: AsyncSession, change: TransferStatusChanged) -> None:
        survey = await after_transfer(session, self.settings, change)
        if survey is not None:
            log.info(
                "transfer survey scheduled",
                extra={"survey_id": survey.id, "transfer_id": change.transfer_id},
            )


async def send_due(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Send every survey due by `now` (a worker step; tests call it with their `now`): a fresh
    token each, `SurveyRequested` in the same transaction. Returns how many went."""
    query = (
        select(Survey)
        .where(Survey.status == SurveyStatus.SCHEDULED, col(Survey.send_at) <= now)
        .order_by(col(Survey.send_at), col(Survey.id))
        .limit(SEND_BATCH)
        .with_for_update(skip_locked=True)  # replicas share the work (PostgreSQL)
    )
    due = list((await session.exec(query)).all())
    base = settings.survey_link_base.rstrip("/")
    for survey in due:
        token = secrets.token_urlsafe(24)
        survey.token_hash = token_hash(token)
        survey.status = SurveyStatus.SENT
        survey.sent_at = now
        survey.expires_at = now + timedelta(days=settings.survey_valid_days)
        session.add(survey)
        add_event(
            session,
            SurveyRequested(
                survey_id=survey.id,
                guest_id=survey.guest_id,
                about=str(survey.about),
                reservation_id=survey.reservation_id,
                transfer_id=survey.transfer_id,
                name=survey.name or "Guest",
                email=survey.email,
                phone=survey.phone,
                language=survey.language,
                survey_url=f"{base}/{token}",
                expires_at=survey.expires_at,
            ),
        )
    await session.flush()
    if due:
        log.info("surveys sent", extra={"count": len(due)})
    return len(due)


async def by_token(session: AsyncSession, token: str, now: datetime, lock: bool = False) -> Survey:
    """The open survey of `token`: 404 unknown, 409 answered already, 410 expired. `lock`:
    two answers at once are taken one after the other (PostgreSQL row lock), so the second
    finds the survey answered."""
    query = select(Survey).where(Survey.token_hash == token_hash(token))
    if lock:
        query = query.with_for_update()
    survey = (await session.exec(query)).first()
    if survey is None:
        raise ProblemError(404, "survey_not_found", "This survey link is not valid.")
    if survey.status == SurveyStatus.ANSWERED:
        raise ProblemError(409, "survey_answered", "This survey has been answered already.")
    if survey.expires_at is not None and as_utc(survey.expires_at) <= now:
        raise ProblemError(410, "survey_expired", "This survey link has expired.")
    return survey


async def answer(
    session: AsyncSession, token: str, body: SurveyAnswer, now: datetime
) -> SurveyResponse:
    """Record the answer of `token`'s survey, once. An anonymous answer keeps no link to the
    survey, the stay or the profile; a signed one counts as feedback the guest gave."""
    survey = await by_token(session, token, now, lock=True)
    ratings = body.ratings
    anonymous = body.anonymous
    response = SurveyResponse(
        survey_id=None if anonymous else survey.id,
        guest_id=None if anonymous else survey.guest_id,
        reservation_id=None if anonymous else survey.reservation_id,
        about=survey.about,
        anonymous=anonymous,
        answered_on=now.date(),
        nps=body.nps,
        comments=body.comments or None,
        **{f"rating_{a}": getattr(ratings, a) for a in ASPECTS},
    )
    survey.status = SurveyStatus.ANSWERED
    survey.answered_at = now
    session.add_all([survey, response])
    # Issue 20: its follow-up is not sent. The survey's id only (an anonymous answer names no
    # stay or ride): notification-service knows whom it invited.
    add_event(
        session,
        SurveyAnswered(
            survey_id=survey.id,
            reservation_id=None if anonymous else survey.reservation_id,
            transfer_id=None if anonymous else survey.transfer_id,
        ),
    )
    if not anonymous and survey.guest_id is not None:
        await history.note_feedback(session, survey.guest_id, kind="survey", reference=survey.id)
        if body.nps <= DETRACTOR and survey.reservation_id is not None:
            await flag_follow_up(session, survey.reservation_id)
    await session.flush()
    return response


async def flag_follow_up(session: AsyncSession, reservation_id: str) -> None:
    """Put the stay's open follow-up call first (a detractor, a complaint)."""
    query = select(FollowUp).where(FollowUp.reservation_id == reservation_id)
    follow_up = (await session.exec(query)).first()
    if follow_up is not None and not follow_up.priority:
        follow_up.priority = True
        session.add(follow_up)


# -- results ----------------------------------------------------------------------------------
def period_of(day: date, period: Period) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def _nps(promoters: int, detractors: int, responses: int) -> float | None:
    if responses == 0:
        return None
    return round(100 * (promoters - detractors) / responses, 1)


async def results(
    session: AsyncSession,
    since: date,
    until: date,
    period: Period,
    about: SurveyAbout | None,
) -> SurveyResults:
    """Answers from `since` to `until` (inclusive) per period: counts, NPS, each aspect's
    average. The database sums per day; days roll up into weeks and months here (sums and
    counts add up, so nothing is averaged twice)."""
    r = SurveyResponse
    columns: list[Any] = [
        r.answered_on,
        r.about,
        func.count(),
        func.sum(case((col(r.nps) >= PROMOTER, 1), else_=0)),
        func.sum(case((col(r.nps) <= DETRACTOR, 1), else_=0)),
    ]
    for aspect in ASPECTS:
        rating = getattr(r, f"rating_{aspect}")
        columns += [func.count(rating), func.coalesce(func.sum(rating), 0)]
    query = (
        select(*columns)
        .where(col(r.answered_on) >= since, col(r.answered_on) <= until)
        .group_by(r.answered_on, r.about)
    )
    if about is not None:
        query = query.where(r.about == about)
    totals: dict[str, list[int]] = defaultdict(lambda: [0] * (3 + 2 * len(ASPECTS)))
    for row in (await session.exec(query)).all():
        key = period_of(row[0], period)
        sums = totals[key]
        for i, value in enumerate(row[2:]):
            sums[i] += int(value or 0)
    return SurveyResults(
        period=period, periods=[_period(key, about, totals[key]) for key in sorted(totals)]
    )


def _period(key: str, about: SurveyAbout | None, sums: Sequence[int]) -> PeriodResult:
    responses, promoters, detractors = sums[0], sums[1], sums[2]
    aspects = []
    for i, aspect in enumerate(ASPECTS):
        count, total = sums[3 + 2 * i], sums[4 + 2 * i]
        average = round(total / count, 2) if count else None
        aspects.append(AspectResult(aspect=aspect, responses=count, average=average))
    return PeriodResult(
        period=key,
        about=about,
        responses=responses,
        promoters=promoters,
        passives=responses - promoters - detractors,
        detractors=detractors,
        nps=_nps(promoters, detractors, responses),
        aspects=aspects,
    )


async def addressees(
    session: AsyncSession, follow_ups: Sequence[FollowUp]
) -> list[dict[str, str | None]]:
    """Who to call for each follow-up (a page at a time: one query per table, not per row):
    the active profile's name and primary contacts, else what the booking carried (the
    survey's copy)."""
    survey_ids = [f.survey_id for f in follow_ups if f.survey_id is not None]
    guest_ids = [f.guest_id for f in follow_ups if f.guest_id is not None]
    found: dict[str, Survey] = {}
    if survey_ids:
        query = select(Survey).where(col(Survey.id).in_(survey_ids))
        found = {s.id: s for s in (await session.exec(query)).all()}
    active: dict[str, Guest] = {}
    if guest_ids:
        query_g = select(Guest).where(
            col(Guest.id).in_(guest_ids), Guest.status == GuestStatus.ACTIVE
        )
        active = {g.id: g for g in (await session.exec(query_g)).all()}
    contacts = await contact_book.contacts_for(session, active)
    shown = []
    for follow_up in follow_ups:
        guest = active.get(follow_up.guest_id) if follow_up.guest_id else None
        survey = found.get(follow_up.survey_id) if follow_up.survey_id else None
        shown.append(_who(guest, contacts.get(guest.id, []) if guest else [], survey))
    return shown


def _who(
    guest: Guest | None, contacts: Sequence[GuestContact], survey: Survey | None
) -> dict[str, str | None]:
    if guest is not None:
        return {
            "name": guest.name,
            "email": contact_book.primary(contacts, ContactKind.EMAIL),
            "phone": contact_book.primary(contacts, ContactKind.PHONE),
            "language": guest.language,
        }
    if survey is not None:
        return {
            "name": survey.name,
            "email": survey.email,
            "phone": survey.phone,
            "language": survey.language,
        }
    return {"name": None, "email": None, "phone": None, "language": None}
