from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Query, Request, Response
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.errors import ProblemError
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import booking_token
from hotel_common.time import IsoDate

from reservation_service import bookings, history, lifecycle
from reservation_service.access import (
    EVERY_BOOKING,
    Actor,
    ActorDep,
    MakerDep,
    ReadReach,
    WriteReach,
)
from reservation_service.api.contract import (
    CANCELLED_RESERVATION,
    CONFIRMED_RESERVATION,
    CREATED_RESERVATION,
    FORBIDDEN,
    INVALID_CURSOR,
    LOCATION,
    NEW_RESERVATION,
    OTA_RESERVATION,
    RESERVATION,
    RESERVATION_NOT_FOUND,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.api.deps import SettingsDep
from reservation_service.models import (
    CancelRequest,
    HistoryEntry,
    ReservationCreate,
    ReservationCreated,
    ReservationPublic,
    ReservationStatus,
)

HISTORY = [
    {
        "version": 1,
        "action": "created",
        "from_status": None,
        "to_status": "requested",
        "actor": "partner:7",
        "channel": "ctrip",
        "at": "2026-12-01T08:00:00Z",
        "changes": {},
    },
    {
        "version": 2,
        "action": "confirmed",
        "from_status": "requested",
        "to_status": "confirmed",
        "actor": "partner:7",
        "channel": "ctrip",
        "at": "2026-12-01T08:00:02Z",
        "changes": {},
    },
]

router = APIRouter(prefix="/api/v1/reservations", tags=["reservations"])

# A booking's access token outlives the stay by this much (late questions, invoices).
TOKEN_AFTER_CHECK_OUT = timedelta(days=30)

WHO_READS = (
    "Partners (API key with `reservations:read`) reach the bookings they made; signed-in "
    "guests the bookings made with their email or phone; a booking token its one booking; "
    "desk staff (front desk, reservations, manager) and marketing the bookings of their "
    "properties, marketing with the guest's email and phone masked."
)
WHO_WRITES = (
    "Partners (API key with `reservations:write`) reach the bookings they made; signed-in "
    "guests the bookings made with their email or phone; a booking token its one booking; "
    "desk staff (front desk, reservations, manager) the bookings of their properties. A booking "
    "you may not reach answers 404, as if it did not exist."
)


@router.post(
    "",
    status_code=201,
    response_model=ReservationCreated,
    summary="Request a booking",
    responses=answers(
        201,
        CREATED_RESERVATION,
        FORBIDDEN
        | {
            409: "no_property, request_in_progress (same Idempotency-Key still running), "
            "external_id_taken (another key of your channel used it), stay_restricted; with "
            "`confirm=true` also no_availability and hold_cap_reached (nothing is written)",
            422: f"{VALIDATION}: also for a body naming a field the caller may not set "
            "(channel, status, owner, prices); unmapped_code (a partner's own code its "
            "mapping at the property lacks), unknown_room_type, unknown_rate_plan, "
            "too_many_guests, guests_required, guests_mismatch, adults_required, "
            "room_type_required, rooms_conflict, source_not_allowed, external_id_not_allowed, "
            "too_many_passengers, check_out_not_after_check_in, stay_too_long, "
            "check_in_in_past, check_in_too_far, arrival_in_past, arrival_outside_stay, "
            "arrival_too_soon, idempotency_key_reused, unknown_property or property_required",
        },
        description="Booked: status `requested` (`confirmed` with `confirm=true`), priced in "
        "minor units of `currency`, with its access token. A repeated `external_id` answers "
        "200 with the booking it made",
        headers=LOCATION,
    ),
)
async def create_reservation(
    data: Annotated[
        ReservationCreate,
        Body(
            openapi_examples={
                "stay_with_pickup": {
                    "summary": "3 nights with an airport pickup",
                    "value": NEW_RESERVATION,
                },
                "ota_family": {
                    "summary": "An OTA's booking: two rooms, a child, its own id",
                    "value": OTA_RESERVATION,
                },
            }
        ),
    ],
    session: SessionDep,
    settings: SettingsDep,
    maker: MakerDep,
    request: Request,
    response: Response,
    confirm: Annotated[
        bool,
        Query(
            description="Book now: create and confirm in one call, holding every room, or "
            "nothing at all (409 no_availability / hold_cap_reached, no booking written)"
        ),
    ] = False,
) -> ReservationCreated:
    """Take a booking request: priced and numbered, status `requested`, no room held yet
    (confirm it to hold one).

    Anyone may book: the hotel's website and app without sign-in (channel `direct_web`), signed-in
    guests (`mobile_app`), partners with `reservations:write` (their key's channel) and desk staff
    (`front_desk`, at their properties). The channel, the owner, the status and the prices come
    from the caller and the catalog, never from the body.

    The answer carries `access_token`, shown only here: it lets its holder read, confirm and
    cancel this booking until 30 days after check-out. Send an `Idempotency-Key` header: a
    retry with the same key and body returns the first answer (token included).

    The party: `adults` and `children` (ages), or `guests` as before; several rooms under one
    confirmation number: `rooms`, each with its room type, plan and party (all or none are
    held on confirmation). `requests` are typed wishes used at room assignment, `source` says
    how the booking reached the hotel (desk staff: phone, walk_in or email). A partner's
    `external_id` names one booking on its channel: sending it again returns that booking
    (200), even when two requests race. `confirm=true` books now: created and confirmed in
    one transaction, or nothing is written. A partner with a code mapping at the property
    (`/partner-mappings`) sends its own room type and plan codes; the answer names the hotel's.
    """
    taken = await bookings.take(session, data, settings, maker)
    booking = taken.booking
    if confirm:
        actor = Actor(maker.owner, maker.channel)
        try:
            booking = await lifecycle.confirm(
                session, booking.reservation.id, EVERY_BOOKING, actor, settings=settings
            )
        except ProblemError as refused:
            if taken.replayed:
                raise
            # Nothing stays requested: the whole request is rolled back with the refusal.
            detail = refused.detail.replace("the booking stays requested", "nothing was booked")
            raise ProblemError(refused.status, refused.code, detail, **refused.extra) from None
    await session.commit()
    if taken.replayed:
        response.status_code = 200
    reservation = booking.reservation
    response.headers["Location"] = request.app.url_path_for(
        "get_reservation", reservation_id=reservation.id
    )
    until = datetime.combine(
        reservation.check_out + TOKEN_AFTER_CHECK_OUT,
        datetime.min.time(),
        ZoneInfo(booking.property.timezone),
    )
    lifetime = (until - datetime.now(UTC)).total_seconds()
    token = booking_token(reservation.id, settings.internal_secret, lifetime)
    return ReservationCreated(**booking.public().model_dump(), access_token=token)


@router.get(
    "",
    response_model=Page[ReservationPublic],
    summary="List bookings",
    description="The bookings you may reach, newest first, filtered; a booking you may not "
    "reach is absent whatever the filter (another's confirmation number: an empty page).\n\n"
    + WHO_READS,
    responses=answers(200, page(RESERVATION), INVALID_CURSOR | UNAUTHENTICATED | FORBIDDEN),
)
async def list_reservations(
    session: SessionDep,
    paging: PagingDep,
    reach: ReadReach,
    status: ReservationStatus | None = None,
    confirmation_number: Annotated[
        str | None,
        Query(description="Exact confirmation number, case-insensitive", examples=["HV7K3MQ9TZ"]),
    ] = None,
    email: Annotated[
        str | None,
        Query(description="The guest's email, case-insensitive", examples=["li.wei@example.com"]),
    ] = None,
    check_in_from: Annotated[IsoDate | None, Query(description="Check-in on or after")] = None,
    check_in_to: Annotated[IsoDate | None, Query(description="Check-in on or before")] = None,
) -> Page[ReservationPublic]:
    return await bookings.list_bookings(
        session,
        paging,
        reach,
        status=status,
        confirmation_number=confirmation_number,
        email=email,
        check_in_from=check_in_from,
        check_in_to=check_in_to,
    )


@router.get(
    "/{reservation_id}",
    response_model=ReservationPublic,
    summary="Read a booking",
    description="One booking by its id.\n\n"
    + WHO_READS
    + " A booking you may not reach answers 404, as if it did not exist.",
    responses=answers(200, RESERVATION, RESERVATION_NOT_FOUND | UNAUTHENTICATED | FORBIDDEN),
)
async def get_reservation(
    reservation_id: str, session: SessionDep, reach: ReadReach
) -> ReservationPublic:
    booking = await bookings.load(session, reservation_id, reach)
    return bookings.shown(booking.public(), reach)


@router.post(
    "/{reservation_id}/confirm",
    response_model=ReservationPublic,
    summary="Confirm a booking",
    description="Hold a room for every night and confirm; announces `reservation.confirmed` "
    "once. Confirming a confirmed booking returns it unchanged.\n\n" + WHO_WRITES,
    responses=answers(
        200,
        CONFIRMED_RESERVATION,
        RESERVATION_NOT_FOUND
        | UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "no_availability (the booking stays requested), hold_cap_reached (the "
            "booking's channel has its most unpaid rooms on hold), reservation_cancelled or "
            "check_in_passed (its check-in date is over at the property)",
        },
    ),
)
async def confirm_reservation(
    reservation_id: str,
    session: SessionDep,
    reach: WriteReach,
    actor: ActorDep,
    settings: SettingsDep,
) -> ReservationPublic:
    booking = await lifecycle.confirm(session, reservation_id, reach, actor, settings=settings)
    await session.commit()
    return booking.public()


