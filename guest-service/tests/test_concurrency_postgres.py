"""On PostgreSQL, two replicas handling bookings of one new guest at once make one profile."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from guest_service import contact_book, matching, merging, privacy, rights
from guest_service.config import Settings
from guest_service.contact_book import new_contact
from guest_service.loyalty import members
from guest_service.main import create_app
from guest_service.models import (
    ContactKind,
    ContactPreferencesIn,
    Guest,
    GuestMergeCreate,
    Source,
)
from guest_service.models.loyalty import EnrolledBy
from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.db import create_engine, create_session_factory, drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.outbox import OutboxMessage
from hotel_common.testing import eventually, running
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .conftest import GuestService

PAIRS = 12


@asynccontextmanager
async def fresh_settings() -> AsyncIterator[Settings]:
    """Settings on a PostgreSQL database of the test's own, dropped at the end."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_{uuid.uuid4().hex}"
    try:
        yield Settings(database_url=url, retry_delays=[0.01, 0.05], log_json=False)
    finally:
        await drop_database(url)


@asynccontextmanager
async def two_replicas() -> AsyncIterator[GuestService]:
    """Two replicas on one database of their own, competing for the one guest-service queue
    as in production; the service as the first one answers."""
    async with fresh_settings() as settings:
        broker = InMemoryBroker()
        async with (
            running(create_app(settings, broker=broker)) as client,
            running(create_app(settings, broker=broker)),
        ):
            yield GuestService(client, broker)


async def link_alone(sessions: Callable[[], AsyncSession], booking: ReservationConfirmed) -> str:
    """`booking` linked to a profile in a transaction of its own."""
    async with sessions() as session, session.begin():
        return await matching.link_booking(session, booking)


@pytest.mark.infra
async def test_concurrent_bookings_of_one_new_guest_make_one_profile_with_both_stays(
    make_booking: Callable[..., ReservationConfirmed],
) -> None:
    async with two_replicas() as service:
        client = service.client
        emails = [f"new.guest.{i}@example.com" for i in range(PAIRS)]
        for i, email in enumerate(emails):
            # Same new guest, two bookings: a replica takes each, both find no profile yet.
            service.deliver(make_booking(email=email, phone=f"+8613900000{i:03d}"))
            service.deliver(make_booking(email=email.upper(), phone=f"+86 1390000 0{i:03d}"))

        for email in emails:
            profile = await service.profile_with_stays(email, 2)
            assert len({s["reservation_id"] for s in profile["stays"]}) == 2
        guests = (await client.get("/api/v1/guests", params={"limit": 200})).json()["items"]
        assert sorted(g["email"] for g in guests) == sorted(emails)
        assert (await client.get("/admin/dead-letters")).json()["items"] == []


@pytest.mark.infra
async def test_concurrent_phone_only_bookings_of_one_new_guest_make_one_profile(
    make_booking: Callable[..., ReservationConfirmed],
) -> None:
    async with two_replicas() as service:
        client = service.client
        phones = [f"+8613700000{i:03d}" for i in range(PAIRS)]
        for i, phone in enumerate(phones):
            # No email (the channel sent none): only the phone and the name tell who it is.
            service.deliver(make_booking(email="", phone=phone, name=f"Guest {i}"))
            service.deliver(make_booking(email="", phone=phone, name=f"GUEST {i}"))

        async def stays_by_phone() -> dict[str, list[int]]:
            found: dict[str, list[int]] = {}
            for phone in phones:
                for guest in await service.find(phone=phone):
                    stays = (await service.guest(guest["id"]))["stays"]
                    found.setdefault(phone, []).append(len(stays))
            return found

        await eventually(
            stays_by_phone, until=lambda found: all(found.get(p) == [2] for p in phones)
        )
        assert await service.suggestions() == []
        assert (await client.get("/admin/dead-letters")).json()["items"] == []


@pytest.mark.infra
async def test_a_booking_that_loses_the_new_profile_race_links_to_the_winner(
    make_booking: Callable[..., ReservationConfirmed],
) -> None:
    async with fresh_settings() as settings:
        engine = None
        try:
            async with running(create_app(settings, broker=InMemoryBroker())):
                engine = create_engine(settings.database_url)
                sessions = create_session_factory(engine)
                booking = make_booking(email="race@example.com", phone=None)
                winner = Guest(name="Li Wei", source=Source.FRONT_DESK)
                email = new_contact(winner.id, ContactKind.EMAIL, "race@example.com", "front_desk")

                async with sessions() as session, session.begin():
                    session.add(winner)
                    await session.flush()
                    session.add(email)
                    await session.flush()  # inserted, not committed: the booking does not see it
                    loser = asyncio.create_task(link_alone(sessions, booking))
                    await asyncio.sleep(0.3)
                    assert not loser.done()  # its insert waits for ours
                # Ours committed: its insert did nothing, it matched again and found ours.
                assert await loser == winner.id
                async with sessions() as session:
                    guests = (await session.exec(select(Guest))).all()
                    stay = await matching.stay_for(session, booking.reservation_id)
                assert [g.id for g in guests] == [winner.id]
                assert stay is not None and stay.guest_id == winner.id
        finally:
            if engine is not None:
                await engine.dispose()


