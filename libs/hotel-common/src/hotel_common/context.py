"""Per-task context: the request id, correlation id and causing event of the work in hand.

Logs read them, and events created in a request or a handler carry them on.
"""

from contextvars import ContextVar
from datetime import datetime

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)
# The service doing the work: several share one process in embedded mode.
service: ContextVar[str | None] = ContextVar("service", default=None)
# When the event being handled happened (its envelope's occurred_at): a consumer that keeps the
# events themselves (partner-service's feed) records it; None outside a handler.
event_occurred_at: ContextVar[datetime | None] = ContextVar("event_occurred_at", default=None)
