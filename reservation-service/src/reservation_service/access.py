"""Who may reach which booking (docs/access.md, reservation-service).

The route admits a caller by kind and role (`hotel_common.principal.require`); which bookings it
then reaches is a SQL condition (`Reach.where`) added to the domain query itself, so a booking of
another tenant is never loaded: by id, by list filter, by confirm or cancel it answers 404
`reservation_not_found`, exactly as a booking that does not exist.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from hotel_common.errors import ProblemError
from hotel_common.principal import ApiScope, Kind, Principal, Role, get_principal, require
from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import col

from reservation_service.models import Property, Reservation, RoomType

# Staff who work with bookings; admin holds every role (Principal.has).
DESK = (Role.FRONT_DESK, Role.RESERVATIONS, Role.MANAGER)

# Channels of bookings made by callers that are not partners (a partner's comes from its key).
DIRECT_WEB = "direct_web"
MOBILE_APP = "mobile_app"
FRONT_DESK = "front_desk"


@dataclass(frozen=True)
class Reach:
    """The bookings a caller reaches, as a condition over Reservation joined to RoomType, and
    whether the guest's email and phone are masked in what it is shown."""

    where: ColumnElement[bool]
    masked: bool = False


# Who manages the catalog, and who reads the rooms (their properties).
MANAGERS = Depends(require(Role.MANAGER))
ROOM_READERS = Annotated[Principal, Depends(require(*DESK, Role.HOUSEKEEPING))]


# The service itself (event consumers, maintenance): every booking.
EVERY_BOOKING = Reach(true())


def in_properties(principal: Principal) -> ColumnElement[bool]:
    """Staff see the bookings of their properties (None: every property)."""
    if principal.properties is None:
        return true()
    return col(RoomType.property_id).in_(sorted(principal.properties))


def _own(principal: Principal) -> ColumnElement[bool]:
    """The bookings of a partner, guest or booking holder: theirs only."""
    if principal.kind is Kind.PARTNER:
        return col(Reservation.owner) == principal.id
    if principal.kind is Kind.BOOKING:
        if principal.reservation_id is None:
            return false()
        return col(Reservation.id) == principal.reservation_id
    # A guest: the bookings made with the address (or phone) the guest proved to hold.
    matches = []
    if principal.email:
        matches.append(col(Reservation.guest_email) == principal.email.lower())
    if principal.phone:
        matches.append(col(Reservation.guest_phone) == principal.phone)
    return or_(*matches) if matches else false()


_SELF_SERVICE = (Kind.PARTNER, Kind.GUEST, Kind.BOOKING)
_ReadAdmitted = Annotated[
    Principal, Depends(require(*DESK, Role.MARKETING, kinds=(*_SELF_SERVICE, Kind.SERVICE)))
]
_WriteAdmitted = Annotated[Principal, Depends(require(*DESK, kinds=_SELF_SERVICE))]


def _needs_scope(principal: Principal, scope: ApiScope) -> None:
    if principal.kind is Kind.PARTNER and not principal.may(scope):
        raise ProblemError(403, "forbidden", f"This API key lacks the scope {scope}.")


async def read_reach(principal: _ReadAdmitted) -> Reach:
    """Listing and reading bookings: partners (reservations:read) their own, guests and booking
    holders theirs, desk staff and marketing their properties (marketing masked), the gateway
    itself (kind service) every booking."""
    if principal.kind is Kind.SERVICE:
        return EVERY_BOOKING
    if principal.kind in _SELF_SERVICE:
        _needs_scope(principal, ApiScope.RESERVATIONS_READ)
        return Reach(_own(principal))
    return Reach(in_properties(principal), masked=not principal.has(*DESK))


async def write_reach(principal: _WriteAdmitted) -> Reach:
    """Confirming and cancelling: partners (reservations:write) their own, guests and booking
    holders theirs, desk staff their properties."""
    if principal.kind in _SELF_SERVICE:
        _needs_scope(principal, ApiScope.RESERVATIONS_WRITE)
        return Reach(_own(principal))
    return Reach(in_properties(principal))


ReadReach = Annotated[Reach, Depends(read_reach)]
WriteReach = Annotated[Reach, Depends(write_reach)]


@dataclass(frozen=True)
class Maker:
    """Who makes a booking: the channel and owner it records, and the caller, whose property
    limits `check_property` applies."""

    principal: Principal
    channel: str
    owner: str

    def check_property(self, prop: Property) -> None:
        check_property(self.principal, prop)


def check_property(principal: Principal, prop: Property) -> None:
    """Staff work only at their properties (the catalog is public, so this is a 403, not a
    404: the property is no secret, the right to act there is missing)."""
    if prop.id is None or not principal.sees_property(prop.id):
        raise ProblemError(403, "forbidden", f"Property {prop.id} is not one of yours.")


_MakeAdmitted = Annotated[
    Principal, Depends(require(*DESK, kinds=(*_SELF_SERVICE, Kind.ANONYMOUS)))
]


def channel_of(principal: Principal) -> str:
    """The channel a caller acts on: a partner key's channel code, the mobile app for signed-in
    guests, the direct web channel for anonymous callers and booking holders, else the desk."""
    match principal.kind:
        case Kind.PARTNER:
            return principal.channel or "partner"
        case Kind.GUEST:
            return MOBILE_APP
        case Kind.ANONYMOUS | Kind.BOOKING:
            return DIRECT_WEB
        case Kind.SERVICE:
            return "system"
        case _:
            return FRONT_DESK


async def maker(principal: _MakeAdmitted) -> Maker:
    """Booking: anonymous callers and booking holders on the direct web channel, guests on the
    mobile app, partners (reservations:write) on their key's channel, desk staff at the desk."""
    if principal.kind is Kind.PARTNER:
        _needs_scope(principal, ApiScope.RESERVATIONS_WRITE)
        if not principal.channel:
            raise ProblemError(403, "forbidden", "This API key is bound to no channel.")
    return Maker(principal, channel_of(principal), principal.id)


MakerDep = Annotated[Maker, Depends(maker)]


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the booking's history records it."""

    id: str  # principal id, or "system:<worker>"
    channel: str


def system(worker: str) -> Actor:
    """A change the service makes by itself (expiry, no-show, guarantee workers)."""
    return Actor(f"system:{worker}", "system")


async def actor(principal: Annotated[Principal, Depends(get_principal)]) -> Actor:
    return Actor(principal.id, channel_of(principal))


ActorDep = Annotated[Actor, Depends(actor)]
