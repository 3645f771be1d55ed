"""Problems about one field that pydantic cannot check alone (they need the database or a rule)."""

from hotel_common.errors import ProblemError


def invalid_field(code: str, field: str, detail: str) -> ProblemError:
    # Same shape as the automatic validation problems, so clients read one format.
    return ProblemError(
        422, code, detail, errors=[{"field": field, "message": detail, "type": code}]
    )
