"""Surveys after a stay and after a ride: sent after a delay with a one-time link, answered by
the guest without signing in (anonymously if they wish), counted per period and aspect with the
NPS; and the follow-up call after the stay, on the staff's task list."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from guest_service import surveys
from guest_service.feedback_part import PART
from guest_service.models.feedback import SurveyAnswer
from hotel_common.contracts.reservations import GuestContact
from hotel_common.contracts.transfers import TransferStatusChanged
from hotel_common.db import transaction
from hotel_common.testing import assert_problem, eventually, reservation_checked_out
from hotel_common.time import utcnow
from sqlalchemy import text

from .conftest import booking
from .feedback_helpers import ANON, FRONT_DESK, MARKETING, Feedback, as_, feedback_service

DAY = timedelta(days=1)


@pytest.fixture
async def fb(tmp_path: Path) -> AsyncIterator[Feedback]:
    async with feedback_service(tmp_path, feedback_interval_seconds=3600) as service:
        yield service


async def checked_out(fb: Feedback, email: str) -> tuple[str, str]:
    """A guest who booked and checked out: (guest id, reservation id), once the follow-up call
    is on the list (the survey is scheduled in the same transaction)."""
    today = utcnow().date()
    booked = booking(email=email, check_in=today - 3 * DAY, check_out=today - DAY)
    fb.deliver(booked)
    guest_id = await fb.guest_id(email)
    fb.deliver(reservation_checked_out(booked))
    await eventually(
        lambda: follow_ups(fb),
        until=lambda items: any(f["reservation_id"] == booked.reservation_id for f in items),
    )
    return guest_id, booked.reservation_id


async def follow_ups(fb: Feedback, **params: Any) -> list[dict[str, Any]]:
    response = await fb.client.get("/api/v1/surveys/follow-ups", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def sent_token(fb: Feedback, hours_later: float = 25) -> tuple[str, dict[str, Any]]:
    """Run the worker's step `hours_later` from now; the one invitation it sent and its
    token."""
    sent, _ = await fb.step(utcnow() + timedelta(hours=hours_later))
    assert sent == 1
    invitation = (await fb.published("feedback.survey_requested"))[-1]
    return invitation["survey_url"].rsplit("/", 1)[-1], invitation


def answer(**changes: Any) -> dict[str, Any]:
    return {
        "ratings": {"room": 5, "cleanliness": 4, "staff": 5, "value": 3},
        "nps": 9,
        "comments": "Lovely view, slow lift.",
    } | changes


async def results(fb: Feedback, **params: Any) -> dict[str, Any]:
    today = utcnow().date()
    query = {"from": (today - DAY).isoformat(), "to": (today + DAY).isoformat()} | params
    response = await fb.client.get("/api/v1/surveys/results", params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_stay_survey_goes_out_after_the_delay_and_is_answered_once(fb: Feedback) -> None:
    guest_id, reservation_id = await checked_out(fb, "lin.mei@example.com")

    assert await fb.step(utcnow() + timedelta(hours=1)) == (0, 0)  # not yet: a day after
    token, invitation = await sent_token(fb)
    assert invitation["about"] == "stay"
    assert invitation["guest_id"] == guest_id
    assert invitation["reservation_id"] == reservation_id
    assert invitation["email"] == "lin.mei@example.com"
    assert invitation["survey_url"].startswith("http://127.0.0.1:8000/survey/")

    opened = await fb.client.get(f"/api/v1/surveys/{token}", headers=ANON)
    assert opened.status_code == 200, opened.text
    assert opened.json()["aspects"] == ["room", "cleanliness", "staff", "transfer", "value"]

    answered = await fb.client.post(
        f"/api/v1/surveys/{token}/response", json=answer(), headers=ANON
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["anonymous"] is False
    again = await fb.client.post(f"/api/v1/surveys/{token}/response", json=answer(), headers=ANON)
    assert_problem(again, 409, "survey_answered")

    (month,) = (await results(fb))["periods"]
    assert (month["responses"], month["promoters"], month["detractors"]) == (1, 1, 0)
    assert month["nps"] == 100.0
    aspects = {a["aspect"]: a for a in month["aspects"]}
    assert aspects["room"]["average"] == 5.0 and aspects["value"]["average"] == 3.0
    assert aspects["transfer"] == {"aspect": "transfer", "responses": 0, "average": None}

    async with transaction(fb.runtime.sessions) as session:
        exported = await PART.export(session, guest_id)
    assert exported["survey_responses"][0]["comments"] == "Lovely view, slow lift."
    assert "token_hash" not in exported["surveys"][0]


async def test_a_redelivered_check_out_schedules_nothing_more(fb: Feedback) -> None:
    booked = booking(email="wu.hao@example.com")
    fb.deliver(booked)
    await fb.guest_id("wu.hao@example.com")
    checkout = fb.deliver(reservation_checked_out(booked))
    await eventually(lambda: follow_ups(fb), until=lambda items: len(items) == 1)
    fb.deliver(reservation_checked_out(booked))  # a new event of the same check-out
    fb.deliver(checkout)  # and the same envelope again
    await sent_token(fb)
    assert await fb.step(utcnow() + timedelta(days=2)) == (0, 0)
    assert len(await follow_ups(fb)) == 1


async def test_an_anonymous_answer_counts_but_is_linked_to_nobody(fb: Feedback) -> None:
    guest_id, _ = await checked_out(fb, "zhao.lei@example.com")
    token, _ = await sent_token(fb)

    answered = await fb.client.post(
        f"/api/v1/surveys/{token}/response",
        json=answer(nps=3, anonymous=True, comments="Rude porter."),
        headers=ANON,
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["anonymous"] is True

    (month,) = (await results(fb))["periods"]
    assert (month["responses"], month["detractors"], month["nps"]) == (1, 1, -100.0)
    async with transaction(fb.runtime.sessions) as session:
        exported = await PART.export(session, guest_id)
    assert exported["survey_responses"] == []  # nothing ties the answer to the guest
    # ...and a detractor who stays anonymous does not put their stay's call first
    assert [f["priority"] for f in await follow_ups(fb)] == [False]


async def test_bad_answers_are_refused_and_write_nothing(fb: Feedback) -> None:
    await checked_out(fb, "qian.yu@example.com")
    token, _ = await sent_token(fb)
    url = f"/api/v1/surveys/{token}/response"

    for body in (
        answer(nps=11),
        answer(ratings={"room": 0}),
        answer(ratings={"room": 6}),
        answer(ratings={"spa": 4}),
        answer(mood="happy"),
        {"ratings": {"room": 4}},  # no NPS
        answer(comments="bad\x00byte"),
    ):
        response = await fb.client.post(url, json=body, headers=ANON)
        assert response.status_code == 422, (body, response.text)
    unknown = await fb.client.post(
        "/api/v1/surveys/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/response", json=answer(), headers=ANON
    )
    assert_problem(unknown, 404, "survey_not_found")

    assert (await results(fb))["periods"] == []
    assert (await fb.client.post(url, json=answer(), headers=ANON)).status_code == 201


async def test_an_expired_link_is_refused(fb: Feedback) -> None:
    await checked_out(fb, "sun.li@example.com")
    token, _invitation = await sent_token(fb)
    async with transaction(fb.runtime.sessions) as session:
        late = utcnow() + timedelta(days=30)
        with pytest.raises(Exception) as refused:
            await surveys.answer(session, token, SurveyAnswer(nps=8), late)
    assert getattr(refused.value, "code", None) == "survey_expired"


async def test_a_completed_ride_gets_its_own_survey(fb: Feedback) -> None:
    guest = GuestContact(name="Emily Carter", email="emily.carter@example.com", language="en")
    ride: dict[str, Any] = {
        "transfer_id": "ride-1",
        "reservation_id": None,
        "previous_status": "in_progress",
        "at": utcnow(),
        "guest": guest,
        "property_timezone": "Asia/Shanghai",
    }
    fb.deliver(TransferStatusChanged(status="en_route", **ride), "transfer-service")
    fb.deliver(TransferStatusChanged(status="completed", **ride), "transfer-service")

    async def sent() -> int:
        return (await fb.step(utcnow() + timedelta(hours=3)))[0]

    assert await eventually(sent) == 1  # the completed step only
    (invitation,) = await fb.published("feedback.survey_requested")
    assert (invitation["about"], invitation["transfer_id"]) == ("transfer", "ride-1")
    assert (invitation["name"], invitation["language"]) == ("Emily Carter", "en")


async def test_the_follow_up_call_is_on_the_list_until_someone_reaches_the_guest(
    fb: Feedback,
) -> None:
    _, reservation_id = await checked_out(fb, "he.jun@example.com")
    token, _ = await sent_token(fb)
    await fb.client.post(f"/api/v1/surveys/{token}/response", json=answer(nps=4), headers=ANON)

    (task,) = await follow_ups(fb)
    assert task["reservation_id"] == reservation_id
    assert task["priority"] is True  # a detractor: call them first
    assert (task["name"], task["email"]) == ("Li Wei", "he.jun@example.com")
    # within a week of check-out (yesterday): not overdue yet
    assert task["due_on"] == (utcnow().date() + 6 * DAY).isoformat()
    assert task["overdue"] is False
    calls = f"/api/v1/surveys/follow-ups/{task['id']}/calls"

    missed = await fb.client.post(calls, json={"outcome": "no_answer"}, headers=as_(FRONT_DESK))
    assert missed.status_code == 200, missed.text
    assert (missed.json()["status"], missed.json()["attempts"]) == ("open", 1)

    reached = await fb.client.post(
        calls,
        json={
            "outcome": "reached",
            "satisfaction": 3,
            "problems": "The lift was slow.",
            "plans_to_return": True,
        },
        headers=as_(FRONT_DESK),
    )
    assert reached.status_code == 200, reached.text
    done = reached.json()
    assert (done["status"], done["attempts"], done["called_by"]) == ("done", 2, "staff:desk-1")
    assert await follow_ups(fb) == []
    assert [f["id"] for f in await follow_ups(fb, status="done")] == [task["id"]]

    twice = await fb.client.post(calls, json={"outcome": "reached"}, headers=as_(FRONT_DESK))
    assert_problem(twice, 409, "follow_up_done")
    marketing = await fb.client.get("/api/v1/surveys/follow-ups", headers=as_(MARKETING))
    assert_problem(marketing, 403, "forbidden")


async def test_results_need_a_sane_period_and_a_reader(fb: Feedback) -> None:
    backwards = await fb.client.get(
        "/api/v1/surveys/results", params={"from": "2030-06-02", "to": "2030-06-01"}
    )
    assert_problem(backwards, 422, "invalid_period")
    desk = await fb.client.get(
        "/api/v1/surveys/results",
        params={"from": "2030-06-01", "to": "2030-06-30"},
        headers=as_(FRONT_DESK),
    )
    assert_problem(desk, 403, "forbidden")
    seen = await fb.client.get(
        "/api/v1/surveys/results",
        params={"from": "2030-06-01", "to": "2030-06-30", "period": "week"},
        headers=as_(MARKETING),
    )
    assert seen.status_code == 200 and seen.json() == {"period": "week", "periods": []}


def test_periods_are_named_by_day_iso_week_and_month() -> None:
    from datetime import date

    day = date(2030, 6, 3)
    assert surveys.period_of(day, "day") == "2030-06-03"
    assert surveys.period_of(day, "week") == "2030-W23"
    assert surveys.period_of(day, "month") == "2030-06"


async def test_a_check_out_that_arrives_after_the_guest_was_erased_sends_no_survey(
    fb: Feedback,
) -> None:
    """The check-out event was on its way when the guest was erased: it carries their name and
    contacts, which must not come back as a survey invitation (nor a follow-up call)."""
    email = "erased.before.checkout@example.com"
    today = utcnow().date()
    booked = booking(email=email, check_in=today - 3 * DAY, check_out=today - DAY)
    fb.deliver(booked)
    guest_id = await fb.guest_id(email)
    erased = await fb.client.post(f"/api/v1/guests/{guest_id}/erasure", json={"confirm": True})
    assert erased.status_code == 200, erased.text
    late = fb.deliver(reservation_checked_out(booked))
    await eventually(lambda: _handled(fb, late.id, "guest.survey_after_stay"), until=bool)
    sent, _ = await fb.step(utcnow() + timedelta(days=3))
    assert sent == 0
    assert await fb.published("feedback.survey_requested") == []
    assert await follow_ups(fb) == []


async def _handled(fb: Feedback, event_id: str, handler: str) -> bool:
    query = text("SELECT count(*) FROM processed_events WHERE event_id = :id AND handler = :h")
    async with fb.runtime.sessions() as session:
        rows = await session.execute(query, {"id": event_id, "h": handler})
        return bool(rows.scalar())


async def test_an_answer_is_announced_so_the_follow_up_is_not_sent(fb: Feedback) -> None:
    """Issue 20: notification-service drops the survey's follow-up on feedback.survey_answered,
    published in the answer's transaction, once."""
    _, reservation_id = await checked_out(fb, "answered@example.com")
    token, invitation = await sent_token(fb)
    assert await fb.published("feedback.survey_answered") == []

    answered = await fb.client.post(
        f"/api/v1/surveys/{token}/response", json=answer(), headers=ANON
    )
    assert answered.status_code == 201, answered.text
    again = await fb.client.post(f"/api/v1/surveys/{token}/response", json=answer(), headers=ANON)
    assert again.status_code != 201

    (event,) = await fb.published("feedback.survey_answered")
    assert event["survey_id"] == invitation["survey_id"]
    assert event["reservation_id"] == reservation_id
