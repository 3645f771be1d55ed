"""Sample data per notice kind: exactly the variables each kind's builder (notices.py,
guest_notices.py, booking_notices.py, transfer_notices.py, reminders.py, and staff_inbox.py's
digest) gives its templates, with values like the builder's (already formatted).

The keys are the kind's allowed template variables: an override naming another is refused when
saved (templates.py); the values are what the preview and the trial render of a saved override
use. Every Kind needs an entry (tests/test_template_api.py fails for one without).
Flags are True and optional values set, so a trial render walks every branch a sample can.
"""

from typing import Any

from notification_service.models import Kind

SIGNATURE = "Harbour View Hotel"
_GUEST = {"guest_name": "Lin Mei", "confirmation_number": "HV-7K3Q9D"}
_STAY = {
    "property_name": "Harbour View Hotel",
    "check_in": "2030-06-01",
    "check_out": "2030-06-04",
}
_BOOKING = _STAY | {
    "room_type": "Deluxe King",
    "nights": 3,
    "guests": 2,
    "total": "CNY 2,640.00",
    "transfer_place": "Pudong International Airport T2",
    "transfer_arrival": "2030-06-01 14:30",
}
_CREW = {
    "driver_name": "Wang Qiang",
    "driver_phone": "+86 138 0013 8000",
    "vehicle_plate": "沪A·12345",
    "vehicle_description": "black Buick GL8",
}
_PICKUP = {
    "pickup_place": "Pudong International Airport T2",
    "destination": "Harbour View Hotel",
    "pickup_time": "2030-06-01 15:00",
    "driver_on_site": "2030-06-01 14:45",
    "flight_number": "MU5101",
}
_CASE = {
    "guest_name": "Lin Mei",
    "case_number": "C-2030-0042",
    "summary": "Noise from the corridor at night",
    "signature": SIGNATURE,
}
_MEMBER = {"guest_name": "Lin Mei", "member_number": "HV100234"}
_TIER = {
    "member_number": "HV100234",
    "tier": "Gold",
    "discount_percent": 10,
    "signature": SIGNATURE,
}
_HOLDS_UNTIL = "2030-05-20 17:00 (Asia/Shanghai, UTC+08:00)"
_DUE_AT = "2030-05-20 17:00 (Asia/Shanghai, UTC+08:00)"
_REMINDER_PICKUP = {
    "pickup": True,
    "pickup_time": "2030-06-01 15:00 (Asia/Shanghai, UTC+08:00)",
    "pickup_place": "Pudong International Airport T2",
    "destination": "Harbour View Hotel",
    "driver_name": "Wang Qiang",
    "driver_phone": "+86 138 0013 8000",
    "vehicle_plate": "沪A·12345",
    "vehicle_description": "black Buick GL8",
}

