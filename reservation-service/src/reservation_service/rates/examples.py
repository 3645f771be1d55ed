"""OpenAPI examples of the rates routes (what api/contract.py is for the others)."""

from typing import Any

CANCELLATION = {"free_until_hours": 24, "fee": "first_night", "fee_percent": 0}
GUARANTEE = {"kind": "none", "deposit_percent": 0, "due_hours": 24}

NEW_BASE_PLAN: dict[str, Any] = {
    "room_type_code": "KNG",
    "code": "BASE",
    "name": "Best available rate",
    "weekday_amount": 52800,
    "weekend_amount": 58800,
    "seasons": [
        {
            "name": "Golden Week",
            "start": "2030-10-01",
            "end": "2030-10-08",
            "weekday_amount": 78800,
        }
    ],
}
NEW_DERIVED_PLAN: dict[str, Any] = {
    "room_type_code": "KNG",
    "code": "MEMBER10",
    "name": "Member rate",
    "parent_code": "BASE",
    "discount_bp": 1000,
    "cancellation": {"free_until_hours": 48, "fee": "percent", "fee_percent": 50},
    "guarantee": {"kind": "deposit", "deposit_percent": 30, "due_hours": 48},
}
RATE_PLAN: dict[str, Any] = {
    "id": 3,
    "property_id": 1,
    "room_type_code": "KNG",
    "code": "BASE",
    "name": "Best available rate",
    "kind": "base",
    "parent_code": None,
    "discount_bp": None,
    "weekday_amount": 52800,
    "weekend_amount": 58800,
    "currency": "CNY",
    "seasons": [
        {
            "name": "Golden Week",
            "start": "2030-10-01",
            "end": "2030-10-08",
            "weekday_amount": 78800,
            "weekend_amount": None,
            "currency": "CNY",
        }
    ],
    "cancellation": CANCELLATION,
    "guarantee": GUARANTEE,
    "includes_transfers": False,
}
RATES_PUSH = {"ranges": [{"start": "2030-06-01", "end": "2030-07-01", "amount": 61800}]}
RESTRICTIONS_PUSH = {
    "ranges": [
        {"start": "2030-06-01", "end": "2030-07-01", "weekdays": [5, 6], "min_stay": 2},
        {"start": "2030-06-14", "end": "2030-06-15", "stop_sell": True},
    ]
}
PUSH_RESULT = {"rate_plan_id": 3, "rate_plan_code": "BASE", "nights": 30, "changed": 30}
ARI = {
    "property_id": 1,
    "start": "2030-06-01",
    "end": "2030-06-03",
    "currency": "CNY",
    "room_types": [
        {
            "room_type_code": "KNG",
            "free": [7, 6],
            "rate_plans": [
                {
                    "rate_plan_id": 3,
                    "code": "BASE",
                    "kind": "base",
                    "nights": [
                        {
                            "night": "2030-06-01",
                            "amount": 61800,
                            "min_stay": 2,
                            "max_stay": None,
                            "closed_to_arrival": False,
                            "closed_to_departure": False,
                            "stop_sell": False,
                        },
                        {
                            "night": "2030-06-02",
                            "amount": 61800,
                            "min_stay": None,
                            "max_stay": None,
                            "closed_to_arrival": False,
                            "closed_to_departure": False,
                            "stop_sell": False,
                        },
                    ],
                }
            ],
        }
    ],
}
NEW_QUOTE = {
    "room_type_code": "KNG",
    "rate_plan_code": "MEMBER10",
    "check_in": "2030-06-01",
    "check_out": "2030-06-03",
    "adults": 2,
    "children": [],
}
QUOTE = {
    "property_id": 1,
    "room_type_code": "KNG",
    "rate_plan_id": 4,
    "rate_plan_code": "MEMBER10",
    "check_in": "2030-06-01",
    "check_out": "2030-06-03",
    "nights": 2,
    "guests": 2,
    "nightly": [
        {"night": "2030-06-01", "amount": 47520},
        {"night": "2030-06-02", "amount": 47520},
    ],
    "room_amount": 95040,
    "tax_rate_bp": 600,
    "tax_amount": 5702,
    "total_amount": 100742,
    "currency": "CNY",
    "available": 6,
    "policy": {
        "cancellation": {"free_until_hours": 48, "fee": "percent", "fee_percent": 50},
        "guarantee": {"kind": "deposit", "deposit_percent": 30, "due_hours": 48},
    },
    "free_cancellation_until": "2030-05-30T06:00:00Z",
    "guarantee_amount": 30223,
}
