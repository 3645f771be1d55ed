"""`guest.erased`: transfer-service forgets the guest in their jobs (name, email, phone, sign
name, notes), keeps the rides, leaves another guest's job with the same phone alone, and
leaves no copy of the email or the name in any column of its database; a redelivery changes
nothing more."""

from hotel_common.contracts.guests import GuestErased
from hotel_common.testing import columns_holding, deliver, eventually, guest_contact, guest_erased

from .conftest import Service

EMAIL, PHONE = "lin.mei@example.com", "+8613900139000"


def erasure(*reservation_ids: str) -> GuestErased:
    return guest_erased(*reservation_ids, email=EMAIL, phone=PHONE, name="Lin Mei", version=5)


async def test_an_erased_guest_is_forgotten_in_their_jobs(service: Service) -> None:
    lin = service.booking()
    lin = lin.model_copy(
        update={
            "transfer": lin.transfer.model_copy(  # type: ignore[union-attr]
                update={"sign_name": "LIN MEI", "notes": "Lin Mei travels with a cello"}
            )
        }
    )
    zhang = service.booking(
        guest=guest_contact("zh-Hans", name="Zhang San", email="zhang.san@example.com", phone=PHONE)
    )
    service.deliver(lin)
    service.deliver(zhang)
    mine = await service.job_for(lin)
    assert (mine["sign_name"], mine["guest"]["email"]) == ("LIN MEI", EMAIL)
    others = await service.job_for(zhang)
    url = service.client._transport.app.state.settings.database_url  # type: ignore[attr-defined]

    envelope = deliver(service.broker, erasure(lin.reservation_id), "guest-service")

    forgotten = await eventually(
        lambda: service.job_for(lin), until=lambda j: j["guest"]["name"] == "Erased guest"
    )
    assert forgotten["guest"]["email"] == f"erased-{mine['id']}@erased.invalid"
    assert forgotten["guest"]["phone"] is None
    assert (forgotten["sign_name"], forgotten["notes"]) == (None, None)
    assert (forgotten["status"], forgotten["pickup_time"]) == (mine["status"], mine["pickup_time"])
    assert await service.job_for(zhang) == others
    assert await columns_holding(url, EMAIL, "Lin Mei") == []

    service.redeliver(envelope)
    await eventually(
        lambda: service.client.get("/admin/dead-letters"), lambda r: r.json()["items"] == []
    )
    assert (await service.job_for(lin))["guest"]["name"] == "Erased guest"
