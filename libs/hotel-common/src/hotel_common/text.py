"""Text a client may send: what every service stores, echoes into notices and puts in queries.

Control characters have no place in a name, a place or a note: NUL cannot be stored by
PostgreSQL at all (the driver fails and the client got a 500), BEL or the C1 CSI (U+009B) end up
in e-mails and terminals, and a lone surrogate cannot be encoded for either database. So:

- `Text`: one line. Refuses C0 controls (U+0000-U+001F), DEL, C1 controls (U+0080-U+009F),
  lone surrogates and the Unicode line/paragraph separators; trims surrounding whitespace and
  normalises to NFC, so one name has one spelling whatever keyboard typed it.
- `MultilineText`: the same, but keeps line breaks and tabs (special requests, notes); CR LF
  and lone CR become LF (a browser's textarea sends CR LF).

Both are plain `str` annotations with a before-validator, so the length limits a model puts on a
field (`Field(max_length=...)`) apply to the cleaned value and keep pydantic's usual messages.
A refused value is the validation error type `control_characters`, with the field path, like any
other 422.

Query strings and paths are not models: `ControlCharacterGuard`, an ASGI middleware the service
factory installs, answers 422 problem+json for any control character in the decoded path or
query before routing, so no route can hand one to the database. It is stateless and holds no
lock; it reads only the request line, never the body.
"""

import re
import unicodedata
from typing import Annotated, Any
from urllib.parse import unquote

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError
from starlette.types import ASGIApp, Receive, Scope, Send

from hotel_common.errors import problem

CONTROL_CHARACTERS = "control_characters"

# C0, DEL, C1, surrogates (a JSON "\ud800" decodes to one), line and paragraph separators.
_SINGLE_LINE_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
# The same less TAB and LF; CR is turned into LF before the check.
_MULTI_LINE_REFUSED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
_NEWLINES = re.compile(r"\r\n?")


def _refused(value: str, pattern: re.Pattern[str]) -> str | None:
    """The first refused character as U+hhhh (hex), or None."""
    found = pattern.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def _error(char: str, what: str) -> PydanticCustomError:
    return PydanticCustomError(
        CONTROL_CHARACTERS,
        "{what} may not contain control characters (found {char})",
        {"what": what, "char": char},
    )


def single_line(value: Any) -> Any:
    """Clean one line of text; anything that is not a string is left for pydantic to refuse."""
    if not isinstance(value, str):
        return value
    if (char := _refused(value, _SINGLE_LINE_REFUSED)) is not None:
        raise _error(char, "one-line text")
    return unicodedata.normalize("NFC", value.strip())


def multi_line(value: Any) -> Any:
    """Clean text that may span lines; anything else is left for pydantic to refuse."""
    if not isinstance(value, str):
        return value
    value = _NEWLINES.sub("\n", value)
    if (char := _refused(value, _MULTI_LINE_REFUSED)) is not None:
        raise _error(char, "text")
    return unicodedata.normalize("NFC", value.strip())


# What the document tells a client (JSON Schema, ECMA regex): the characters refused above.
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
MULTI_LINE_PATTERN = (
    "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
)


def _documented(pattern: str) -> Any:
    def extra(schema: dict[str, Any]) -> None:
        if schema.get("type") == "string":  # a field's own pattern, if any, says more
            schema.setdefault("pattern", pattern)

    return Field(json_schema_extra=extra)


SINGLE_LINE = BeforeValidator(single_line)
MULTI_LINE = BeforeValidator(multi_line)
Text = Annotated[str, SINGLE_LINE, _documented(SINGLE_LINE_PATTERN)]
MultilineText = Annotated[str, MULTI_LINE, _documented(MULTI_LINE_PATTERN)]


def document_control_characters(openapi: dict[str, Any]) -> dict[str, Any]:
    """Path and query parameters pass `ControlCharacterGuard`: a string parameter without a
    pattern of its own is documented with the one-line pattern. Changes `openapi` in place."""
    for item in (openapi.get("paths") or {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else ():
                if parameter.get("in") not in ("path", "query"):
                    continue
                schema = parameter.get("schema") or {}
                for option in schema.get("anyOf", [schema]):
                    if option.get("type") == "string" and not {"pattern", "format", "enum"} & set(
                        option
                    ):
                        option["pattern"] = SINGLE_LINE_PATTERN
    return openapi


# In an alias with its own StringConstraints, put SINGLE_LINE after them (it then runs first and
# the limits keep pydantic's usual messages): Annotated[str, StringConstraints(...), SINGLE_LINE].


class ControlCharacterGuard:
    """Pure ASGI: 422 problem+json when the path or a query parameter holds a control character
    once percent-decoded (`%00` would otherwise reach PostgreSQL and fail as a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = self._offending(scope)
        if field is None:
            await self.app(scope, receive, send)
            return
        response = problem(
            422,
            "validation_error",
            "The request is not valid.",
            errors=[
                {
                    "field": field,
                    "message": "may not contain control characters",
                    "type": CONTROL_CHARACTERS,
                }
            ],
        )
        await response(scope, receive, send)

    @staticmethod
    def _offending(scope: Scope) -> str | None:
        """The field path of the first offending part: `path` or `query.<name>`."""
        if _SINGLE_LINE_REFUSED.search(scope.get("path", "")):
            return "path"
        query = scope.get("query_string", b"").decode("latin-1")
        if not query:
            return None
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            # Decoded as Starlette decodes them; invalid UTF-8 becomes U+FFFD, which is harmless.
            name, value = (unquote(p.replace("+", " "), errors="replace") for p in (name, value))
            if _SINGLE_LINE_REFUSED.search(name):
                return "query"
            if _SINGLE_LINE_REFUSED.search(value):
                return f"query.{name}"
        return None