@router.post(
    "/{reservation_id}/cancel",
    response_model=ReservationPublic,
    summary="Cancel a booking",
    description="Cancel a requested or confirmed booking, releasing its rooms; announces "
    "`reservation.cancelled` once. Cancelling a cancelled booking returns it unchanged.\n\n"
    + WHO_WRITES,
    responses=answers(
        200,
        CANCELLED_RESERVATION,
        RESERVATION_NOT_FOUND | UNAUTHENTICATED | FORBIDDEN | {422: VALIDATION},
    ),
)
async def cancel_reservation(
    reservation_id: str,
    session: SessionDep,
    reach: WriteReach,
    actor: ActorDep,
    body: Annotated[
        CancelRequest | None,
        Body(openapi_examples={"with_reason": {"value": {"reason": "Change of travel plans"}}}),
    ] = None,
) -> ReservationPublic:
    reason = body.reason if body else None
    booking = await lifecycle.cancel(session, reservation_id, reach, reason, actor)
    await session.commit()
    return booking.public()


@router.get(
    "/{reservation_id}/history",
    response_model=list[HistoryEntry],
    summary="A booking's history",
    description="Every change of the booking, oldest first: who made it (principal id, or "
    "`system:<worker>`), when, on which channel, the status before and after, and what changed."
    "\n\n" + WHO_READS + " A booking you may not reach answers 404, as if it did not exist.",
    responses=answers(200, HISTORY, RESERVATION_NOT_FOUND | UNAUTHENTICATED | FORBIDDEN),
)
async def reservation_history(
    reservation_id: str, session: SessionDep, reach: ReadReach
) -> list[HistoryEntry]:
    await bookings.load(session, reservation_id, reach)
    return await history.entries(session, reservation_id)
