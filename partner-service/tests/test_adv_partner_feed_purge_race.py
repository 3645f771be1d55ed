"""Adversarial (issue 21): the purge racing a reader at the edge of retention, on PostgreSQL.

A reader's cursor is valid when its read starts; the purge removes the entries just after it
and commits before the read fetches the page. The page must then be a 410 (the reader knows it
lost entries), never a page that silently starts past the purged ones.
"""

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.testing import scratch_url
from hotel_common.time import utcnow
from partner_service import feed
from partner_service.models import FeedEntry
from sqlalchemy import update
from sqlmodel import col

from .conftest import StartPartnerService, new_partner_id

pytestmark = pytest.mark.infra


async def test_a_purge_between_checking_the_cursor_and_reading_the_page_is_a_410(
    start_partner_service: StartPartnerService, tmp_path: Path
) -> None:
    url = scratch_url("postgresql", tmp_path, "partner_purge_race")
    try:
        async with start_partner_service(database_url=url) as svc:
            sessions = svc.runtime.sessions
            partner = new_partner_id()
            for n in range(10):
                async with sessions() as session, session.begin():
                    await feed.append(
                        session,
                        partner,
                        event_id=str(uuid.uuid4()),
                        event_type="reservation.modified",
                        occurred_at=utcnow(),
                        payload={"n": n + 1},
                    )
            # Entries 1..6 are past the retention, 7..10 are not.
            async with sessions() as session, session.begin():
                await session.exec(
                    update(FeedEntry)
                    .where(col(FeedEntry.partner_id) == partner, col(FeedEntry.seq) <= 6)
                    .values(recorded_at=utcnow() - timedelta(days=40))
                )

            async with sessions() as reading:
                plain_exec = reading.exec
                purged: list[int] = []

                async def exec_after_a_purge(statement: Any, *args: Any, **kwargs: Any) -> Any:
                    # The page's SELECT: the purge slips in just before it and commits.
                    if not purged:
                        purged.append(await feed.purge(sessions, 30, batch=100))
                    return await plain_exec(statement, *args, **kwargs)

                reading.exec = exec_after_a_purge  # type: ignore[method-assign]
                with pytest.raises(feed.CursorExpired) as gone:
                    page = await feed.read(reading, partner, after=3, limit=100)
                    # What went wrong without the fix: 4, 5 and 6 silently skipped.
                    pytest.fail(f"a page after 3 starting at {[e.seq for e in page.entries]}")
                assert purged == [6]
                assert gone.value.purged_through == 6
    finally:
        await drop_database(url)
