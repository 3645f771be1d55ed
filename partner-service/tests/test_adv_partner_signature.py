"""Adversarial: a hostile network replaying or altering a delivery against a receiver that
verifies as documented (`signing.verify`, the docs' snippets do the same).

Receiver tolerance, as documented: a timestamp more than 300 s off either way is refused; within
it a captured delivery verifies again, so receivers deduplicate by `webhook-id` (the same on
every attempt). Header names: as httpx and Starlette give them (case-insensitive), or a plain
dict with lower-case names (what the sender writes on the wire).
"""

import time
from collections.abc import Callable

import httpx
import pytest
from partner_service import signing
from partner_service.subscriptions import new_secret

BODY = b'{"id":"e-1","cursor":"7","type":"reservation.confirmed","payload":{}}'


def signed(secret: str, at: int, body: bytes = BODY, msg_id: str = "e-1") -> dict[str, str]:
    return signing.headers([secret], msg_id, at, body)


@pytest.mark.parametrize("offset", [-301, 301, -86400, 10**9])
def test_a_timestamp_outside_the_tolerance_is_refused(offset: int) -> None:
    secret = new_secret()
    now = int(time.time())
    with pytest.raises(signing.InvalidSignature, match="tolerance"):
        signing.verify(secret, signed(secret, now + offset), BODY, now=now)


def test_a_replay_inside_the_tolerance_verifies_so_receivers_deduplicate_by_id() -> None:
    secret = new_secret()
    now = int(time.time())
    headers = signed(secret, now - 299)
    signing.verify(secret, headers, BODY, now=now)
    assert headers["webhook-id"] == "e-1"


Tamper = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),
        lambda h, b: (h, b.replace(b'"7"', b'"8"')),
        lambda h, b: ({**h, "webhook-id": "e-2"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
        lambda h, b: ({**h, "webhook-signature": "v1," + "A" * 44}, b),
        lambda h, b: ({**h, "webhook-signature": "v2," + h["webhook-signature"][3:]}, b),
        lambda h, b: ({**h, "webhook-signature": ""}, b),
        lambda h, b: ({**h, "webhook-timestamp": "1e9"}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b),
    ],
)
def test_an_altered_delivery_is_refused(tamper: Tamper) -> None:
    secret = new_secret()
    headers, body = tamper(signed(secret, int(time.time())), BODY)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret, headers, body)


def test_another_subscriptions_secret_does_not_verify() -> None:
    mine, theirs = new_secret(), new_secret()
    with pytest.raises(signing.InvalidSignature, match="no matching"):
        signing.verify(mine, signed(theirs, int(time.time())), BODY)


def test_header_names_in_any_case_through_a_case_insensitive_mapping() -> None:
    secret = new_secret()
    wire = signed(secret, int(time.time()))
    shouting = httpx.Headers({k.upper(): v for k, v in wire.items()})
    signing.verify(secret, shouting, BODY)