@pytest.mark.infra
async def test_a_booking_arriving_while_its_guest_is_erased_leaves_nothing_on_the_erased_profile(
    make_booking: Callable[..., ReservationConfirmed],
) -> None:
    async with (
        fresh_settings() as settings,
        running(app := create_app(settings, broker=InMemoryBroker())),
    ):
        sessions = app.state.runtime.sessions
        first = make_booking(email="leaving@example.com", phone="+8613900000111")
        async with sessions() as session, session.begin():
            erased_id = await matching.link_booking(session, first)
        # Booked again (another phone) just as the erasure the guest asked for runs.
        again = make_booking(email="leaving@example.com", phone="+8613900000222")

        async with sessions() as session, session.begin():
            await rights.erase(session, erased_id, "staff:manager")
            await session.flush()
            booking = asyncio.create_task(link_alone(sessions, again))
            await asyncio.sleep(0.3)
        linked = await booking

        async with sessions() as session:
            left = await contact_book.contacts_of(session, erased_id)
            stay = await matching.stay_for(session, again.reservation_id)
        assert left == []  # no phone of the person on the erased profile
        # The booking came after the erasure: a profile of its own, like any later booking.
        assert stay is not None and stay.guest_id == linked != erased_id


@pytest.mark.infra
async def test_a_booking_racing_a_merge_undo_lands_on_the_profile_that_holds_its_email(
    make_booking: Callable[..., ReservationConfirmed],
) -> None:
    async with (
        fresh_settings() as settings,
        running(app := create_app(settings, broker=InMemoryBroker())),
    ):
        sessions = app.state.runtime.sessions
        async with sessions() as session, session.begin():
            survivor = await matching.link_booking(session, make_booking(email="s@example.com"))
            absorbed = await matching.link_booking(session, make_booking(email="a@example.com"))
        async with sessions() as session, session.begin():
            pair = GuestMergeCreate(survivor_id=survivor, absorbed_id=absorbed)
            merge_id = (await merging.merge(session, pair, "staff:manager")).id
        again = make_booking(email="a@example.com")

        async with sessions() as session, session.begin():
            await merging.undo(session, merge_id, "staff:manager")
            await session.flush()
            # It finds a@ on the survivor, for now.
            booking = asyncio.create_task(link_alone(sessions, again))
            await asyncio.sleep(0.3)
        # Undone: a@ is the absorbed guest's again, and so is their new booking.
        assert await booking == absorbed


async def guest_versions(sessions: Callable[[], AsyncSession], guest_id: str) -> list[int]:
    """The aggregate versions of the guest's events in the outbox, in publication order."""
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.seq)))).all()
    return [
        row.envelope["aggregate_version"]
        for row in rows
        if row.envelope["aggregate_type"] == "guest" and row.envelope["aggregate_id"] == guest_id
    ]


@pytest.mark.infra
async def test_a_tier_change_racing_a_preferences_change_publishes_a_newer_version(
    make_booking: Callable[..., ReservationConfirmed],
) -> None:
    async with (
        fresh_settings() as settings,
        running(app := create_app(settings, broker=InMemoryBroker())),
    ):
        sessions = app.state.runtime.sessions
        async with sessions() as session, session.begin():
            guest_id = await matching.link_booking(session, make_booking(email="both@example.com"))
        before = await guest_versions(sessions, guest_id)

        async def enrol_at_check_out() -> None:
            async with sessions() as session, session.begin():
                await members.enrol(
                    session, guest_id, EnrolledBy.STAY, settings, waive_minimum=True
                )

        async with sessions() as session, session.begin():
            # The guest changes their preferences (the profile locked, a version published)...
            guest = await privacy.locked_guest(session, guest_id)
            wanted = ContactPreferencesIn(channels=["sms"], language="en")
            await privacy.set_preferences(session, guest, wanted, "guest")
            await session.flush()
            # ... as their check-out enrols them on the other replica.
            enrolment = asyncio.create_task(enrol_at_check_out())
            await asyncio.sleep(0.3)
        await enrolment

        published = (await guest_versions(sessions, guest_id))[len(before) :]
        async with sessions() as session:
            guest = await session.get(Guest, guest_id)
        assert guest is not None
        # Each its own version, the tier change (committed last) the newer: a consumer keeping
        # the newest per guest drops neither.
        assert len(published) == 2
        assert published[0] < published[1] == guest.version


@pytest.mark.infra
async def test_redemptions_racing_on_two_connections_never_overdraw_the_balance(
    make_booking: Callable[..., ReservationConfirmed],
) -> None:
    """Each redemption alone fits the balance, two do not: on PostgreSQL the member's row lock
    makes the others wait and then see the first one's line, so exactly one is written."""
    from guest_service.loyalty import ledger, redemptions
    from guest_service.models.loyalty import LedgerLine, Reason, RedemptionCreate
    from hotel_common.errors import ProblemError
    from hotel_common.principal import Kind, Principal, Role

    desk = Principal(id="staff:desk", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))
    async with (
        fresh_settings() as settings,
        running(app := create_app(settings, broker=InMemoryBroker())),
    ):
        sessions = app.state.runtime.sessions
        async with sessions() as session, session.begin():
            guest_id = await matching.link_booking(session, make_booking(email="pts@example.com"))
            member, _ = await members.enrol(
                session, guest_id, EnrolledBy.STAY, settings, waive_minimum=True
            )
            await ledger.post(session, member, 1000, Reason.STAY, "seed", settings)
            number = member.member_number
        body = RedemptionCreate(kind="folio_credit", points=800)

        async def redeem() -> bool:
            try:
                async with sessions() as session, session.begin():
                    await redemptions.redeem(session, number, body, desk, settings)
            except ProblemError as problem:
                assert problem.status == 409 and problem.code == "insufficient_points"
                return False
            return True

        done = await asyncio.gather(*(redeem() for _ in range(4)))

        assert sorted(done) == [False, False, False, True]
        async with sessions() as session:
            lines = (
                await session.exec(
                    select(LedgerLine.points).where(LedgerLine.member_id == member.id)
                )
            ).all()
        assert sum(lines) == 200
