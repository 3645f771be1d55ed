from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(instant: datetime) -> datetime:
    """`instant` in UTC. A naive one is read as UTC: every instant the platform writes or sends
    is UTC, and SQLite hands timezone-aware columns back without their offset.
    """
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
