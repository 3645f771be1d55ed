"""Adversarial: hostile mapping bodies. Each is a problem+json 422 and writes nothing (no
mapping, no `partner.mapping_changed`).

What broke: two keys that are one code case-insensitively (`dbl` and `DBL`) were folded into
one silently, the last one winning: staff mapping `dbl` to KNG and `DBL` to STD got a mapping
they never saw, and bookings under that code landed in the other room type.
"""

from typing import Any

import pytest
from hotel_common.testing import PROBLEM_JSON, assert_problem

MAPPINGS = "/api/v1/partner-mappings"


@pytest.mark.parametrize(
    "body",
    [
        {"room_types": {"dbl": "KNG", "DBL": "STD"}},
        {"rate_plans": {"ro": "BASE", "RO": "BASE"}},
        {"room_types": {f"C{i}": "KNG" for i in range(501)}},
        {"room_types": {" DBL": "KNG", "DBL": "STD"}},
        {"room_types": {"DBLé": "KNG"}},
        {"room_types": {"DBL\u200b": "KNG"}},
        {"room_types": {"": "KNG"}},
        {"room_types": {"X" * 33: "KNG"}},
        {"room_types": {"DBL": "KNG\x00"}},
        {"room_types": {"DBL": ""}},
        {"room_types": {"DBL": "K" * 17}},
        {"room_types": {"DBL": ["KNG"]}},
        {"room_types": ["DBL"]},
        {"room_types": {"DBL": "KNG"}, "extra": 1},
    ],
)
async def test_a_hostile_mapping_is_a_422_and_writes_nothing(hotel: Any, body: Any) -> None:
    answer = await hotel.client.put(f"{MAPPINGS}/7/properties/1", json=body)
    assert answer.status_code == 422, (str(body)[:80], answer.text[:300])
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert (await hotel.client.get(MAPPINGS)).json()["items"] == []
    assert "partner.mapping_changed" not in {e.type for e in await hotel.published()}


async def test_a_case_collision_names_both_codes(hotel: Any) -> None:
    body = {"room_types": {"dbl": "KNG", "DBL": "STD"}}
    problem = assert_problem(
        await hotel.client.put(f"{MAPPINGS}/7/properties/1", json=body), 422, "validation_error"
    )
    assert "dbl" in str(problem) and "DBL" in str(problem)


async def test_a_hundred_thousand_codes_are_refused_before_parsing(hotel: Any) -> None:
    body = {"room_types": {f"C{i}": "KNG" for i in range(100_000)}}
    answer = await hotel.client.put(f"{MAPPINGS}/7/properties/1", json=body)
    assert answer.status_code in (413, 422), answer.text[:300]
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert (await hotel.client.get(MAPPINGS)).json()["items"] == []


@pytest.mark.parametrize("partner_id", ["x" * 65, "a" * 33, "OTA", "a b", "a%2Fb", "..", "é"])
async def test_a_malformed_partner_id_in_the_path_is_refused(hotel: Any, partner_id: str) -> None:
    answer = await hotel.client.put(
        f"{MAPPINGS}/{partner_id}/properties/1", json={"room_types": {"DBL": "KNG"}}
    )
    assert 400 <= answer.status_code < 500, answer.text  # "..": the path folds (405)
    assert (await hotel.client.get(MAPPINGS)).json()["items"] == []
