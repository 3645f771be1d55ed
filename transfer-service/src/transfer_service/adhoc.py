"""Ad-hoc transfers (issue 18): a ride between any two places asked for by staff for a guest, or
by a signed-in guest for themselves through the guest app, outside any booking.

Refused with nothing written: a pickup time already past (422 `pickup_past`) or more than
ten years (3660 days) ahead (422 `pickup_too_far`), a destination that is the pickup place (422
`same_place`: the same known place, or the same text), more passengers
than any vehicle of the fleet seats (422 `too_many_passengers`), an unknown field (422). Other
needs nothing carries yet (a wheelchair, child seats) open the job uncovered
(`no_vehicle_fits`): the fleet may still gain what it needs, and dispatch sees it flagged.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotel_common.contacts import Email, LanguageTag, Phone
from hotel_common.errors import ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.principal import Kind, Principal, Role, refused
from hotel_common.text import Text
from hotel_common.time import as_utc, utcnow
from pydantic import AwareDatetime, field_validator
from sqlalchemy import func
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit, jobs
from transfer_service.announce import record_assigned, transfer_assigned
from transfer_service.assignment import assign
from transfer_service.config import Settings
from transfer_service.models import STRICT, TransferJob, TransferKind, Transport, Vehicle, squeeze
from transfer_service.places import Atlas, key

# Staff who may order a ride for any guest (admin holds every role).
ORDERS_FOR_GUESTS = (Role.DISPATCHER, Role.FRONT_DESK, Role.MANAGER)
# The demo's hotels are in Shanghai; another property sends its zone.
DEFAULT_TIMEZONE = "Asia/Shanghai"
# How far ahead a ride may be ordered: ten years, as a dated shift (fleet.MAX_AHEAD). Further is
# a typo, and at the end of the calendar the crew window would not even fit in a datetime.
MAX_AHEAD = timedelta(days=3660)


class AdHocGuest(SQLModel):
    model_config = STRICT

    name: Text = Field(min_length=1, max_length=100)
    email: Email | None = Field(default=None, description="Required when staff order the ride")
    phone: Phone | None = None
    language: LanguageTag = "en"

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> object:
        return squeeze(value)


class TransferCreate(SQLModel):
    """An ad-hoc ride. A signed-in guest rides as themselves: the address they signed in with
    is the job's, whatever `guest.email`/`phone` say."""

    model_config = STRICT

    guest: AdHocGuest
    pickup_place: Text = Field(min_length=1, max_length=200)
    destination: Text = Field(min_length=1, max_length=200)
    pickup_time: AwareDatetime = Field(description="When the guest is met (with an offset)")
    passengers: int = Field(ge=1, le=60)
    luggage: int = Field(default=0, ge=0, le=100)
    flight_number: Text | None = Field(default=None, min_length=2, max_length=10)
    transport: Transport | None = None
    child_seats: int = Field(default=0, ge=0, le=10)
    wheelchair: bool = False
    language: LanguageTag | None = Field(
        default=None, description="A language the driver must speak (BCP-47)"
    )
    sign_name: Text | None = Field(default=None, min_length=1, max_length=100)
    notes: Text | None = Field(default=None, max_length=500)
    share_ok: bool = False
    property_timezone: Text = Field(default=DEFAULT_TIMEZONE, max_length=64)

    @field_validator("pickup_place", "destination", "sign_name", "notes", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return squeeze(value)

    @field_validator("property_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


def _refuse_same_place(atlas: Atlas, pickup_place: str, destination: str) -> None:
    """A ride goes somewhere: from a place to itself (the same known place under any of its
    spellings, or the same text, case and spacing aside) is refused (422 `same_place`)."""
    origin, target = atlas.resolve(pickup_place), atlas.resolve(destination)
    same_known = origin is not None and target is not None and origin.id == target.id
    if same_known or key(pickup_place) == key(destination):
        raise ProblemError(
            422, "same_place", "The pickup place and the destination are the same place."
        )


def may_order(principal: Principal) -> None:
    if principal.kind is Kind.GUEST:
        return
    if principal.kind is Kind.STAFF and principal.has(*ORDERS_FOR_GUESTS):
        return
    raise refused(principal)


async def create(
    session: AsyncSession,
    body: TransferCreate,
    principal: Principal,
    settings: Settings,
    now: datetime | None = None,
) -> TransferJob:
    """Open, assign and tell the ad-hoc ride; refused with nothing written (see module)."""
    may_order(principal)
    now = now or utcnow()
    pickup = as_utc(body.pickup_time)
    if pickup <= now:
        raise ProblemError(422, "pickup_past", "The pickup time is already past.")
    if pickup > now + MAX_AHEAD:
        raise ProblemError(
            422,
            "pickup_too_far",
            f"A ride is ordered at most {MAX_AHEAD.days} days ahead.",
            max_days_ahead=MAX_AHEAD.days,
        )
    most = (await session.exec(select(func.max(Vehicle.seats)))).one()
    if most is None or most < body.passengers:
        raise ProblemError(
            422,
            "too_many_passengers",
            f"No vehicle of the fleet seats {body.passengers} passengers.",
            max_seats=most or 0,
        )
    guest = body.guest
    if principal.kind is Kind.GUEST:
        email, phone, source = principal.email or "", principal.phone, "guest_app"
    else:
        if guest.email is None:
            raise ProblemError(
                422, "guest_email_required", "Staff ordering a ride give the guest's email."
            )
        email, phone, source = guest.email, guest.phone, "staff"
    atlas = await Atlas.load(session)
    _refuse_same_place(atlas, body.pickup_place, body.destination)
    columns, unknown = jobs.plan_ad_hoc(
        pickup, body.pickup_place, body.destination, body.property_timezone, settings, atlas
    )
    job = TransferJob(
        kind=TransferKind.AD_HOC,
        guest_name=guest.name,
        guest_email=email,
        guest_phone=phone,
        guest_language=guest.language,
        flight_number=body.flight_number,
        transport=body.transport,
        passengers=body.passengers,
        luggage=body.luggage,
        child_seats=body.child_seats,
        wheelchair=body.wheelchair,
        language=body.language,
        sign_name=body.sign_name,
        notes=body.notes,
        share_ok=body.share_ok,
        source=source,
        **columns,
    )
    jobs.flag(job, jobs.UNKNOWN_PLACE, unknown)
    assignment = await assign(session, job, settings)
    session.add(job)
    actor = audit.actor_of(principal)
    audit.record(session, job.id, actor, "created", kind=job.kind, source=source)
    if assignment is not None:
        record_assigned(session, job, assignment)
        add_event(session, transfer_assigned(job, assignment))
    else:
        audit.record(session, job.id, audit.SYSTEM, "uncovered", reason=job.uncovered_reason)
    return job
