"""One OpenAPI document for the platform, merged from the services' own documents.

Each service's document is fetched through its upstream on first use and kept; a service
that is down is left out (listed in `x-missing-services`) and asked again next time.
"""

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.routes import resolve
from gateway.upstream import Upstream, UpstreamError

log = logging.getLogger(__name__)

REF = "#/components/"
OPERATIONS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
Component = tuple[str, str]  # (section, name), e.g. ("schemas", "Page")


class MergedOpenApi:
    def __init__(self, upstreams: Mapping[str, Upstream], title: str, version: str) -> None:
        self.upstreams = upstreams
        self.title = title
        self.version = version
        self._docs: dict[str, dict[str, Any]] = {}
        self._merged: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

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
            merged = merge(docs, title=self.title, version=self.version)
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
            if path.startswith("/api/v1/") and owner(path) == service and isinstance(item, dict):
                paths[path] = _tagged(item, service)
        for (section, name), content in _components(doc):
            components[section][f"{service}.{name}" if (section, name) in clashing else name] = (
                content
            )
        for tag in doc.get("tags") or []:
            if isinstance(tag, dict) and "name" in tag:
                tags.setdefault(tag["name"], tag)

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


router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi_document(request: Request) -> JSONResponse:
    openapi: MergedOpenApi = request.app.state.openapi
    return JSONResponse(await openapi.document())


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    openapi: MergedOpenApi = request.app.state.openapi
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{openapi.title} - docs")
