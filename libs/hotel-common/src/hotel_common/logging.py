"""JSON-lines logging carrying the request and correlation ids, and never the values of input.

Logs carry ids, never names, emails, phones or secrets. Exceptions are where values slip in
(a pydantic ValidationError repeats the input it refused, PostgreSQL's DETAIL the row it
could not write), so both formatters render them through `format_exception`: the traceback and
type of each exception in the chain, a validation error as its error list without inputs, any
other message without DETAIL lines. (SQLAlchemy's bound values are hidden at the engine:
`hotel_common.db.create_engine(hide_parameters=True)`.)
"""

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from hotel_common import context

_CONTEXT = ("request_id", "correlation_id", "service")
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    *_CONTEXT,
}
_base_factory = logging.getLogRecordFactory()


def _record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Stamp each record with the ids of the work in hand when it is made, so a handler that
    formats it later (or elsewhere) still tells which request it belongs to."""
    record = _base_factory(*args, **kwargs)
    record.request_id = context.request_id.get()
    record.correlation_id = context.correlation_id.get()
    record.service = context.service.get()
    return record


def _describe(exc: BaseException) -> str:
    """`Type: message`, the message stripped of any value it may quote."""
    name = type(exc).__qualname__
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_input=False, include_url=False, include_context=False)
        return f"{name}: {exc.error_count()} errors for {exc.title}: {json.dumps(errors)}"
    errors_of = getattr(exc, "errors", None)
    if type(exc).__module__.startswith("fastapi") and callable(errors_of):
        # RequestValidationError and kin: the same error list, with the input in each entry.
        hidden = {"input", "ctx", "url"}
        kept = [{k: v for k, v in e.items() if k not in hidden} for e in errors_of()]
        return f"{name}: {json.dumps(kept, default=str)}"
    text = "\n".join(
        line for line in str(exc).splitlines() if not line.lstrip().startswith("DETAIL:")
    )
    if isinstance(exc, BaseExceptionGroup):
        text += "".join(f"\n  [{i}] {_describe(e)}" for i, e in enumerate(exc.exceptions, 1))
    return f"{name}: {text}" if text else name


def format_exception(exc: BaseException) -> str:
    """Like traceback.format_exception, with each exception of the chain told by `_describe`."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception"
        else:
            current = None
    parts: list[str] = []
    for i, (item, _) in enumerate(reversed(chain)):
        if i:
            # The link recorded on the exception after this one in the original order.
            parts.append(f"\n{chain[len(chain) - i][1]} the following exception:\n\n")
        if item.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(_describe(item) + "\n")
    return "".join(parts).rstrip("\n")


class _SafeExceptions(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        exc = ei[1] if isinstance(ei, tuple) else None
        return format_exception(exc) if isinstance(exc, BaseException) else ""

    def format(self, record: logging.LogRecord) -> str:
        # exc_text may have been cached by another handler's formatter, with the values in it.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


class PlainFormatter(_SafeExceptions):
    """One human line per record (plus the traceback), for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")


class JsonFormatter(_SafeExceptions):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": getattr(record, "service", None) or self.service,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "correlation_id": getattr(record, "correlation_id", None),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup_logging(service: str, level: str = "INFO", as_json: bool = True) -> None:
    """Configure the root logger once per process (later calls only adjust the level)."""
    logging.setLogRecordFactory(_record_with_context)
    root = logging.getLogger()
    root.setLevel(level)
    # Libraries whose debug or info lines carry values: SQLAlchemy's fetched rows, aiosqlite's
    # calls with their parameters, httpx's request URLs (query strings such as ?email=).
    for name in ("aio_pika", "aiormq", "sqlalchemy", "aiosqlite", "httpx", "httpcore"):
        logging.getLogger(name).setLevel("WARNING")
    if any(getattr(h, "_hotel", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler._hotel = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter(service) if as_json else PlainFormatter())
    root.addHandler(handler)
    # uvicorn's loggers join ours (JSON, with ids); its access log gives way to
    # hotel_common.middleware's, which knows the request id.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
