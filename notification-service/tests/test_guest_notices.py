"""Issue 19 through the service: guest-service's events in, notices listed. The guest's contact
preferences decide the language, the channel and, for a notice that can wait, the hour; marketing
needs consent; an erased guest leaves no address, text or wishes behind, only counts."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hotel_common.contracts.guests import QuietHours
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.testing import columns_holding, eventually, guest_contact, scratch_url
from hotel_common.time import utcnow

from .conftest import Samples, Service, StartService

EMAIL, PHONE = Samples.EMAIL, Samples.PHONE


async def handled(svc: Service, *envelopes: Envelope) -> None:
    """Wait until the service has handled these events (the inbox's record; no API shows it),
    so that "no notice" is an answer, not a race."""
    ids = [e.id for e in envelopes]

    async def count() -> int:
        async with svc.app.state.runtime.engine.connect() as conn:
            query = sa.text(
                "SELECT count(DISTINCT event_id) FROM processed_events WHERE event_id IN :ids"
            )
            found = await conn.scalar(
                query.bindparams(sa.bindparam("ids", expanding=True)), {"ids": ids}
            )
            return int(found or 0)

    await eventually(count, lambda n: n == len(ids))


async def all_notices(svc: Service) -> list[dict[str, Any]]:
    return await svc.notices(limit=100)


def quiet_now() -> QuietHours:
    """Quiet hours (UTC) from an hour ago to an hour ahead: now is inside them."""
    now = utcnow()
    return QuietHours(
        start=f"{now - timedelta(hours=1):%H:%M}",
        end=f"{now + timedelta(hours=1):%H:%M}",
        timezone="UTC",
    )


async def test_a_booking_notice_speaks_the_guests_preferred_language(
    start_service: StartService, samples: Samples
) -> None:
    booking = samples.confirmed("en", guest=guest_contact("en", email=EMAIL, phone=None))
    async with start_service() as svc:
        await handled(svc, svc.deliver(samples.preferences(language="zh-Hant", quiet_hours=None)))
        svc.deliver(booking)
        notice = await svc.wait_for(booking.reservation_id, lambda n: n["status"] == "logged")
    assert (notice["channel"], notice["email"], notice["language"]) == ("email", EMAIL, "zh-Hant")


async def test_the_guests_first_channel_is_used_and_a_withdrawn_one_avoided(
    start_service: StartService, samples: Samples
) -> None:
    by_text = samples.preferences(channels=["sms", "email"], quiet_hours=None)
    no_mail = samples.preferences(
        channels=["email", "sms"],
        quiet_hours=None,
        consents=[samples.consent("email", "service", False)],
        aggregate_version=3,
    )
    first, second = samples.survey("en"), samples.survey("en")
    async with start_service() as svc:
        await handled(svc, svc.deliver(by_text))
        await handled(svc, svc.deliver(first))
        await handled(svc, svc.deliver(no_mail))
        await handled(svc, svc.deliver(second))
        found = await eventually(lambda: all_notices(svc), lambda ns: len(ns) == 2)
    channels = {n["reservation_id"]: (n["channel"], n["email"]) for n in found}
    assert channels == {
        first.reservation_id: ("sms", ""),
        second.reservation_id: ("sms", ""),  # mail withdrawn for service: the phone is left
    }
    assert {n["kind"] for n in found} == {"survey_invitation"}


async def test_a_birthday_greeting_needs_marketing_consent(
    start_service: StartService, samples: Samples
) -> None:
    silent, allowed = samples.birthday("en"), samples.birthday("en")
    consented = samples.preferences(
        quiet_hours=None,
        consents=[samples.consent("sms", "marketing", True)],
        aggregate_version=3,
    )
    async with start_service() as svc:
        await handled(svc, svc.deliver(samples.preferences(quiet_hours=None)))
        await handled(svc, svc.deliver(silent))  # service consents only: not sent
        # Issue 20: recorded as suppressed for want of consent, never silently dropped.
        [refused] = await all_notices(svc)
        assert (refused["status"], refused["reason"]) == ("suppressed", "no_consent")
        await handled(svc, svc.deliver(consented))
        envelope = svc.deliver(allowed)
        await eventually(
            lambda: all_notices(svc),
            lambda ns: len([n for n in ns if n["status"] != "suppressed"]) == 1,
        )
        notice = next(n for n in await all_notices(svc) if n["status"] != "suppressed")
        detail = await svc.notice(notice["id"])
    assert (notice["kind"], notice["channel"], notice["language"]) == (
        "birthday_greeting",
        "sms",  # the one channel with marketing consent
        "zh-Hans",
    )
    assert detail["event_id"] == envelope.id and "生日快乐" in detail["subject"]


async def test_a_notice_that_can_wait_is_held_past_quiet_hours_and_a_booking_is_not(
    start_service: StartService, samples: Samples
) -> None:
    quiet = quiet_now()
    booking = samples.confirmed("en", guest=guest_contact("en", email=EMAIL))
    survey = samples.survey("en")
    async with start_service() as svc:
        await handled(svc, svc.deliver(samples.preferences(quiet_hours=quiet)))
        await handled(svc, svc.deliver(survey))
        svc.deliver(booking)
        sent = await svc.wait_for(booking.reservation_id, lambda n: n["status"] == "logged")
        (held,) = await svc.notices(reservation_id=survey.reservation_id)
        detail = await svc.notice(held["id"])
    assert sent["status"] == "logged"  # gone at once (no mail server here: kept in the log)
    assert held["status"] == "queued" and held["sent_at"] is None
    waits_until = datetime.fromisoformat(detail["next_attempt_at"])
    end = datetime.combine(utcnow().date(), datetime.strptime(quiet.end, "%H:%M").time(), UTC)
    assert waits_until in (end, end + timedelta(days=1))  # the next end of the quiet hours
    assert waits_until > utcnow()


async def test_a_withdrawn_marketing_consent_stops_a_greeting_still_waiting(
    start_service: StartService, samples: Samples
) -> None:
    consents = [samples.consent("email", "marketing", True, days_ago=3)]
    withdrawn = [*consents, samples.consent("email", "marketing", False, days_ago=0)]
    async with start_service() as svc:
        await handled(
            svc, svc.deliver(samples.preferences(quiet_hours=quiet_now(), consents=consents))
        )
        await handled(svc, svc.deliver(samples.birthday("en")))
        (waiting,) = await all_notices(svc)
        await handled(
            svc,
            svc.deliver(
                samples.preferences(
                    quiet_hours=quiet_now(), consents=withdrawn, aggregate_version=3
                )
            ),
        )
        (after,) = await all_notices(svc)
    assert waiting["status"] == "queued"
    assert (after["id"], after["status"], after["reason"], after["sent_at"]) == (
        waiting["id"],
        "suppressed",
        "withheld",
        None,
    )


async def test_an_older_snapshot_of_the_preferences_changes_nothing(
    start_service: StartService, samples: Samples
) -> None:
    newer = samples.preferences(language="zh-Hant", quiet_hours=None, aggregate_version=5)
    older = samples.preferences(language="en", quiet_hours=None, aggregate_version=4)
    survey = samples.survey("en")
    async with start_service() as svc:
        await handled(svc, svc.deliver(newer))
        await handled(svc, svc.deliver(older))
        svc.deliver(survey)
        (notice,) = await eventually(lambda: all_notices(svc), lambda ns: len(ns) == 1)
    assert notice["language"] == "zh-Hant"


async def test_a_shared_phone_does_not_pick_anyones_wishes(
    start_service: StartService, samples: Samples
) -> None:
    """An agency's call-centre number held by two profiles: a notice found only by that number
    takes neither guest's language or channels."""
    shared = "+862161234567"
    ada = samples.preferences(guest_id="g-ada", emails=["ada@example.com"], phones=[shared])
    bo = samples.preferences(
        guest_id="g-bo", emails=["bo@example.com"], phones=[shared], channels=["sms"]
    )
    case = samples.complaint("en", guest_id=None, email=None, phone=shared)
    async with start_service() as svc:
        await handled(svc, svc.deliver(ada), svc.deliver(bo))
        svc.deliver(case)
        (notice,) = await eventually(lambda: all_notices(svc), lambda ns: len(ns) == 1)
    assert (notice["kind"], notice["channel"], notice["language"]) == (
        "complaint_acknowledged",
        "sms",  # the only address the case names
        "en",  # the case's own language, not the profiles' zh-Hans
    )


async def test_the_crm_notices_each_in_their_kind(
    start_service: StartService, samples: Samples
) -> None:
    events = [
        samples.complaint("en", stage="rejected", outcome="The noise came from a street event"),
        samples.points_expiring("en"),
        samples.tier_changed(reason="enrolled"),
        samples.tier_changed(reason="promoted", aggregate_version=4),
        samples.tier_changed(
            reason="lapsed", tier=None, previous_tier="silver", discount_percent=0
        ),
    ]
    async with start_service() as svc:
        await handled(svc, svc.deliver(samples.preferences(language="en", quiet_hours=None)))
        await handled(svc, *[svc.deliver(e) for e in events])
        found = await all_notices(svc)
        details = {n["kind"]: await svc.notice(n["id"]) for n in found}
    assert set(details) == {
        "complaint_rejected",
        "points_expiring",
        "loyalty_welcome",
        "loyalty_promotion",
    }  # a lapse is not announced
    assert "street event" in details["complaint_rejected"]["body"]
    assert "12,800" in details["points_expiring"]["subject"]
    assert "M00012345" in details["loyalty_welcome"]["body"]
    assert "15%" in details["loyalty_promotion"]["body"]
    assert all(d["email"] == EMAIL for d in details.values())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    url = scratch_url(request.param, tmp_path, "notification_erasure")
    try:
        yield url
    finally:
        await drop_database(url)


async def test_an_erased_guest_leaves_counts_and_no_trace(
    start_service: StartService, samples: Samples, database_url: str
) -> None:
    url = database_url
    booking = samples.confirmed("en", guest=guest_contact("en", email=EMAIL.upper()))
    other = samples.confirmed("en")
    waiting = samples.survey("en")
    async with start_service(database_url=url) as svc:
        await handled(svc, svc.deliver(samples.preferences(quiet_hours=quiet_now())))
        await handled(svc, svc.deliver(booking), svc.deliver(other), svc.deliver(waiting))
        await handled(svc, svc.deliver(samples.erased(reservation_ids=[booking.reservation_id])))
        # Later news of the erased guest: an older snapshot, and a notice for them.
        late = samples.survey("en")
        await handled(svc, svc.deliver(samples.preferences(aggregate_version=8)), svc.deliver(late))
        found = {n["reservation_id"]: n for n in await all_notices(svc)}
        kept = await svc.notice(found[booking.reservation_id]["id"])
        copies = await columns_holding(url, EMAIL, PHONE, "Lin Mei")
    assert set(found) == {booking.reservation_id, other.reservation_id, waiting.reservation_id}
    held = found[waiting.reservation_id]  # held, now never sent
    assert (held["status"], held["reason"]) == ("suppressed", "erased")
    assert (kept["kind"], kept["email"], kept["subject"], kept["body"]) == (
        "reservation_confirmed",
        "",
        "",
        "",
    )
    assert found[other.reservation_id]["email"] == other.guest.email  # someone else's: kept
    assert copies == []


async def test_a_confirmation_arriving_after_its_guest_was_erased_is_never_sent(
    start_service: StartService, samples: Samples, database_url: str
) -> None:
    """reservation-service erased the booking, but its confirmation was still on the bus: it
    carries the address and must reach no one (nor stay in this database)."""
    booking = samples.confirmed("en", guest=guest_contact("en", email=EMAIL))
    async with start_service(database_url=database_url) as svc:
        await handled(svc, svc.deliver(samples.erased(reservation_ids=[booking.reservation_id])))
        await handled(svc, svc.deliver(booking))
        found = [n["reservation_id"] for n in await all_notices(svc)]
        copies = await columns_holding(database_url, EMAIL)
    assert booking.reservation_id not in found
    assert copies == []
