"""What the request schemas of every table module share."""

from sqlmodel.main import SQLModelConfig

STRICT = SQLModelConfig(extra="forbid")  # request bodies: an unknown field is a 422


def squeeze(value: object) -> object:
    """Trim text input, so a blank value fails the length check instead of being stored."""
    return value.strip() if isinstance(value, str) else value
