"""One OpenAPI document for the platform, merged from the services' own documents.

Each service's document is fetched through its upstream on first use and kept; a service
that is down is left out (listed in `x-missing-services`) and asked again next time.

The merged document is a contract integrators generate clients from (issue 21): every schema
it defines carries a title unique in the document (generators name classes after titles), a
request or response body is always a named schema, and `info.version` is API_VERSION, checked
against the released document (openapi/released.json) by gateway.compat.
"""

import asyncio
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from hotel_common.errors import PROBLEM_JSON, Problem, document_problems
from hotel_common.idempotency import document_idempotency

from gateway.identity.idempotent import IDEMPOTENT_PATHS
from gateway.routes import resolve
from gateway.upstream import Upstream, UpstreamError

log = logging.getLogger(__name__)

REF = "#/components/"
OPERATIONS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
Component = tuple[str, str]  # (section, name), e.g. ("schemas", "Page")
GATEWAY = "gateway"  # the gateway's own routes, merged like a service's
# The API's version (semver): the major is raised for a change gateway.compat calls breaking,
# the minor for additions; `make openapi` releases the document under it (openapi/README.md).
API_VERSION = "1.0.0"


class MergedOpenApi:
    def __init__(self, upstreams: Mapping[str, Upstream], title: str, version: str) -> None:
        self.upstreams = upstreams
        self.title = title
        self.version = version
        self._docs: dict[str, dict[str, Any]] = {}
        self._merged: dict[str, Any] | None = None
        self._lock = asyncio.Lock()
        # Set by gateway.edges.install_edges: the gateway's own routes and the public face.
        self.app: FastAPI | None = None
        self.servers: list[dict[str, str]] = [{"url": "/"}]

    async def document(self) -> dict[str, Any]:
        if self._merged is not None:
            return self._merged
        async with self._lock:  # concurrent first requests fetch once
            if self._merged is not None:
                return self._merged
            wanted = [name for name in self.upstreams if name not in self._docs]
            fetched = await asyncio.gather(*(self._fetch(self.upstreams[n]) for n in wanted))
            self._docs.update({n: doc for n, doc in zip(wanted, fetched, strict=True) if doc})
            docs = {n: self._docs[n] for n in self.upstreams if n in self._docs}
            if self.app is not None:
                docs = {GATEWAY: own_document(self.app), **docs}
                for clash in collisions(docs):
                    # An operation id used twice breaks a generated client; two schemas of
                    # one name are kept apart by the merge (qualified, titled uniquely).
                    level = logging.ERROR if clash.startswith("operationId") else logging.INFO
                    log.log(level, "OpenAPI collision: %s", clash)
            merged = merge(docs, title=self.title, version=self.version)
            if self.app is not None:
                describe(merged, self.servers)
            missing = [n for n in self.upstreams if n not in docs]
            if missing:
                merged["x-missing-services"] = missing
            else:
                self._merged = merged
            return merged

    @staticmethod
    async def _fetch(upstream: Upstream) -> dict[str, Any] | None:
        try:
            answer = await upstream.forward(
                "GET",
                "/openapi.json",
                [(b"accept", b"application/json")],
                b"",
                time_limit=upstream.ready_timeout,
            )
            doc = json.loads(answer.body) if answer.status == 200 else None
        except (UpstreamError, ValueError) as exc:
            log.warning("no OpenAPI document from %s: %s", upstream.name, exc)
            return None
        return doc if isinstance(doc, dict) else None


def merge(
    docs: Mapping[str, dict[str, Any]],
    *,
    title: str,
    version: str,
    owner: Callable[[str], str | None] = resolve,
) -> dict[str, Any]:
    """Merge service documents: the /api/v1 paths each service owns, and their components.

    A component defined identically by several services is kept once; one whose definitions
    differ is kept once per service as "<service>.<name>", with that service's $refs rewritten.
    """
    docs = {service: name_inline_bodies(doc) for service, doc in docs.items()}
    holders: dict[Component, dict[str, Any]] = defaultdict(dict)
    for service, doc in docs.items():
        for key, content in _components(doc):
            holders[key][service] = content
    clashing = {key for key, by in holders.items() if len({_canonical(c) for c in by.values()}) > 1}
    # Identical definitions that refer to a clashing one differ once renamed: they clash too.
    grew = True
    while grew:
        grew = False
        for key, by in holders.items():
            if (
                key not in clashing
                and len(by) > 1
                and any(_refs(c) & clashing for c in by.values())
            ):
                clashing.add(key)
                grew = True

    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = defaultdict(dict)
    tags: dict[str, dict[str, Any]] = {}
    for service, doc in docs.items():
        renames = {
            f"{REF}{section}/{name}": f"{REF}{section}/{service}.{name}"
            for section, name in clashing
            if service in holders[(section, name)]
        }
        if renames:
            doc = _rewrite_refs(doc, renames)
        for path, item in (doc.get("paths") or {}).items():
            owned = owner(path) == service or (service == GATEWAY and owner(path) is None)
            if path.startswith("/api/v1/") and owned and isinstance(item, dict):
                paths[path] = _tagged(item, service)
        for (section, name), content in _components(doc):
            components[section][f"{service}.{name}" if (section, name) in clashing else name] = (
                content
            )
        for tag in doc.get("tags") or []:
            if isinstance(tag, dict) and "name" in tag:
                tags.setdefault(tag["name"], tag)

    title_schemas(components["schemas"])
    first = next(iter(docs.values()), {})
    merged: dict[str, Any] = {
        "openapi": first.get("openapi", "3.1.0"),
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": dict(components),
    }
    if tags:
        merged["tags"] = list(tags.values())
    return merged


