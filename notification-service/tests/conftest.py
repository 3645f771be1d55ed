"""A running notification-service on SQLite and the in-memory broker, a real SMTP server
(aiosmtpd) on a loopback port of its own, and sample events as the neighbouring services send them.
"""

import re
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hotel_common.contracts.guests import (
    BirthdayBenefitGranted,
    ComplaintNotice,
    Consent,
    GuestContactPreferencesChanged,
    GuestErased,
    LoyaltyTierChanged,
    PointsExpiring,
    QuietHours,
    SurveyRequested,
)
from hotel_common.contracts.identity import SignInCodeRequested
from hotel_common.contracts.reservations import (
    GuestContact,
    Language,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationModified,
)
from hotel_common.contracts.transfers import (
    TransferAssigned,
    TransferCancelled,
    TransferReassigned,
    TransferRescheduled,
    TransferStatusChanged,
)
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import (
    SAMPLE_ARRIVAL,
    MailServer,
    deliver,
    eventually,
    guest_contact,
    reservation_cancelled,
    reservation_confirmed,
    reservation_expired,
    reservation_modified,
    running,
    transfer_assigned,
    transfer_request,
)
from hotel_common.time import utcnow
from notification_service import statuses
from notification_service.config import Settings
from notification_service.main import create_app
from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Service:
    client: httpx.AsyncClient
    broker: InMemoryBroker
    app: FastAPI
    sent: list[Envelope] = field(default_factory=list)

    def deliver(self, event: IntegrationEvent | Envelope) -> Envelope:
        return deliver(self.broker, event)

    async def notices(self, **filters: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/notifications", params=filters)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def notice(self, notification_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/notifications/{notification_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_for(
        self, reservation_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The one notice of a reservation, once `until` holds for it."""

        found = await eventually(
            lambda: self.notices(reservation_id=reservation_id),
            lambda ns: len(ns) == 1 and until(ns[0]),
            timeout,
        )
        return found[0]


StartService = Callable[..., AbstractAsyncContextManager[Service]]


# An UPDATE of a notice's status, as the database receives it.
STATUS_UPDATE = re.compile(r"^\s*UPDATE notifications SET (?:(?! WHERE ).)*\bstatus=", re.S)


@pytest.fixture(autouse=True)
def statuses_change_in_one_place() -> Iterator[None]:
    """Issue 21: every change of a notice's status goes through statuses.change (which
    publishes notice.status_changed); an UPDATE of `status` from anywhere else fails the test
    that made it (a new path cannot quietly skip the event)."""
    stray: list[str] = []

    def check(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        context = args[-2] if len(args) >= 2 else None
        options = getattr(context, "execution_options", {}) or {}
        if (
            STATUS_UPDATE.match(statement)
            and not options.get(statuses.MARK)
            # A migration rewriting old statuses is no notice changing status.
            and not any("/migrations/" in frame.filename for frame in traceback.extract_stack())
        ):
            stray.append(statement)

    event.listen(Engine, "before_cursor_execute", check)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", check)
    assert not stray, f"a notice's status changed outside statuses.change: {stray[0]}"


@pytest.fixture
def start_service(tmp_path: Path) -> StartService:
    """`async with start_service(smtp_url=...) as svc:` with small delays for tests."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Service]:
        options: dict[str, Any] = {
            "database_url": f"sqlite+aiosqlite:///{tmp_path}/{uuid.uuid4().hex[:8]}.db",
            "retry_delays": [0.01, 0.05],
            "log_json": False,
            "smtp_timeout": 2.0,
            "delivery_backoff_seconds": [0.05],
            **overrides,
        }
        broker = options.pop("broker", None) or InMemoryBroker()
        app = create_app(Settings(**options), broker=broker)
        async with running(app) as client:
            yield Service(client, broker, app)

    return start


@pytest.fixture
async def mail_server() -> AsyncIterator[MailServer]:
    server = await MailServer().start()
    yield server
    await server.stop()


