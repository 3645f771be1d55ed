"""A provider answering a redirect (a moved or mistyped endpoint) is the provider's problem,
not the guest's number: the next provider sends the text, and the number is not marked bad."""

from hotel_common.testing import HttpProviderStub, eventually
from notification_service.bad_addresses import BadAddress
from sqlmodel import select

from .channels import booking_of_lin, provider, stored, texting_guest
from .conftest import Samples, StartService


async def test_a_redirecting_provider_gives_way_to_the_next_and_marks_nothing_bad(
    start_service: StartService, samples: Samples
) -> None:
    async with (
        HttpProviderStub("sms-a", status=302) as moved,
        HttpProviderStub("sms-b") as spare,
        start_service(sms_providers=[provider(moved), provider(spare)]) as svc,
    ):
        svc.deliver(texting_guest(samples))
        booking = booking_of_lin(samples)
        svc.deliver(booking)
        rows = await eventually(
            lambda: stored(svc, booking.reservation_id),
            lambda rows: len(rows) >= 1 and rows[0].status != "queued",
        )
        async with svc.app.state.runtime.sessions() as session:
            bad = (await session.exec(select(BadAddress))).all()

    [text] = rows
    assert (text.channel, text.status, text.provider) == ("sms", "sent", "sms-b")
    assert [r["json"]["to"] for r in spare.accepted] == [samples.PHONE]
    assert bad == []