def class_name(component: str) -> str:
    """The name a client generator gives the schema `component`: FastAPI's module-qualified
    names (`guest_service__models__loyalty__Tier`) keep the module ("LoyaltyTier"), the merge's
    service-qualified ones keep the service ("notification-service.Kind":
    "NotificationServiceKind"), and punctuation goes ("Page_GuestPublic_": "PageGuestPublic")."""
    service, dot, name = component.rpartition(".")
    parts = name.split("__")
    if len(parts) > 2:
        name = f"{parts[-2]}_{parts[-1]}"
    words = re.split(r"[^0-9A-Za-z]+", f"{service}_{name}" if dot else name)
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def title_schemas(schemas: dict[str, Any]) -> None:
    """Give every schema a title unique in the document. Generators name a class after the
    title, and two services' `Kind` (or one service's two `Tier`s) with the same title broke
    generation: the second was dropped, and every operation using it with it."""
    taken: set[str] = set()
    for component in sorted(schemas):
        content = schemas[component]
        if not isinstance(content, dict):
            continue
        title, n = class_name(component), 1
        while title in taken:  # names that differ only in punctuation: deterministic suffix
            n += 1
            title = f"{class_name(component)}{n}"
        taken.add(title)
        schemas[component] = {**content, "title": title}


def name_inline_bodies(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of a service's document where a request or response body given inline as an
    object (a route describing its body by hand, e.g. a signed receipt read from the raw
    body) is a named schema in components instead: generators invent a name for an inline
    object ("RecordReceiptReceipt"), and that name is not ours to keep stable."""
    paths = doc.get("paths") or {}
    if not any(
        _inline_object(media.get("schema"))
        for item in paths.values()
        if isinstance(item, dict)
        for _, op in _operations(item)
        for media in _media(op)
    ):
        return doc
    doc = json.loads(json.dumps(doc))  # the caller's document stays as it was
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for item in doc["paths"].values():
        if not isinstance(item, dict):
            continue
        for _, op in _operations(item):
            for media in _media(op):
                schema = media.get("schema")
                if not isinstance(schema, dict) or not _inline_object(schema):
                    continue
                name = str(schema.get("title") or f"{op.get('operationId', 'Body')}_body")
                name = re.sub(r"[^0-9A-Za-z_]", "", name) or "Body"
                if name in schemas and schemas[name] != schema:
                    name = f"{op.get('operationId', 'Body')}_{name}"
                schemas[name] = schema
                media["schema"] = {"$ref": f"{REF}schemas/{name}"}
    return doc


def _operations(item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(m, op) for m, op in item.items() if m in OPERATIONS and isinstance(op, dict)]


def _media(op: dict[str, Any]) -> list[dict[str, Any]]:
    """Every media type object of an operation: its request body's and its responses'."""
    bodies = [op.get("requestBody") or {}, *(op.get("responses") or {}).values()]
    return [
        media
        for body in bodies
        if isinstance(body, dict)
        for media in (body.get("content") or {}).values()
        if isinstance(media, dict)
    ]


def _inline_object(schema: Any) -> bool:
    return isinstance(schema, dict) and "$ref" not in schema and "properties" in schema


def _components(doc: dict[str, Any]) -> list[tuple[Component, Any]]:
    sections = doc.get("components") or {}
    return [
        ((section, name), content)
        for section, entries in sections.items()
        if isinstance(entries, dict)
        for name, content in entries.items()
    ]


def _canonical(content: Any) -> str:
    return json.dumps(content, sort_keys=True)


def _refs(content: Any) -> set[Component]:
    found: set[Component] = set()
    if isinstance(content, dict):
        for key, value in content.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF):
                section, _, name = value[len(REF) :].partition("/")
                found.add((section, name))
            else:
                found |= _refs(value)
    elif isinstance(content, list):
        for value in content:
            found |= _refs(value)
    return found


def _rewrite_refs(content: Any, renames: dict[str, str]) -> Any:
    if isinstance(content, dict):
        return {
            key: renames.get(value, value)
            if key == "$ref" and isinstance(value, str)
            else _rewrite_refs(value, renames)
            for key, value in content.items()
        }
    if isinstance(content, list):
        return [_rewrite_refs(value, renames) for value in content]
    return content


def _tagged(item: dict[str, Any], service: str) -> dict[str, Any]:
    """Operations without tags are grouped under their service's name."""
    return {
        key: {**op, "tags": [service]}
        if key in OPERATIONS and isinstance(op, dict) and not op.get("tags")
        else op
        for key, op in item.items()
    }


DESCRIPTION = """\
The hotel guest platform's public API: reservations, availability, transfers, guests and
notifications, and the gateway's own sign-in routes.

## Authenticating
Send one credential per request (the **Authorize** button takes each kind):
- **Partners** (OTAs, channel managers): `X-API-Key: <key>`. A key carries scopes
  (`reservations:read`, `reservations:write`, `ari:write`) and the partner's channel.
- **Staff**: OAuth2 password flow: `POST /api/v1/auth/token` with the staff email and password
  returns an access token (short-lived JWT) and a refresh token (`POST /api/v1/auth/refresh`);
  send `Authorization: Bearer <access token>`.
- **Guests**: `POST /api/v1/auth/guest/code` then `POST /api/v1/auth/guest/token` (a one-time
  code by email or SMS), or `POST /api/v1/auth/booking` with a confirmation number and last
  name; send the token as `Authorization: Bearer ...`. The booking access token (`bk_...`)
  returned when a booking is made is used the same way.
- **Nobody**: availability, properties, room types and making a booking need no credential.

A credential that is not valid is refused with 401 `invalid_credentials`, never served as
anonymous. Records of another tenant answer 404, as if they did not exist.

## Limits
Requests are counted per partner, guest or staff member, per IP address for anonymous callers,
and per IP address overall; listing and searching (`GET` on a collection) counts as several
requests; `/api/v1/auth/*` has a strict per-IP limit. Every answer carries `RateLimit-Limit`,
`RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy`; past the limit the
answer is 429 `rate_limited` with `Retry-After` (seconds).

## Errors
Every error is `application/problem+json` (RFC 9457) with a stable `code` and the `request_id`
(also in the `X-Request-ID` header). Besides each operation's own errors, the gateway may answer
401 `invalid_credentials`, 429 `rate_limited`, 502 `bad_gateway`, 503 `service_unavailable` or
`circuit_open` (with `Retry-After`) and 504 `upstream_timeout`. Retry a `POST` only with the
same `Idempotency-Key` header, which makes the retry return the first answer.
"""

SECURITY_SCHEMES: dict[str, Any] = {
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A partner key (shown once when created).",
    },
    "OAuth2": {
        "type": "oauth2",
        "description": "Staff sign-in with email and password.",
        "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}},
    },
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A staff or guest access token, or a booking access token (bk_...).",
    },
}
SIGNED_IN: list[dict[str, list[str]]] = [{"ApiKey": []}, {"OAuth2": []}, {"Bearer": []}]
OPEN: list[dict[str, list[str]]] = [*SIGNED_IN, {}]  # {}: no credential needed either
# Operations anyone may call (the access policy; the services enforce it).
ANONYMOUS_OPERATIONS = (
    ("get", "/api/v1/properties"),
    ("get", "/api/v1/room-types"),
    ("get", "/api/v1/availability"),
    ("get", "/api/v1/rate-plans"),
    ("get", "/api/v1/rate-plans/{plan_id}"),
    ("post", "/api/v1/quotes"),
    ("post", "/api/v1/reservations"),
    ("get", "/api/v1/me"),  # answers who the caller is, anonymous included
    # Issue 19: the survey link works without signing in (its one-time token is the key), and
    # the reward catalogue is public.
    ("get", "/api/v1/surveys/{token}"),
    ("post", "/api/v1/surveys/{token}/response"),
    ("get", "/api/v1/loyalty/rewards"),
    # Issue 20: a provider's delivery receipt is signed with its receipt secret, not signed-in.
    ("post", "/api/v1/delivery-receipts/{provider}"),
)
AUTH_PATHS = "/api/v1/auth/"
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
_RATE_HEADERS = {
    name: {"description": text, "schema": {"type": "integer" if "Policy" not in name else "string"}}
    for name, text in {
        "RateLimit-Limit": "Requests allowed in the window of the tightest limit.",
        "RateLimit-Remaining": "Requests left in that window.",
        "RateLimit-Reset": "Seconds until the limit is whole again.",
        "RateLimit-Policy": 'The limit and its window, e.g. "120;w=60".',
    }.items()
}
GATEWAY_ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "401": ("invalid_credentials or unauthenticated: send a valid credential", {}),
    "429": ("rate_limited: too many requests; see Retry-After", {**_RETRY_AFTER, **_RATE_HEADERS}),
    "502": ("bad_gateway: the service behind the gateway failed", {}),
    "503": ("service_unavailable or circuit_open: try again after Retry-After", _RETRY_AFTER),
    "504": ("upstream_timeout: the service did not answer in time", {}),
}


