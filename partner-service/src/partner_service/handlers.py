"""The events partners may see, turned into feed entries (helper: feed)."""

from hotel_common.service import Runtime

from partner_service.config import Settings


def subscribe(runtime: Runtime[Settings]) -> None:
    """Subscribe the feed's handlers (none yet)."""
