"""Adversarial (issue 20): an alert raised in a transaction still open while the digest pass
runs (PostgreSQL, READ COMMITTED: the pass cannot see it) must still reach a later digest. Its
created_at is taken before its commit, so a window (last, now] that closes at the pass's `now`
skipped it for ever. Passes are driven one at a time with their `now`: no timing."""

import uuid
from datetime import timedelta

from hotel_common.db import drop_database, transaction
from hotel_common.testing import MailServer
from hotel_common.time import utcnow
from notification_service import staff_inbox
from notification_service.models import Notification
from sqlalchemy import update
from sqlmodel import select

from .conftest import StartService
from .test_staff_inbox import DESK, call

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


async def test_an_alert_committed_after_a_digest_pass_began_is_in_the_next_digest(
    start_service: StartService, mail_server: MailServer
) -> None:
    url = f"{PG}/test_{uuid.uuid4().hex}"
    try:
        async with start_service(database_url=url, smtp_url=mail_server.url) as svc:
            saved = await call(
                svc,
                "PUT",
                "/api/v1/inbox/settings",
                DESK,
                json={"digest": "every_minute", "email": "desk@harbourview.example"},
            )
            assert saved.status_code == 200, saved.text
            runtime = svc.app.state.runtime
            async with transaction(runtime.sessions) as session:  # subscribed an hour ago
                await session.exec(
                    update(staff_inbox.StaffInboxSettings).values(
                        last_digest_at=utcnow() - timedelta(hours=1)
                    )
                )
            async with transaction(runtime.sessions) as session:
                raised = await staff_inbox.alert(
                    session,
                    audience="front_desk",
                    kind="guest_unreachable",
                    title="Late alert",
                    body="committed after the pass",
                    event_id=str(uuid.uuid4()),
                )
                assert raised is not None
                # The minute's pass runs a second later, before this transaction commits.
                early = await staff_inbox.send_digests(
                    runtime, now=raised.created_at + timedelta(seconds=1)
                )
            later = await staff_inbox.send_digests(
                runtime, now=raised.created_at + timedelta(hours=1)
            )
            async with runtime.sessions() as session:
                found = await session.exec(
                    select(Notification).where(Notification.kind == "staff_digest")
                )
                digests = list(found.all())
    finally:
        await drop_database(url)

    assert (early, later) == (0, 1)
    assert len(digests) == 1 and "Late alert" in digests[0].body
