"""Adversarial: a partner key without `reservations:read` (say an `ari:write` key a channel
manager holds for rate pushes) reading bookings through the feed or the webhooks.

`GET /reservations` refuses such a key (403: the key lacks the scope), yet the feed handed it
every booking event of its partner (guest name, e-mail, amounts), and the key could point a
webhook subscription (or redeliveries) at a URL of its own to receive them. Now: without
`reservations:read` the feed shows only what is not about a booking (availability), and
changing webhooks (subscribe, change, delete, rotate, redeliver) needs the scope; reading a
subscription's state and log (no payloads) does not.
"""

from pathlib import Path

from hotel_common.principal import ApiScope, Kind, Principal
from hotel_common.testing import assert_problem, principal_headers
from hotel_common.time import utcnow
from partner_service import feed

from .webhook_support import new_partner_id, platform

URL = "http://127.0.0.1:9/hook"
SUBS = "/api/v1/webhook-subscriptions"


def key(partner_id: str, *scopes: ApiScope) -> Principal:
    return Principal(
        id=f"partner:{partner_id}", kind=Kind.PARTNER, channel="ota", scopes=frozenset(scopes)
    )


async def test_a_key_without_reservations_read_sees_no_booking_in_the_feed(
    tmp_path: Path,
) -> None:
    async with platform(tmp_path) as p:
        await p.append(2)  # booking events of p's partner
        async with p.runtime.sessions() as session:
            await feed.append(
                session,
                p.partner_id,
                event_id="4f1f1f1f-0000-4000-8000-000000000001",
                event_type="availability.changed",
                occurred_at=utcnow(),
                payload={"property_id": 1},
            )
            await session.commit()
        secret = p.runtime.settings.internal_secret
        ari = principal_headers(key(p.partner_id, ApiScope.ARI_WRITE), secret)
        page = (await p.client.get("/api/v1/events", headers=ari)).json()
        assert [e["type"] for e in page["events"]] == ["availability.changed"]
        assert page["next_cursor"] == "3"
        typed = await p.client.get(
            "/api/v1/events", headers=ari, params={"types": "reservation.confirmed"}
        )
        assert typed.json()["events"] == []

        reader = principal_headers(key(p.partner_id, ApiScope.RESERVATIONS_READ), secret)
        full = (await p.client.get("/api/v1/events", headers=reader)).json()
        assert len(full["events"]) == 3


async def test_a_key_without_reservations_read_cannot_steer_webhooks(tmp_path: Path) -> None:
    async with platform(tmp_path) as p:
        made = await p.subscribe(URL)
        [event_id] = await p.append()
        secret = p.runtime.settings.internal_secret
        ari = principal_headers(key(p.partner_id, ApiScope.ARI_WRITE), secret)
        base = f"{SUBS}/{made['id']}"
        for method, path, body in [
            ("POST", SUBS, {"url": URL, "event_types": ["*"]}),
            ("PATCH", base, {"url": "http://127.0.0.1:10/mine"}),
            ("DELETE", base, None),
            ("POST", f"{base}/rotate-secret", None),
            ("POST", f"{base}/redeliveries", {"event_id": event_id}),
        ]:
            answer = await p.client.request(method, path, json=body, headers=ari)
            assert_problem(answer, 403, "forbidden")
            assert "reservations:read" in answer.json()["detail"]
        # Reading the state and the log (no payloads, no secret) is fine.
        assert (await p.client.get(base, headers=ari)).status_code == 200
        assert (await p.client.get(f"{base}/deliveries", headers=ari)).status_code == 200
        assert (await p.subscription(made["id"]))["url"] == URL
        other = new_partner_id()
        assert (await p.as_partner(other).get(base)).status_code == 404
