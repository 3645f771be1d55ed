"""A partner's whole journey through a typed client generated from the platform's document
(issue 21): the document the gateway serves at /openapi.json goes through openapi-python-client
(the generator integrators use, warnings fatal), and the client it writes drives the platform
running embedded on a loopback port: an admin signs in and makes a partner and its key; the
partner subscribes a webhook, reads availability, books, confirms, reads its event feed and
verifies the signature of the webhook delivered for its confirmation.
"""

import asyncio
import base64
import hashlib
import hmac
import importlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from hotel_common.testing import eventually, serving
from launcher.embedded import create_embedded_app

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "hotel_client"
# No post-generation hooks (ruff over the generated code): not needed to import it, and slow.
CONFIG = {"post_hooks": [], "package_name_override": PACKAGE}
FAST = {"outbox_poll_seconds": 0.2, "retry_delays": [0.05, 0.1], "log_json": False}
FEED, WEBHOOKS = "/api/v1/events", "/api/v1/webhook-subscriptions"
SIGNATURE_TOLERANCE = 300  # seconds: a delivery older than this is refused (replays)


class Receiver:
    """A partner's webhook endpoint on loopback: keeps every delivery, answers 204."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.app = FastAPI()

        @self.app.post("/hooks")
        async def receive(request: Request) -> Response:
            self.deliveries.append((dict(request.headers), await request.body()))
            return Response(status_code=204)


def verify(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What a partner writes to trust a delivery (Standard Webhooks, docs/partners.md)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > SIGNATURE_TOLERANCE:
        raise ValueError("stale delivery")
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.removeprefix("v1,") for s in headers["webhook-signature"].split()]
    if not any(hmac.compare_digest(expected, s) for s in offered):
        raise ValueError("bad signature")
    event: dict[str, Any] = json.loads(body)
    return event


class Generated:
    """The client generated into a folder, and its endpoint modules by operation."""

    def __init__(self, doc: dict[str, Any], root: Path) -> None:
        self.doc = doc
        self.package = importlib.import_module(PACKAGE)
        self.api = root / PACKAGE / "api"

    def has(self, method: str, path: str) -> bool:
        return method in self.doc["paths"].get(path, {})

    def endpoint(self, method: str, path: str) -> ModuleType:
        """The module generated for an operation: api/<tag>/<operationId>.py."""
        op_id = self.doc["paths"][path][method]["operationId"]
        (found,) = self.api.glob(f"*/{op_id}.py")
        return importlib.import_module(f"{PACKAGE}.api.{found.parent.name}.{op_id}")

    async def call(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        answer = await self.endpoint(method, path).asyncio_detailed(**kwargs)
        assert answer.status_code == status, (method, path, answer.status_code, answer.content)
        return answer.parsed

    def body(self, method: str, path: str, value: dict[str, Any]) -> Any:
        """A request body as the generated model the operation takes (named by the document)."""
        model = get_type_hints(self.endpoint(method, path).asyncio_detailed)["body"]
        return model.from_dict(value)

    def model(self, name: str) -> Any:
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


async def generate(doc: dict[str, Any], root: Path) -> Generated:
    doc = json.loads(json.dumps(doc))  # as served
    (root / "openapi.json").write_text(json.dumps(doc))
    (root / "config.json").write_text(json.dumps(CONFIG))
    command = [str(GENERATOR), "generate", "--path", str(root / "openapi.json")]
    command += ["--meta", "none", "--output-path", str(root / PACKAGE)]
    command += ["--config", str(root / "config.json"), "--fail-on-warning"]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    # A warning (an operation or schema the generator dropped) fails the generation.
    assert process.returncode == 0, out.decode()
    return Generated(doc, root)


@pytest.fixture
async def client_root(tmp_path: Path) -> AsyncIterator[Path]:
    root = tmp_path / "client"
    root.mkdir()
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


async def test_a_partner_journey_through_the_generated_client(
    tmp_path: Path, client_root: Path
) -> None:
    app = create_embedded_app(
        tmp_path / "data", overrides={name: FAST for name in ["gateway", "partner-service"]}
    )
    receiver = Receiver()
    # The generator runs while the platform starts: the document needs no service started.
    generating = asyncio.create_task(generate(await app.state.openapi.document(), client_root))
    async with serving(app) as url, serving(receiver.app, lifespan="off") as hooks_url:
        # What an integrator downloads is the document the client is generated from.
        async with httpx.AsyncClient(base_url=url) as http:
            doc = (await http.get("/openapi.json")).json()
        assert "x-missing-services" not in doc
        gen = await generating
        assert gen.doc == doc
        Client, Authenticated = gen.package.Client, gen.package.AuthenticatedClient

        # An admin signs in (OAuth2 password) and makes a partner and its key.
        demo = app.state.runtime.extras["demo"]
        anonymous = Client(base_url=url, raise_on_unexpected_status=True)
        form = gen.model("BodyIssueToken")(
            username=demo["admin_email"], password=demo["admin_password"]
        )
        token = await gen.call("post", "/api/v1/auth/token", 200, client=anonymous, body=form)
        admin = Authenticated(base_url=url, token=token.access_token)
        partner_row = await gen.call(
            "post",
            "/api/v1/partners",
            201,
            client=admin,
            body=gen.body(
                "post", "/api/v1/partners", {"name": "Client OTA", "channel": "client_ota"}
            ),
        )
        scopes = ["reservations:read", "reservations:write"]
        key = await gen.call(
            "post",
            "/api/v1/partners/{partner_id}/keys",
            201,
            client=admin,
            partner_id=partner_row.id,
            body=gen.body("post", "/api/v1/partners/{partner_id}/keys", {"scopes": scopes}),
        )
        assert key.key.startswith("pk_")
        partner = Authenticated(
            base_url=url, token=key.key, prefix="", auth_header_name="X-API-Key"
        )

        # The partner's webhook first.
        subscription = await gen.call(
            "post",
            WEBHOOKS,
            201,
            client=partner,
            body=gen.body("post", WEBHOOKS, {"url": f"{hooks_url}/hooks", "event_types": ["*"]}),
        )
        assert subscription.secret.startswith("whsec_")

        # Availability, a booking under an idempotency key, its confirmation.
        check_in = date.today() + timedelta(days=30)
        check_out = check_in + timedelta(days=2)
        offer = await gen.call(
            "get",
            "/api/v1/availability",
            200,
            client=partner,
            check_in=check_in,
            check_out=check_out,
            guests=2,
        )
        room = next(r for r in offer.room_types if r.available > 0)
        booking = {
            "guest": {"name": "Li Wei", "email": "li.wei@example.com", "language": "en"},
            "room_type_code": room.room_type_code,
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
            "guests": 2,
        }
        created = await gen.call(
            "post",
            "/api/v1/reservations",
            201,
            client=partner,
            body=gen.body("post", "/api/v1/reservations", booking),
            idempotency_key=str(uuid.uuid4()),
        )
        assert created.channel == "client_ota"  # the key's partner made it
        assert created.total_amount == room.total_amount
        confirmed = await gen.call(
            "post",
            "/api/v1/reservations/{reservation_id}/confirm",
            200,
            client=partner,
            reservation_id=created.id,
        )
        assert confirmed.status.value == "confirmed"
        # An error is a typed Problem, as documented.
        missing = await gen.call(
            "get",
            "/api/v1/reservations/{reservation_id}",
            404,
            client=partner,
            reservation_id=str(uuid.uuid4()),
        )
        assert isinstance(missing, gen.model("Problem")) and missing.code

        # The feed: the booking's lifecycle, in cursor order, this partner's only. (The
        # generator names a field that shadows a builtin with a trailing "_": `type_`.)
        async def confirmation() -> Any:
            page = await gen.call("get", FEED, 200, client=partner)
            return next(
                (
                    e
                    for e in page.events
                    if e.type_ == "reservation.confirmed" and e.reservation_id == created.id
                ),
                None,
            )

        event = await eventually(confirmation, lambda e: e is not None, timeout=15)
        page = await gen.call("get", FEED, 200, client=partner)
        cursors = [int(e.cursor) for e in page.events]
        assert cursors == sorted(cursors) and page.next_cursor == page.events[-1].cursor
        assert {e.reservation_id for e in page.events} <= {created.id, None}

        # The webhook delivered for it carries a signature the partner verifies.
        def delivered() -> tuple[dict[str, str], bytes] | None:
            return next(
                (d for d in receiver.deliveries if d[0].get("webhook-id") == event.id), None
            )

        headers, body = await eventually(delivered, lambda d: d is not None, timeout=15)
        payload = verify(subscription.secret, headers, body)
        assert payload["id"] == event.id and payload["type"] == "reservation.confirmed"
        assert payload["cursor"] == event.cursor and payload["reservation_id"] == created.id
        tampered = body.replace(b"confirmed", b"cancelled")
        with pytest.raises(ValueError, match="bad signature"):
            verify(subscription.secret, headers, tampered)
