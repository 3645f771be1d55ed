"""Demo guests, one Chinese-speaking and one English-speaking, and the segments a CRM team starts
with; safe to run twice."""

import contextlib
import uuid

from hotel_common.db import transaction
from hotel_common.errors import ProblemError
from hotel_common.service import Runtime
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from guest_service import segments
from guest_service.contact_book import new_contact
from guest_service.models import ContactKind, Guest, GuestCreate, Source
from guest_service.models.segments import Segment, SegmentCreate, SegmentRule
from guest_service.profiles import find_by_email

DEMO_GUESTS = [
    GuestCreate(
        name="王芳 (Wang Fang)",
        email="wang.fang@example.com",
        phone="+86 138 0013 8000",
        language="zh-Hans",
    ),
    GuestCreate(
        name="Emily Carter",
        email="emily.carter@example.com",
        phone="+44 7700 900123",
        language="en",
    ),
]


DEMO_SEGMENTS = [
    SegmentCreate(
        name="Key guests",
        description="High spend and frequency: personal care, first call on member events",
        rule=SegmentRule(value_classes=["key"]),
    ),
    SegmentCreate(
        name="At risk",
        description="Not seen for over a year: a win-back offer",
        rule=SegmentRule(value_classes=["at_risk"]),
    ),
    SegmentCreate(
        name="Gold and Diamond members",
        description="The top tiers: VIP arrival and upgrades when free",
        rule=SegmentRule(tiers=["gold", "diamond"]),
    ),
]


def demo_guest_id(email: str) -> str:
    """Stable ids, so demo data elsewhere can refer to these guests."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hotel-platform/guest-service/demo/{email}"))


async def seed(runtime: Runtime) -> None:
    # A replica seeding at the same moment wins the unique email; its rows are the same ones.
    with contextlib.suppress(IntegrityError):
        async with transaction(runtime.sessions) as session:
            for demo in DEMO_GUESTS:
                assert demo.email is not None
                if await find_by_email(session, demo.email) is None:
                    guest = Guest(
                        id=demo_guest_id(demo.email),
                        name=demo.name,
                        language=demo.language,
                        source=Source.FRONT_DESK,
                    )
                    session.add(guest)
                    for kind, value in (
                        (ContactKind.EMAIL, demo.email),
                        (ContactKind.PHONE, demo.phone),
                    ):
                        if value:
                            session.add(new_contact(guest.id, kind, value, "demo", primary=True))
    async with transaction(runtime.sessions) as session:
        for demo_segment in DEMO_SEGMENTS:
            taken = select(Segment.id).where(Segment.name == demo_segment.name)
            if (await session.exec(taken)).first() is None:
                # A replica seeding at the same moment: the unique name refuses one (a 409).
                with contextlib.suppress(ProblemError):
                    await segments.create_segment(session, demo_segment, "demo")
