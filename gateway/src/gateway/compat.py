"""Does the current API document keep the promises of the released one? (issue 21)

A client generated from the released document (openapi/released.json) must go on working
against the platform. `breaking_changes(released, current)` lists what would break it;
`check(released, current)` is what the test and the release step apply: those changes are
refused unless `info.version`'s major was raised.

What breaks a client (released -> current):
- a path or an operation is gone, or an operation's `operationId` changed (a generated
  client's function is named after it);
- a request needs more: a new required parameter or body field, one made required, a body
  made required; or accepts less: a query or path parameter or a body field removed where
  unknown ones are refused (the services answer 422 to unknown query parameters and to unknown
  fields of a strict body), a type, enum, bound, pattern or format narrowed, a media type gone;
- a success answer gives less: a status or media type gone, a field gone or no longer always
  sent, a field's type widened (a new type, null included: the client's parser refuses it);
- an operation anyone could call needs a credential.

Additions pass: new paths, operations, optional parameters and fields, response fields, wider
request types. A response's enum may also gain values in a minor version: integrators are told
to accept values they do not know (docs/partners.md), as new event types, statuses and notice
kinds are how the platform grows.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

OPERATIONS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")
# Bounds a request narrows by lowering (upper bounds) or raising (lower bounds).
UPPER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
LOWER = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
REQUEST, RESPONSE = "request", "response"


def version(doc: dict[str, Any]) -> tuple[int, int, int] | None:
    found = SEMVER.match(str((doc.get("info") or {}).get("version", "")))
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def check(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What stops `current` from replacing `released`: its breaking changes, unless the major
    version was raised; a version that is not semver or went back."""
    old, new = version(released), version(current)
    if new is None:
        return [f"info.version {current.get('info', {}).get('version')!r} is not semver"]
    if old is not None and new < old:
        return [f"info.version went back: {'.'.join(map(str, old))} -> {'.'.join(map(str, new))}"]
    if old is not None and new[0] > old[0]:
        return []
    return [
        f"{change} (breaking: raise the major version of API_VERSION to release it)"
        for change in breaking_changes(released, current)
    ]


