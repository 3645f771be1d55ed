"""The "feedback" part of a guest's lifecycle (lifecycle.py): surveys, answers, follow-up calls
and complaints held for the profile.

Export: all of it (anonymous answers are linked to nobody, so they are nobody's to export).
Erase: the person goes, the numbers stay: ratings and NPS are kept, comments, contact copies,
call notes and the complaints' own words are removed, and no row points at the profile.
Merge: every row of the absorbed profile moves to the survivor; the memo lists the ids per
table so the undo moves exactly those back.
"""

from typing import Any

from hotel_common.erasure import ERASED_NAME
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import lifecycle
from guest_service.models.complaints import Complaint, ComplaintStep
from guest_service.models.feedback import FollowUp, Survey, SurveyResponse

ERASED_TEXT = "(erased)"
TABLES: dict[str, Any] = {
    "surveys": Survey,
    "survey_responses": SurveyResponse,
    "follow_ups": FollowUp,
    "complaints": Complaint,
}


def _row(row: Any, *drop: str) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude={"token_hash", *drop}, warnings=False)


class FeedbackPart:
    name = "feedback"

    async def _rows(self, session: AsyncSession, model: Any, guest_id: str) -> list[Any]:
        query = select(model).where(model.guest_id == guest_id).order_by(col(model.id))
        return list((await session.exec(query)).all())

    async def export(self, session: AsyncSession, guest_id: str) -> Any:
        complaints = await self._rows(session, Complaint, guest_id)
        steps: dict[str, list[dict[str, Any]]] = {}
        if complaints:
            query = (
                select(ComplaintStep)
                .where(col(ComplaintStep.complaint_id).in_([c.id for c in complaints]))
                .order_by(col(ComplaintStep.at), col(ComplaintStep.id))
            )
            for step in (await session.exec(query)).all():
                steps.setdefault(step.complaint_id, []).append(_row(step))
        return {
            "surveys": [_row(s) for s in await self._rows(session, Survey, guest_id)],
            "survey_responses": [
                _row(r) for r in await self._rows(session, SurveyResponse, guest_id)
            ],
            "follow_ups": [_row(f) for f in await self._rows(session, FollowUp, guest_id)],
            "complaints": [_row(c) | {"steps": steps.get(c.id, [])} for c in complaints],
        }

    async def erase(self, session: AsyncSession, guest_id: str) -> None:
        complaint_ids = [c.id for c in await self._rows(session, Complaint, guest_id)]
        await session.exec(
            update(SurveyResponse)
            .where(col(SurveyResponse.guest_id) == guest_id)
            .values(guest_id=None, comments=None)
        )
        await session.exec(
            update(Survey)
            .where(col(Survey.guest_id) == guest_id)
            .values(guest_id=None, name=None, email=None, phone=None)
        )
        await session.exec(
            update(FollowUp)
            .where(col(FollowUp.guest_id) == guest_id)
            .values(guest_id=None, problems=None, suggestions=None)
        )
        await session.exec(
            update(Complaint)
            .where(col(Complaint.guest_id) == guest_id)
            .values(
                guest_id=None,
                name=ERASED_NAME,
                email=None,
                phone=None,
                subject=ERASED_TEXT,
                description=None,
                demand=None,
                guest_reaction=None,
            )
        )
        if complaint_ids:  # staff notes on the steps may quote the guest
            await session.exec(
                update(ComplaintStep)
                .where(col(ComplaintStep.complaint_id).in_(complaint_ids))
                .values(note=None)
            )

    async def merge(self, session: AsyncSession, survivor_id: str, absorbed_id: str) -> Any:
        memo: dict[str, list[str]] = {}
        for key, model in TABLES.items():
            ids = [r.id for r in await self._rows(session, model, absorbed_id)]
            if ids:
                await session.exec(
                    update(model).where(col(model.id).in_(ids)).values(guest_id=survivor_id)
                )
            memo[key] = ids
        return memo

    async def unmerge(
        self, session: AsyncSession, survivor_id: str, absorbed_id: str, memo: Any
    ) -> None:
        for key, model in TABLES.items():
            ids = list(memo.get(key, []))
            if ids:
                await session.exec(
                    update(model)
                    .where(col(model.id).in_(ids), col(model.guest_id) == survivor_id)
                    .values(guest_id=absorbed_id)
                )


PART = lifecycle.register(FeedbackPart())
