"""Dependencies and OpenAPI helpers shared by this service's routes."""

from typing import Annotated, Any

from fastapi import Depends, Query
from hotel_common.deps import RuntimeDep
from pydantic import BaseModel, Field

from reservation_service.config import Settings

SETTINGS_KEY = "settings"


def get_settings(runtime: RuntimeDep) -> Settings:
    settings: Settings = runtime.extras[SETTINGS_KEY]
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


class Problem(BaseModel):
    """RFC 9457 problem details: the shape of every error this API returns."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. no_availability")
    detail: str
    request_id: str | None = None
    errors: list[dict[str, str]] | None = Field(
        default=None, description="Per-field problems: field (path), message, type"
    )


_PROBLEM_SCHEMA = Problem.model_json_schema()


def problems(by_status: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for problem+json answers: {status: what it means}."""
    return {
        status: {
            "description": description,
            "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}},
        }
        for status, description in by_status.items()
    }