def own_document(app: FastAPI) -> dict[str, Any]:
    """The gateway's own documented routes (auth, keys, staff users, audit, me/trips), with
    operation ids that are their functions' names, as the services' are."""
    doc = get_openapi(title=GATEWAY, version="1", routes=app.routes)
    names = {
        (method.lower(), getattr(route, "path_format", "")): getattr(route, "name", "")
        for route in iter_route_contexts(app.routes)
        for method in getattr(route, "methods", None) or ()
    }
    for path, item in (doc.get("paths") or {}).items():
        for method, op in item.items():
            if method in OPERATIONS and isinstance(op, dict) and names.get((method, path)):
                op["operationId"] = names[(method, path)]
    paths = doc.get("paths") or {}
    document_idempotency({"paths": {p: paths[p] for p in IDEMPOTENT_PATHS if p in paths}})
    return document_problems(doc)


def collisions(
    docs: Mapping[str, dict[str, Any]], owner: Callable[[str], str | None] = resolve
) -> list[str]:
    """Operation ids used twice, and schema names defined differently by two services:
    either breaks code generated from the merged document."""
    found: list[str] = []
    op_owner: dict[str, str] = {}
    for service, doc in docs.items():
        for path, item in (doc.get("paths") or {}).items():
            owned = owner(path) == service or (service == GATEWAY and owner(path) is None)
            if not path.startswith("/api/v1/") or not owned or not isinstance(item, dict):
                continue
            for method, op in item.items():
                op_id = op.get("operationId") if isinstance(op, dict) else None
                if method not in OPERATIONS or not op_id:
                    continue
                where = f"{service} {method.upper()} {path}"
                if op_id in op_owner:
                    found.append(f"operationId {op_id!r}: {op_owner[op_id]} and {where}")
                else:
                    op_owner[op_id] = where
    holders: dict[str, dict[str, Any]] = defaultdict(dict)
    for service, doc in docs.items():
        for name, content in ((doc.get("components") or {}).get("schemas") or {}).items():
            holders[name][service] = content
    for name, by in sorted(holders.items()):
        if len({_canonical(c) for c in by.values()}) > 1:
            found.append(f"schema {name!r} differs in {', '.join(sorted(by))}")
    return found