class Samples:
    """Events as reservation-service and transfer-service publish them (hotel_common.testing's
    factories), for a guest writing in `language`."""

    def confirmed(
        self, language: Language = "en", *, with_transfer: bool = False, **overrides: Any
    ) -> ReservationConfirmed:
        transfer = transfer_request() if with_transfer else None
        return reservation_confirmed(
            **{"guest": guest_contact(language), "transfer": transfer, **overrides}
        )

    def assigned(self, language: Language = "en", **overrides: Any) -> TransferAssigned:
        return transfer_assigned(**{"guest": guest_contact(language), **overrides})

    def _job(self, language: Language, overrides: dict[str, Any]) -> dict[str, Any]:
        """What every issue-18 event of a job carries, as transfer-service sends it."""
        assigned = self.assigned(language)
        return {
            "transfer_id": assigned.transfer_id,
            "reservation_id": assigned.reservation_id,
            "guest": assigned.guest,
            "property_timezone": assigned.property_timezone,
            "aggregate_version": 3,
            **overrides,
        }

    def rescheduled(self, language: Language = "en", **overrides: Any) -> TransferRescheduled:
        """The pickup three hours later with its flight, another driver now (version 3)."""
        assigned = self.assigned(language)
        return TransferRescheduled(
            **{
                "confirmation_number": assigned.confirmation_number,
                "reason": "flight_delayed",
                "flight_number": "MU5101",
                "previous_pickup_time": assigned.pickup_time,
                "pickup_time": assigned.pickup_time + timedelta(hours=3),
                "driver_on_site_at": assigned.driver_on_site_at + timedelta(hours=3),
                "pickup_place": assigned.pickup_place,
                "destination": assigned.destination,
                "driver_name": "Zhao Min",
                "driver_phone": "+8613800138111",
                "vehicle_plate": assigned.vehicle_plate,
                "vehicle_description": assigned.vehicle_description,
                **self._job(language, overrides),
            }
        )

    def reassigned(self, language: Language = "en", **overrides: Any) -> TransferReassigned:
        """Another van and driver after a breakdown (version 3)."""
        assigned = self.assigned(language)
        return TransferReassigned(
            **{
                "confirmation_number": assigned.confirmation_number,
                "reason": "vehicle_breakdown",
                "pickup_time": assigned.pickup_time,
                "driver_on_site_at": assigned.driver_on_site_at,
                "pickup_place": assigned.pickup_place,
                "destination": assigned.destination,
                "flight_number": "MU5101",
                "driver_name": "Chen Jie",
                "driver_phone": "+8613800138222",
                "vehicle_plate": "沪B·V0002",
                "vehicle_description": "Buick GL8 (silver)",
                **self._job(language, overrides),
            }
        )

    def no_show(self, language: Language = "en", **overrides: Any) -> TransferStatusChanged:
        assigned = self.assigned(language)
        return TransferStatusChanged(
            **{
                "status": "no_show",
                "previous_status": "driver_on_site",
                "at": assigned.pickup_time + timedelta(minutes=75),
                **self._job(language, overrides),
            }
        )

    def driver_on_site(self, language: Language = "en", **overrides: Any) -> TransferStatusChanged:
        """The driver waiting at the pickup point, with the car and driver (issue 20)."""
        assigned = self.assigned(language)
        return TransferStatusChanged(
            **{
                "status": "driver_on_site",
                "previous_status": "en_route",
                "at": assigned.driver_on_site_at,
                "confirmation_number": assigned.confirmation_number,
                "pickup_place": assigned.pickup_place,
                "driver_name": assigned.driver_name,
                "driver_phone": assigned.driver_phone,
                "vehicle_plate": assigned.vehicle_plate,
                "vehicle_description": assigned.vehicle_description,
                **self._job(language, overrides),
            }
        )

    def ride_cancelled(self, language: Language = "en", **overrides: Any) -> TransferCancelled:
        """Dispatch called the pickup off (the guest asked the desk), naming the guest and the
        pickup (issue 20)."""
        assigned = self.assigned(language)
        return TransferCancelled(
            **{
                "transfer_id": assigned.transfer_id,
                "reservation_id": assigned.reservation_id,
                "reason": "guest took the train instead",
                "confirmation_number": assigned.confirmation_number,
                "guest": assigned.guest,
                "pickup_time": assigned.pickup_time,
                "pickup_place": assigned.pickup_place,
                "property_timezone": assigned.property_timezone,
                "cause": "dispatch",
                "aggregate_version": 2,
                **overrides,
            }
        )

    def cancelled(self, language: Language = "en", **overrides: Any) -> ReservationCancelled:
        return reservation_cancelled(**{"guest": guest_contact(language), **overrides})

    def modified(self, language: Language = "en", **overrides: Any) -> ReservationModified:
        """A confirmed booking moved a day later, for three guests in another room, with its
        pickup moved too (every change a guest is told of), at version 3."""
        booking = self.confirmed(language, with_transfer=True, aggregate_version=2)
        return reservation_modified(
            booking,
            **{
                "check_in": booking.check_in + timedelta(days=1),
                "check_out": booking.check_out + timedelta(days=2),
                "room_type_code": "STE",
                "room_type_name": "Harbour Suite",
                "guests": 3,
                "total_amount": 675200,
                "transfer": transfer_request(
                    arrival_time=SAMPLE_ARRIVAL + timedelta(days=1), flight_number="CA1858"
                ),
                "aggregate_version": 3,
                **overrides,
            },
        )

    def expired(self, language: Language = "en", **overrides: Any) -> ReservationExpired:
        return reservation_expired(self.confirmed(language), **overrides)

    def sign_in(
        self, language: str = "en", *, email: str | None = "lin.mei@example.com", **overrides: Any
    ) -> SignInCodeRequested:
        """A sign-in code as the gateway publishes it, valid for ten minutes."""
        return SignInCodeRequested(
            **{
                "email": email,
                "code": "418302",
                "language": language,
                "expires_at": utcnow() + timedelta(minutes=10),
                **overrides,
            }
        )

    @staticmethod
    def guest(language: Language) -> GuestContact:
        return guest_contact(language)

    # -- issue 19: guest-service's events ------------------------------------------------------
    GUEST_ID = "7c1f0e2d-3b4a-4c5d-8e6f-9a0b1c2d3e4f"
    EMAIL = "lin.mei@example.com"
    PHONE = "+8613800138000"

    def preferences(self, **overrides: Any) -> GuestContactPreferencesChanged:
        """Lin Mei's wishes (version 2): email then text, Simplified Chinese, quiet from 22:00
        to 08:00 in Shanghai, service by email and text, no marketing."""
        at = utcnow() - timedelta(days=30)
        return GuestContactPreferencesChanged(
            **{
                "guest_id": self.GUEST_ID,
                "emails": [self.EMAIL],
                "phones": [self.PHONE],
                "channels": ["email", "sms"],
                "language": "zh-Hans",
                "quiet_hours": QuietHours(start="22:00", end="08:00", timezone="Asia/Shanghai"),
                "consents": [
                    Consent(channel=c, purpose="service", granted=True, at=at, source="booking")
                    for c in ("email", "sms")
                ],
                "aggregate_version": 2,
                **overrides,
            }
        )

    @staticmethod
    def consent(channel: str, purpose: str, granted: bool, days_ago: int = 1) -> Consent:
        at = utcnow() - timedelta(days=days_ago)
        return Consent.model_validate(
            {"channel": channel, "purpose": purpose, "granted": granted, "at": at, "source": "app"}
        )

    def erased(self, **overrides: Any) -> GuestErased:
        return GuestErased(
            **{
                "guest_id": self.GUEST_ID,
                "reservation_ids": [],
                "emails": [self.EMAIL],
                "phones": [self.PHONE],
                "names": ["Lin Mei"],
                "erased_at": utcnow(),
                "aggregate_version": 9,
                **overrides,
            }
        )

    def survey(self, language: str = "en", **overrides: Any) -> SurveyRequested:
        return SurveyRequested(
            **{
                "survey_id": str(uuid.uuid4()),
                "guest_id": self.GUEST_ID,
                "about": "stay",
                "reservation_id": str(uuid.uuid4()),
                "transfer_id": None,
                "name": "Lin Mei",
                "email": self.EMAIL,
                "phone": self.PHONE,
                "language": language,
                "survey_url": "https://harbourview.example/survey/tok-3f9a2c",
                "expires_at": utcnow() + timedelta(days=14),
                **overrides,
            }
        )

    def complaint(self, language: str = "en", **overrides: Any) -> ComplaintNotice:
        stage = overrides.get("stage", "acknowledged")
        return ComplaintNotice(
            **{
                "case_id": str(uuid.uuid4()),
                "case_number": "C-2030-0042",
                "stage": stage,
                "guest_id": self.GUEST_ID,
                "name": "Lin Mei",
                "email": self.EMAIL,
                "phone": self.PHONE,
                "language": language,
                "summary": "Air conditioning noisy all night in room 1208",
                "outcome": None if stage == "acknowledged" else "One night refunded to the card",
                "aggregate_version": 1,
                **overrides,
            }
        )

    def _member(self, language: str) -> dict[str, Any]:
        """Whom a member's notice is to (points expiring, birthday)."""
        return {
            "guest_id": self.GUEST_ID,
            "member_number": "M00012345",
            "name": "Lin Mei",
            "email": self.EMAIL,
            "phone": self.PHONE,
            "language": language,
        }

    def points_expiring(self, language: str = "en", **overrides: Any) -> PointsExpiring:
        return PointsExpiring(
            **{
                **self._member(language),
                "points": 12800,
                "expires_on": date(2030, 12, 31),
                **overrides,
            }
        )

    def birthday(self, language: str = "en", **overrides: Any) -> BirthdayBenefitGranted:
        return BirthdayBenefitGranted(
            **{
                **self._member(language),
                "benefit": "a late check-out until 16:00 and a birthday cake",
                "valid_until": date(2030, 7, 31),
                **overrides,
            }
        )

    def tier_changed(self, **overrides: Any) -> LoyaltyTierChanged:
        return LoyaltyTierChanged(
            **{
                "guest_id": self.GUEST_ID,
                "member_number": "M00012345",
                "tier": "silver" if overrides.get("reason") == "promoted" else "regular",
                "previous_tier": "regular" if overrides.get("reason") == "promoted" else None,
                "discount_percent": 15 if overrides.get("reason") == "promoted" else 10,
                "emails": [self.EMAIL],
                "phones": [self.PHONE],
                "reason": "enrolled",
                "at": utcnow(),
                "aggregate_version": 3,
                **overrides,
            }
        )


@pytest.fixture
def samples() -> Samples:
    return Samples()