def breaking_changes(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    return list(_Comparison(released, current).run())


@dataclass
class _Shape:
    """A schema flattened for comparison: its types, enum, bounds and object or array parts."""

    types: frozenset[str] | None = None  # None: any type
    enum: frozenset[str] | None = None  # values as JSON text; None: not an enum
    properties: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    closed: bool = False  # additionalProperties: false (unknown fields refused)
    items: Any = None
    values: Any = None  # additionalProperties as a schema (a map's values)
    bounds: dict[str, Any] = field(default_factory=dict)


class _Comparison:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        # The referenced schemas being compared (the way down): a recursive one stops there.
        self.inside: set[tuple[str, str, str]] = set()

    def run(self) -> Iterator[str]:
        old_paths, new_paths = self.old.get("paths") or {}, self.new.get("paths") or {}
        for path, old_item in sorted(old_paths.items()):
            new_item = new_paths.get(path)
            if new_item is None:
                yield f"{path}: path removed"
                continue
            for method in OPERATIONS:
                if method not in old_item:
                    continue
                where = f"{method.upper()} {path}"
                if method not in new_item:
                    yield f"{where}: operation removed"
                    continue
                yield from self.operation(where, old_item, new_item, method)

    def operation(
        self, where: str, old_item: dict[str, Any], new_item: dict[str, Any], method: str
    ) -> Iterator[str]:
        old, new = old_item[method], new_item[method]
        if old.get("operationId") != new.get("operationId"):
            yield (
                f"{where}: operationId changed {old.get('operationId')!r} -> "
                f"{new.get('operationId')!r}"
            )
        if {} in (old.get("security") or [{}]) and {} not in (new.get("security") or [{}]):
            yield f"{where}: anonymous callers are no longer allowed"
        yield from self.parameters(where, old_item, new_item, method)
        yield from self.request_body(where, old.get("requestBody"), new.get("requestBody"))
        yield from self.responses(where, old.get("responses") or {}, new.get("responses") or {})

    def parameters(
        self, where: str, old_item: dict[str, Any], new_item: dict[str, Any], method: str
    ) -> Iterator[str]:
        old, new = (
            self._params(self.old, old_item, method),
            self._params(self.new, new_item, method),
        )
        for key, param in sorted(new.items()):
            if param.get("required") and not (old.get(key) or {}).get("required"):
                state = "made required" if key in old else "new required"
                yield f"{where}: {state} {key[0]} parameter {key[1]!r}"
        for key, param in sorted(old.items()):
            label = f"{key[0]} parameter {key[1]!r}"
            if key not in new:
                if key[0] in ("query", "path"):  # a header or cookie left out is ignored
                    yield f"{where}: {label} removed"
                continue
            yield from self.schema(
                f"{where}: {label}", param.get("schema"), new[key].get("schema"), REQUEST
            )

    @staticmethod
    def _params(
        doc: dict[str, Any], item: dict[str, Any], method: str
    ) -> dict[tuple[str, str], Any]:
        found: dict[tuple[str, str], Any] = {}
        for param in [*(item.get("parameters") or []), *(item[method].get("parameters") or [])]:
            param = _resolve(doc, param)
            place = str(param.get("in"))
            name = str(param.get("name"))
            found[(place, name.lower() if place == "header" else name)] = param
        return found

    def request_body(self, where: str, old: Any, new: Any) -> Iterator[str]:
        old = _resolve(self.old, old) if old else None
        new = _resolve(self.new, new) if new else None
        if new is None:
            return  # a body no longer read: what a client sends is ignored
        if new.get("required") and not (old or {}).get("required"):
            yield f"{where}: request body made required"
        if old is None:
            return
        new_content = new.get("content") or {}
        for media, content in sorted((old.get("content") or {}).items()):
            if media not in new_content:
                yield f"{where}: request media type {media} removed"
                continue
            yield from self.schema(
                f"{where}: request body",
                content.get("schema"),
                new_content[media].get("schema"),
                REQUEST,
            )

    def responses(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
        for status, answer in sorted(old.items()):
            if not str(status).startswith("2"):
                continue  # errors may come and go; every one is a problem+json
            if status not in new:
                yield f"{where}: response {status} removed"
                continue
            old_content = _resolve(self.old, answer).get("content") or {}
            new_content = _resolve(self.new, new[status]).get("content") or {}
            for media, content in sorted(old_content.items()):
                if media not in new_content:
                    yield f"{where}: response {status} media type {media} removed"
                    continue
                yield from self.schema(
                    f"{where}: response {status}",
                    content.get("schema"),
                    new_content[media].get("schema"),
                    RESPONSE,
                )

    def schema(self, where: str, old: Any, new: Any, side: str) -> Iterator[str]:
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        if "$ref" not in old or "$ref" not in new:
            yield from self._schema(where, old, new, side)
            return
        key = (str(old["$ref"]), str(new["$ref"]), side)
        if key in self.inside:
            return  # a recursive schema: compared once on the way down
        self.inside.add(key)
        try:
            yield from self._schema(where, old, new, side)
        finally:
            self.inside.discard(key)

    def _schema(
        self, where: str, old: dict[str, Any], new: dict[str, Any], side: str
    ) -> Iterator[str]:
        o, n = self._shape(self.old, old), self._shape(self.new, new)
        if side == REQUEST:
            if not _covers(n.types, o.types):
                yield f"{where}: type narrowed {_names(o.types)} -> {_names(n.types)}"
            if n.enum is not None and (o.enum is None or o.enum - n.enum):
                lost = "a free value" if o.enum is None else ", ".join(sorted(o.enum - n.enum))
                yield f"{where}: enum narrowed (no longer takes {lost})"
            yield from _narrowed_bounds(where, o.bounds, n.bounds)
            if n.closed and not o.closed:
                yield f"{where}: unknown fields now refused"
        else:
            if not _covers(o.types, n.types):
                yield f"{where}: type widened {_names(o.types)} -> {_names(n.types)}"
            if o.enum is not None and n.enum is None:
                yield f"{where}: no longer an enum"
        yield from self._fields(where, o, n, side)
        if o.items is not None and n.items is not None:
            yield from self.schema(f"{where}[]", o.items, n.items, side)
        if o.values is not None and n.values is not None:
            yield from self.schema(f"{where}{{}}", o.values, n.values, side)

    def _fields(self, where: str, o: _Shape, n: _Shape, side: str) -> Iterator[str]:
        if side == REQUEST:
            for name in sorted(n.required - o.required):
                state = "made required" if name in o.properties else "new required"
                yield f"{where}: {state} field {name!r}"
            for name in sorted(set(o.properties) - set(n.properties)):
                if n.closed:
                    yield f"{where}: field {name!r} removed (unknown fields are refused)"
        else:
            for name in sorted(set(o.properties) - set(n.properties)):
                yield f"{where}: field {name!r} removed"
            for name in sorted((o.required - n.required) & set(n.properties)):
                yield f"{where}: field {name!r} no longer always sent"
        for name in sorted(set(o.properties) & set(n.properties)):
            yield from self.schema(f"{where}.{name}", o.properties[name], n.properties[name], side)

    def _shape(self, doc: dict[str, Any], schema: Any, depth: int = 0) -> _Shape:
        schema = _resolve(doc, schema)
        if not isinstance(schema, dict) or depth > 20:
            return _Shape()
        variants = schema.get("anyOf") or schema.get("oneOf")
        if variants:
            return self._union([self._shape(doc, v, depth + 1) for v in variants])
        if schema.get("allOf"):
            parts = [self._shape(doc, v, depth + 1) for v in schema["allOf"]]
            return self._all(parts)
        types = schema.get("type")
        type_set = frozenset([types] if isinstance(types, str) else types or []) or None
        if type_set is None and "properties" in schema:
            type_set = frozenset({"object"})
        enum = schema.get("enum")
        if "const" in schema:
            enum = [schema["const"]]
        extra = schema.get("additionalProperties")
        return _Shape(
            types=type_set,
            enum=frozenset(_json(v) for v in enum) if enum is not None else None,
            properties=dict(schema.get("properties") or {}),
            required=frozenset(schema.get("required") or []),
            closed=extra is False,
            items=schema.get("items"),
            values=extra if isinstance(extra, dict) else None,
            bounds={k: schema[k] for k in (*UPPER, *LOWER, "pattern", "format") if k in schema},
        )

    @staticmethod
    def _union(shapes: list[_Shape]) -> _Shape:
        """anyOf/oneOf: what any variant takes (a nullable field is [X, null])."""
        typed = [s for s in shapes if s.types != frozenset({"null"})]
        if any(s.types is None for s in shapes):
            types = None
        else:
            types = frozenset().union(*(s.types or frozenset() for s in shapes))
        enum = (
            frozenset().union(*(s.enum or frozenset() for s in typed))
            if typed and all(s.enum is not None for s in typed)
            else None
        )
        objects = [s for s in typed if s.properties]
        arrays = [s for s in typed if s.items is not None]
        maps = [s for s in typed if s.values is not None]
        one = objects[0] if len(objects) == 1 else _Shape()
        return _Shape(
            types=types,
            enum=enum,
            properties=one.properties,
            required=one.required,
            closed=one.closed,
            items=arrays[0].items if len(arrays) == 1 else None,
            values=maps[0].values if len(maps) == 1 else None,
            bounds=typed[0].bounds if len(typed) == 1 else {},
        )

    @staticmethod
    def _all(parts: list[_Shape]) -> _Shape:
        merged = _Shape()
        for part in parts:
            if part.types is not None:
                merged.types = part.types if merged.types is None else merged.types & part.types
            merged.enum = part.enum if merged.enum is None else merged.enum
            merged.properties.update(part.properties)
            merged.required |= part.required
            merged.closed = merged.closed or part.closed
            merged.items = merged.items or part.items
            merged.values = merged.values or part.values
            merged.bounds.update(part.bounds)
        return merged


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow `$ref`s within the document (a chain, never a cycle, at the top of a node)."""
    for _ in range(20):
        if not isinstance(node, dict) or not isinstance(node.get("$ref"), str):
            return node
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"), {})
                if isinstance(target, dict)
                else {}
            )
        node = target
    return node


def _covers(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> bool:
    """Does a schema of types `wide` take every value of types `narrow`? (number takes integer)"""
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _narrowed_bounds(where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
    for key in UPPER:
        if key in new and (key not in old or new[key] < old[key]):
            yield f"{where}: {key} narrowed {old.get(key, 'none')} -> {new[key]}"
    for key in LOWER:
        if key in new and (key not in old or new[key] > old[key]):
            yield f"{where}: {key} narrowed {old.get(key, 'none')} -> {new[key]}"
    for key in ("pattern", "format"):
        if key in new and new[key] != old.get(key):
            yield f"{where}: {key} changed {old.get(key)!r} -> {new[key]!r}"


def _names(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types)) or "none"


def _json(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
