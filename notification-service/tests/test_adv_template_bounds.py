"""A staff template is untrusted input: one that would build a huge text or loop for minutes is
refused when saved (422 problem+json, in well under a second, nothing stored), like one the
sandbox refuses; the shipped and ordinary templates still render."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import principal_headers, scratch_url

from .conftest import Service, StartService

API = "/api/v1/notification-templates"
SMS_EN = f"{API}/reservation_confirmed/sms/en"
MANAGER = principal_headers(
    Principal(id="staff:adv", kind=Kind.STAFF, roles=frozenset({Role.MANAGER}))
)

HOSTILE = {
    "repetition": "{{ 'x' * 20000000 }}",
    "list repetition": "{{ ([1] * 20000000)|length }}",
    "padding filter": "{{ ''|center(20000000) }}",
    "padding method": "{{ guest_name.ljust(20000000) }}",
    "format width": "{{ '%20000000s'|format(guest_name) }}",
    "str.format width": "{{ '{:>20000000}'.format(guest_name) }}",
    "percent width": "{{ '%20000000s' % guest_name }}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(26) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "replace": "{{ ('x' * 4000)|replace('x', 'y' * 4000) }}",
    "power": "{{ 7 ** (10 ** 6) % 10 }}",
    "nested loops": "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(4) %}"
    "{% endfor %}{% endfor %}{% endfor %}{{ guest_name }}",
    "long output": "{% for i in range(20000) %}{{ guest_name }}{% endfor %}",
}


@pytest.fixture
async def svc(tmp_path: Path, start_service: StartService) -> AsyncIterator[Service]:
    async with start_service(database_url=scratch_url("sqlite", tmp_path, "adv_bounds")) as s:
        yield s


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_template_building_too_much_is_refused_and_not_stored(
    svc: Service, body: str
) -> None:
    response = await svc.client.put(SMS_EN, json={"body": body}, headers=MANAGER)
    assert response.status_code == 422, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("template_render_error")
    stored = (await svc.client.get(SMS_EN, headers=MANAGER)).json()
    assert stored["source"] == "file"
    preview = await svc.client.post(
        f"{API}/preview",
        json={"kind": "reservation_confirmed", "channel": "sms", "language": "en",
              "template": {"body": body}},
        headers=MANAGER,
    )  # fmt: skip
    assert preview.status_code == 422, preview.text[:300]


async def test_ordinary_loops_padding_and_formats_still_render(svc: Service) -> None:
    body = (
        "|{{ guest_name|center(12) }}|{{ '%05d' % nights }}|{{ '{}!'.format(guest_name) }}|"
        "{% for c in confirmation_number %}{{ c }}{% endfor %}|{{ 'ab' * 3 }}|{{ 2 ** 10 }}|"
        "{{ guest_name ~ '/' ~ property_name }}|{{ guest_name|replace('Lin', 'LIN') }}"
    )
    response = await svc.client.put(SMS_EN, json={"body": body}, headers=MANAGER)
    assert response.status_code == 200, response.text
    preview = await svc.client.post(
        f"{API}/preview",
        json={"kind": "reservation_confirmed", "channel": "sms", "language": "en"},
        headers=MANAGER,
    )
    assert preview.json()["body"] == (
        "|  Lin Mei   |00003|Lin Mei!|HV-7K3Q9D|ababab|1024|Lin Mei/Harbour View Hotel|LIN Mei\n"
    )