def describe(doc: dict[str, Any], servers: list[dict[str, str]]) -> dict[str, Any]:
    """What an integrator needs beyond the services' own documents: how to authenticate, the
    limits, the gateway's own errors on every operation, and where the API is served."""
    doc["info"]["description"] = DESCRIPTION
    doc["servers"] = servers
    components = doc.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("Problem", Problem.model_json_schema())
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in OPERATIONS or not isinstance(op, dict):
                continue
            auth_route = path.startswith(AUTH_PATHS)
            proxied = resolve(path) is not None
            anonymous = any(
                method == m and (path == p or path.startswith(p + "/{"))
                for m, p in ANONYMOUS_OPERATIONS
            )
            op["security"] = [] if auth_route else OPEN if anonymous else SIGNED_IN
            responses = op.setdefault("responses", {})
            for status, (text, headers) in GATEWAY_ERRORS.items():
                if not proxied and status in ("502", "503", "504"):
                    continue
                if auth_route and status == "401" and status not in responses:
                    continue
                response = responses.setdefault(status, {"description": text})
                if text not in response.get("description", ""):
                    response["description"] = f"{response['description']}; {text}"
                response.setdefault("content", {PROBLEM_JSON: {"schema": problem_ref}})
                if headers:
                    response["headers"] = {**response.get("headers", {}), **headers}
    return doc


router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi_document(request: Request) -> JSONResponse:
    openapi: MergedOpenApi = request.app.state.openapi
    return JSONResponse(await openapi.document())
