"""Standard Webhooks signatures (https://www.standardwebhooks.com): what a delivery carries and
how a receiver checks it.

Headers: `webhook-id` (the event id: the same on every attempt, so a receiver drops duplicates
by it), `webhook-timestamp` (unix seconds of this attempt), `webhook-signature`: space-separated
`v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}">`, keyed with the base64-decoded part of
the secret after `whsec_`. During a secret rotation's overlap two signatures are sent (new and
old): a receiver accepts the message if any one matches a secret it holds.
"""

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

from partner_service.subscriptions import SECRET_PREFIX

TOLERANCE_SECONDS = 300  # a receiver refuses a timestamp further off than this (replays)


class InvalidSignature(Exception):
    pass


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise InvalidSignature unless `body` with `headers` was signed with `secret` within
    `tolerance` seconds of `now`. `headers` by lower-case name (httpx and Starlette headers
    are case-insensitive already)."""
    try:
        msg_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        signatures = headers["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("missing or malformed webhook headers") from exc
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = signature(secret, msg_id, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise InvalidSignature("no matching signature")
