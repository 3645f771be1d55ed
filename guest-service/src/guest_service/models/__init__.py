"""guest-service's tables beside their API schemas, one module per part of the CRM."""

from guest_service.models.complaints import Complaint, ComplaintStep
from guest_service.models.feedback import FollowUp, Survey, SurveyResponse
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
from guest_service.models.stays import (
    GuestDetail,
    GuestStay,
    GuestStayBase,
    GuestStayPublic,
    StayStatus,
)

__all__ = [
    "NAME_MAX_LENGTH",
    "Complaint",
    "ComplaintStep",
    "ContactKind",
    "DocumentType",
    "Email",
    "FollowUp",
    "Gender",
    "Guest",
    "GuestBase",
    "GuestContact",
    "GuestCreate",
    "GuestDetail",
    "GuestPublic",
    "GuestStatus",
    "GuestStay",
    "GuestStayBase",
    "GuestStayPublic",
    "GuestUpdate",
    "Name",
    "Phone",
    "Source",
    "StayStatus",
    "Survey",
    "SurveyResponse",
    "_new_id",
]
