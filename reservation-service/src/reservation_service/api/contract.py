"""What the OpenAPI document says besides the schemas: the answers each operation may give
(error codes by status) and one example per operation, in one place for every router."""

from typing import Any

# Problem answers shared by many operations: {status: what it means}.
UNAUTHENTICATED = {
    401: "unauthenticated: sign in (guest or staff token, booking token) or send an API key"
}
FORBIDDEN = {403: "forbidden: your kind of credentials, role or API key scopes do not allow this"}
INVALID_CURSOR = {400: "invalid_cursor: not a next_cursor of this list with these filters"}
VALIDATION = "validation_error (the `errors` name each field)"
RESERVATION_NOT_FOUND = {
    404: "reservation_not_found: no such booking, or not one you may reach (another partner's, "
    "guest's or property's bookings answer the same)"
}


def page(*items: dict[str, Any]) -> dict[str, Any]:
    """An example list answer."""
    return {"items": list(items), "next_cursor": None}


LOCATION = {
    "Location": {
        "description": "Path of the new resource",
        "schema": {"type": "string"},
        "example": "/api/v1/reservations/0b5e8b9e-2f0c-4a51-9d2a-51a9c1e0f3d7",
    }
}

PROPERTY = {
    "id": 1,
    "name": "Harbour View Hotel",
    "timezone": "Asia/Shanghai",
    "currency": "CNY",
    "check_in_time": "14:00:00",
    "check_out_time": "12:00:00",
}
NEW_PROPERTY = {k: v for k, v in PROPERTY.items() if k != "id"}

ROOM_TYPE = {
    "id": 2,
    "property_id": 1,
    "code": "KNG",
    "name": "King Room",
    "description": "One king bed, armchair, rain shower.",
    "capacity": 2,
    "bed_type": "king",
    "base_amount": 52800,
    "smoking": False,
    "accessible": False,
    "min_floor": 5,
    "max_floor": 12,
    "currency": "CNY",
}
NEW_ROOM_TYPE = {k: v for k, v in ROOM_TYPE.items() if k not in {"id", "property_id", "currency"}}

ROOM = {
    "id": 7,
    "number": "0701",
    "floor": 7,
    "features": ["non-smoking", "accessible"],
    "housekeeping_status": "clean",
    "property_id": 1,
    "room_type_id": 2,
    "room_type_code": "KNG",
}
NEW_ROOM = {"number": "0701", "floor": 7, "features": ["non-smoking"], "room_type_code": "KNG"}

AVAILABILITY = {
    "property_id": 1,
    "check_in": "2030-06-01",
    "check_out": "2030-06-04",
    "nights": 3,
    "guests": 2,
    "room_types": [
        {
            "room_type_code": "KNG",
            "name": "King Room",
            "capacity": 2,
            "bed_type": "king",
            "available": 6,
            "nightly_amount": 52800,
            "total_amount": 158400,
            "currency": "CNY",
        }
    ],
}

OTA_RESERVATION = {
    "guest": {"name": "Anna Schmidt", "email": "anna.schmidt@example.com", "language": "de"},
    "check_in": "2030-06-01",
    "check_out": "2030-06-04",
    "rooms": [
        {"room_type_code": "KNG", "adults": 2, "children": [7]},
        {"room_type_code": "STD", "adults": 1},
    ],
    "requests": [{"code": "non_smoking"}, {"code": "bed_type", "value": "king"}],
    "external_id": "BKG-4711-0815",
}

NEW_RESERVATION = {
    "guest": {
        "name": "Li Wei",
        "email": "li.wei@example.com",
        "phone": "+8613800138000",
        "language": "zh-Hans",
    },
    "room_type_code": "KNG",
    "check_in": "2030-06-01",
    "check_out": "2030-06-04",
    "guests": 2,
    "special_requests": "High floor, please.",
    "transfer": {
        "flight_number": "MU5101",
        "arrival_time": "2030-06-01T06:30:00Z",
        "pickup_place": "Shanghai Pudong International Airport T2",
        "passengers": 2,
        "luggage": 2,
        "transport": "domestic_flight",
        "sign_name": "LI WEI",
    },
    "departure": {
        "flight_number": "MU5102",
        "departure_time": "2030-06-04T09:00:00Z",
        "dropoff_place": "Shanghai Hongqiao T2",
        "passengers": 2,
        "luggage": 2,
        "transport": "domestic_flight",
    },
}

RESERVATION = {
    "id": "0b5e8b9e-2f0c-4a51-9d2a-51a9c1e0f3d7",
    "confirmation_number": "HV7K3MQ9TZ",
    "status": "requested",
    "property_id": 1,
    "guest": NEW_RESERVATION["guest"],
    "room_type_code": "KNG",
    "room_type_name": "King Room",
    "check_in": "2030-06-01",
    "check_out": "2030-06-04",
    "nights": 3,
    "guests": 2,
    "nightly_amount": 52800,
    "total_amount": 158400,
    "currency": "CNY",
    "special_requests": "High floor, please.",
    "transfer": NEW_RESERVATION["transfer"],
    "departure": NEW_RESERVATION["departure"],
    "transfers_included": False,
    "channel": "direct_web",
    "created_at": "2030-05-20T08:15:00Z",
    "updated_at": "2030-05-20T08:15:00Z",
    "confirmed_at": None,
    "cancelled_at": None,
    "cancel_reason": None,
    "checked_in_at": None,
    "checked_out_at": None,
    "expires_at": "2030-05-21T08:15:00Z",
    "rate_plan_code": "BASE",
    "nightly_amounts": [52800, 52800, 52800],
    "tax_amount": 0,
    "policy": {
        "cancellation": {"free_until_hours": 24, "fee": "first_night", "fee_percent": 0},
        "guarantee": {"kind": "none", "deposit_percent": 0, "due_hours": 24},
    },
    "guarantee_due_at": None,
    "guaranteed_at": None,
    "no_show_at": None,
    "cancellation_fee_amount": 0,
    "refund_amount": 0,
}
CREATED_RESERVATION = RESERVATION | {"access_token": "bk_eyJraW5kIjoiYm9va2luZyJ9.c2lnbmF0dXJl"}
CONFIRMED_RESERVATION = RESERVATION | {
    "status": "confirmed",
    "updated_at": "2030-05-20T08:16:00Z",
    "confirmed_at": "2030-05-20T08:16:00Z",
    "expires_at": None,
}
CANCELLED_RESERVATION = RESERVATION | {
    "status": "cancelled",
    "updated_at": "2030-05-21T09:00:00Z",
    "cancelled_at": "2030-05-21T09:00:00Z",
    "cancel_reason": "Change of travel plans",
}
