"""An erasure racing a handler on another replica: the handler checked "erased?" before the
erasure committed and queued its notice after the erasure purged the guest's notices. The
sender stops such a notice as it claims: it is never sent, and no copy of the address stays."""

from hotel_common.testing import MailServer, columns_holding, eventually, guest_contact
from notification_service.models import Kind, Notification
from sqlmodel import select

from .conftest import Samples, StartService
from .test_guest_notices import EMAIL, database_url, handled

__all__ = ["database_url"]  # the fixture: both databases


async def test_a_notice_queued_after_its_guests_erasure_is_never_sent(
    start_service: StartService, mail_server: MailServer, samples: Samples, database_url: str
) -> None:
    booking = samples.confirmed("en", guest=guest_contact("en", email=EMAIL))
    async with start_service(database_url=database_url, smtp_url=mail_server.url) as svc:
        await handled(svc, svc.deliver(samples.erased(reservation_ids=[booking.reservation_id])))
        runtime = svc.app.state.runtime
        async with runtime.sessions() as session:  # what the racing handler committed
            session.add(
                Notification(
                    event_id="5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f",
                    kind=Kind.RESERVATION_CONFIRMED,
                    reservation_id=booking.reservation_id,
                    email=EMAIL,
                    language="en",
                    subject="Booking confirmed",
                    body="Dear Lin Mei",
                )
            )
            await session.commit()
        runtime.extras["delivery"].wake()

        async def rows() -> list[Notification]:
            async with runtime.sessions() as session:
                return list((await session.exec(select(Notification))).all())

        [row] = await eventually(rows, lambda found: found and found[0].status != "queued")
        copies = await columns_holding(database_url, EMAIL, "Lin Mei")

    assert (row.status, row.reason, row.email, row.body) == ("suppressed", "erased", "", "")
    assert mail_server.messages == [] and copies == []
