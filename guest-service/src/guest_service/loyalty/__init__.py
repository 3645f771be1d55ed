"""Loyalty: tiers, enrolment, the points ledger (issue 19).

Event handlers and workers get the service's settings; `award` (called by other parts inside
their own transactions, with no settings at hand) reads the ones installed at start-up.
"""

from guest_service.config import Settings

_installed: list[Settings] = []


def install(settings: Settings) -> None:
    """The running service's settings, for calls that carry none (ledger.award)."""
    _installed[:] = [settings]


def configured() -> Settings:
    return _installed[0] if _installed else Settings()
