"""guest-service's tables beside their API schemas, one module per part of the CRM."""

from guest_service.models.history import BookingChannel, GuestFeedback, GuestTransfer
from guest_service.models.profiles import (
    NAME_MAX_LENGTH,
    ContactKind,
    DocumentType,
    Email,
    Gender,
    Guest,
    GuestBase,
    GuestContact,
    GuestCreate,
    GuestPublic,
    GuestStatus,
    GuestUpdate,
    Name,
    Phone,
    Source,
    _new_id,
)
from guest_service.models.segments import GuestValue, Segment, SegmentMember
from guest_service.models.stays import (
    GuestDetail,
    GuestStay,
    GuestStayBase,
    GuestStayPublic,
    StayStatus,
)

__all__ = [
    "NAME_MAX_LENGTH",
    "BookingChannel",
    "ContactKind",
    "DocumentType",
    "Email",
    "Gender",
    "Guest",
    "GuestBase",
    "GuestContact",
    "GuestCreate",
    "GuestDetail",
    "GuestFeedback",
    "GuestPublic",
    "GuestStatus",
    "GuestStay",
    "GuestStayBase",
    "GuestStayPublic",
    "GuestTransfer",
    "GuestUpdate",
    "GuestValue",
    "Name",
    "Phone",
    "Segment",
    "SegmentMember",
    "Source",
    "StayStatus",
    "_new_id",
]
