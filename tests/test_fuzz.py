"""schemathesis through the gateway: every operation of the merged OpenAPI document, with
generated valid and invalid requests, sent as every identity kind. Checks: no server error, the
answer matches the documented schema, invalid data is refused, a declared authentication is
enforced.

Bounded in the normal suite: one valid and one invalid example per operation (see `callers`);
`make fuzz` sets HOTEL_FUZZ_EXAMPLES (examples per operation and mode, default 25 there) and
sends every example as every kind. HOTEL_FUZZ_KINDS (comma-separated) narrows the kinds, e.g.
`HOTEL_FUZZ_KINDS=partner_a make fuzz`.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from access_policy import POLICY, Rule
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from identities import KINDS, LivePlatform
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
)

EXAMPLES = int(os.environ.get("HOTEL_FUZZ_EXAMPLES", "1"))
BOUNDED = "HOTEL_FUZZ_EXAMPLES" not in os.environ  # the run of the normal suite
FUZZ_KINDS = [
    kind for kind in os.environ.get("HOTEL_FUZZ_KINDS", ",".join(KINDS)).split(",") if kind
]
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection, ignored_auth]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    unknown = set(FUZZ_KINDS) - set(KINDS)
    assert not unknown, f"HOTEL_FUZZ_KINDS names no identity kind: {sorted(unknown)}"
    with LivePlatform(tmp_path_factory.mktemp("fuzz")) as platform:
        if set(FUZZ_KINDS) != {"anonymous"}:  # only anonymous needs nobody signed in
            platform.enroll()
        else:
            platform.headers["anonymous"] = {}
        yield platform


def callers(operation_id: str, mode: GenerationMode) -> list[str]:
    """Who sends the generated requests. Positive ones: every kind. Negative ones, in the
    bounded run: the kinds the policy admits (a refused caller is refused before its data is
    read, which the positive run already shows), else the first kind; `make fuzz`: every kind."""
    if mode is GenerationMode.POSITIVE or not BOUNDED:
        return FUZZ_KINDS
    rules = POLICY[operation_id].rules
    admitted = [kind for kind in FUZZ_KINDS if rules[kind] in (Rule.OK, Rule.OWN)]
    return admitted or FUZZ_KINDS[:1]


@pytest.fixture(scope="module")
def api_schema(live: LivePlatform) -> Any:
    # The gateway merges every service's document on this first request (900 kB since issue
    # 19); on a busy two-core machine that took longer than requests' 10 s default here.
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json", timeout=60)


# By the policy's operation ids: the matrix proves they are exactly the document's operations.
# (schemathesis' own pytest loader, from_fixture, does not run on pytest 9.)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("operation_id", sorted(POLICY))
def test_gateway_holds_its_contract_for_every_caller(
    live: LivePlatform, api_schema: Any, operation_id: str, mode: GenerationMode
) -> None:
    operation = api_schema.find_operation_by_id(operation_id)
    kinds = callers(operation_id, mode)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=BOUNDED,  # the bounded run is the same on every run
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def probe(case: schemathesis.Case) -> None:
        for kind in kinds:
            case.call_and_validate(
                base_url=live.url, headers=dict(live.headers[kind]), checks=CHECKS, timeout=30
            )

    try:
        probe()
    except Unsatisfiable:
        # Nothing about this operation can be sent wrong (e.g. one free-text path id): there is
        # no invalid request to refuse. Only negative generation may come up empty.
        if mode is not GenerationMode.NEGATIVE:
            raise
