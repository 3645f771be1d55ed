"""A provider's refusal often quotes the number or address it refused ("unknown subscriber
+86..."): kept as the bad address's reason, it must go when the guest is erased, like every
other copy of their contacts."""

from pathlib import Path

from hotel_common.testing import HttpProviderStub, MailServer, columns_holding, eventually

from .channels import provider, receipt, stored
from .conftest import Samples, Service, StartService
from .test_guest_notices import handled
from .test_receipts import _sent_text


async def test_an_erased_guest_leaves_no_contact_in_a_bad_address_reason(
    start_service: StartService, mail_server: MailServer, samples: Samples, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/erasure.db"
    async with (
        HttpProviderStub("sms-a") as sms,
        start_service(
            database_url=url, smtp_url=mail_server.url, sms_providers=[provider(sms)]
        ) as svc,
    ):
        row = await _sent_text(svc, samples)
        refusal = f"unknown subscriber {samples.PHONE} ({samples.EMAIL})"
        body = {"id": row.id, "status": "failed", "permanent": True, "error": refusal}
        assert (await receipt(svc, "sms-a", body)).status_code == 200
        await eventually(lambda: stored(svc, row.reservation_id), lambda rows: len(rows) == 2)
        await _erase(svc, samples)

    assert await columns_holding(url, samples.PHONE, samples.EMAIL) == []


async def _erase(svc: Service, samples: Samples) -> None:
    await handled(svc, svc.deliver(samples.erased()))
