"""guest-service's tables beside their API schemas, one module per part of the CRM."""

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
    "ContactKind",
    "DocumentType",
    "Email",
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
    "_new_id",
]

from guest_service.models.merges import (
    GuestMerge,
    GuestMergeCreate,
    GuestMergePublic,
    MergeSuggestion,
    MergeSuggestionPublic,
    Reason,
    SuggestedGuest,
    SuggestionStatus,
)

__all__ += [
    "GuestMerge",
    "GuestMergeCreate",
    "GuestMergePublic",
    "MergeSuggestion",
    "MergeSuggestionPublic",
    "Reason",
    "SuggestedGuest",
    "SuggestionStatus",
]
