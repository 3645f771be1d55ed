"""JSON-lines logging carrying the request and correlation ids."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

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


class JsonFormatter(logging.Formatter):
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
    if any(getattr(h, "_hotel", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler._hotel = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter(service)
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root.addHandler(handler)
    # uvicorn's loggers join ours (JSON, with ids); its access log gives way to
    # hotel_common.middleware's, which knows the request id.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("aio_pika").setLevel("WARNING")
    logging.getLogger("aiormq").setLevel("WARNING")