SAMPLES: dict[Kind, dict[str, Any]] = {
    Kind.RESERVATION_CONFIRMED: _GUEST | _BOOKING,
    Kind.TRANSFER_ASSIGNED: _GUEST | _PICKUP | _CREW | {"signature": SIGNATURE},
    Kind.RESERVATION_CANCELLED: _GUEST
    | _STAY
    | {"guarantee_expired": True, "fee": "CNY 488.00", "refund": "CNY 792.00"},
    Kind.RESERVATION_MODIFIED: _GUEST
    | _BOOKING
    | {
        "was_check_in": "2030-05-31",
        "was_check_out": "2030-06-03",
        "was_guests": 1,
        "was_total": "CNY 1,980.00",
        "room_type_changed": True,
        "transfer_removed": False,
    },
    Kind.RESERVATION_EXPIRED: _GUEST | _STAY,
    Kind.TRANSFER_RESCHEDULED: _GUEST
    | _PICKUP
    | _CREW
    | {
        "flight_moved": True,
        "previous_pickup_time": "2030-06-01 13:00",
        "crew_known": True,
        "signature": SIGNATURE,
    },
    Kind.TRANSFER_REASSIGNED: _GUEST | _PICKUP | _CREW | {"signature": SIGNATURE},
    Kind.TRANSFER_NO_SHOW: _GUEST | {"closed_at": "2030-06-01 16:10", "signature": SIGNATURE},
    Kind.SIGN_IN_CODE: {"code": "{code}", "minutes": 10, "signature": SIGNATURE},
    Kind.SURVEY_INVITATION: {
        "guest_name": "Lin Mei",
        "about_transfer": False,
        "survey_url": "https://survey.harbourview.example/s/3f9a1c",
        "expires_on": "2030-06-18",
        "signature": SIGNATURE,
    },
    Kind.COMPLAINT_ACKNOWLEDGED: _CASE,
    Kind.COMPLAINT_RESOLVED: _CASE | {"outcome": "We moved you to a quiet room."},
    Kind.COMPLAINT_REJECTED: _CASE | {"outcome": "The noise came from a licensed event."},
    Kind.POINTS_EXPIRING: _MEMBER
    | {"points": "1,200", "expires_on": "2030-06-30", "signature": SIGNATURE},
    Kind.BIRTHDAY_GREETING: _MEMBER
    | {"benefit": "A free dessert", "valid_until": "2030-06-30", "signature": SIGNATURE},
    Kind.LOYALTY_WELCOME: _TIER,
    Kind.LOYALTY_PROMOTION: _TIER,
    # Issue 20: the booking's notices (booking_notices.py) and its reminders (reminders.py).
    Kind.RESERVATION_CREATED: _GUEST
    | _STAY
    | {
        "room_type": "Deluxe King",
        "nights": 3,
        "guests": 2,
        "total": "CNY 2,640.00",
        "deposit": True,
        "prepayment": True,
        "guarantee_amount": "CNY 384.00",
        "guarantee_hours": 48,
        "holds_until": _HOLDS_UNTIL,
    },
    Kind.GUARANTEE_REMINDER: _GUEST
    | _STAY
    | {"deposit": True, "guarantee_amount": "CNY 384.00", "due_at": _DUE_AT},
    Kind.GUARANTEE_EXPIRED: _GUEST | _STAY | {"fee": "CNY 488.00", "refund": "CNY 792.00"},
    Kind.RESERVATION_NO_SHOW: _GUEST | _STAY | {"fee": "CNY 880.00"},
    Kind.ARRIVAL_REMINDER: _GUEST
    | _STAY
    | _REMINDER_PICKUP
    | {"room_type": "Deluxe King", "check_in_time": "14:00"},
    Kind.DEPARTURE_REMINDER: _GUEST | _STAY | _REMINDER_PICKUP | {"check_out_time": "12:00"},
    Kind.STAY_THANKS: _GUEST | _STAY | {"nights": 3},
    Kind.SURVEY_FOLLOW_UP: {
        "guest_name": "Lin Mei",
        "survey_url": "https://survey.harbourview.example/s/3f9a1c",
        "expires_on": "2030-06-18",
        "signature": SIGNATURE,
    },
    # Issue 20: transfers (transfer_notices.py), complaints and loyalty (guest_notices.py).
    Kind.DRIVER_ON_SITE: _GUEST
    | _CREW
    | {
        "pickup_place": "Pudong International Airport T2",
        "arrived_at": "2030-06-01 14:45",
        "signature": SIGNATURE,
    },
    Kind.TRANSFER_CANCELLED: _GUEST
    | {
        "pickup_place": "Pudong International Airport T2",
        "pickup_time": "2030-06-01 15:00",
        "signature": SIGNATURE,
    },
    Kind.COMPLAINT_PROGRESS: _CASE
    | {"step_investigating": True, "step_remedy_proposed": True, "step_awaiting_approval": True},
    Kind.LOYALTY_DEMOTION: {
        "member_number": "HV100234",
        "tier": "Silver",
        "previous_tier": "Gold",
        "discount_percent": 5,
        "signature": SIGNATURE,
    },
    # Issue 20: the staff inbox's digest (staff_inbox.py).
    Kind.STAFF_DIGEST: {
        "count": 2,
        "alerts": [
            {"title": "Guest not reached: pickup (HV-7K3Q9D)", "at": "2030-06-01 06:58 UTC"},
            {"title": "Pickup no-show: HV-7K3Q9D", "at": "2030-06-01 07:40 UTC"},
        ],
    },
    # Issue 21: a partner's webhook subscription disabled (partner_notices.disabled_context).
    Kind.PARTNER_WEBHOOK_DISABLED: {
        "partner_id": "ota-blue",
        "subscription_id": "7f3c2a1e-5b6d-4c8e-9f0a-1b2c3d4e5f60",
        "url": "https://hooks.ota-blue.example/hotel",
        "failing_since": "2030-06-01 06:58 UTC",
        "disabled_at": "2030-06-02 07:00 UTC",
        "last_error": "HTTP 503",
        "reenable": "PATCH /api/v1/webhook-subscriptions/7f3c2a1e-5b6d-4c8e-9f0a-1b2c3d4e5f60",
    },
}


def variables_of(kind: str) -> frozenset[str]:
    """The variables a kind's templates may use (empty: a kind without a sample yet)."""
    sample = SAMPLES.get(Kind(kind))
    return frozenset(sample) if sample is not None else frozenset()
