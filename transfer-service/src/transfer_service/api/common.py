"""What the fleet and dispatch routes share: the settings dependency, who may call, and the
refusals documented for it (one wording for every route)."""

from typing import Annotated, Any

from fastapi import Depends
from hotel_common.contract import answers
from hotel_common.deps import get_settings
from hotel_common.principal import Role, require

from transfer_service.config import Settings

SettingsDep = Annotated[Settings, Depends(get_settings)]
FleetReader = Depends(require(Role.DISPATCHER, Role.MANAGER))
Manager = Depends(require(Role.MANAGER))

UNAUTHENTICATED = {401: "unauthenticated: no signed-in caller"}
READERS = {403: "forbidden: dispatchers and managers only"}
MANAGERS = {403: "forbidden: managers only"}
DISPATCHERS = {403: "forbidden: dispatchers only"}
VALIDATION = "validation_error"


def listing(
    item: dict[str, Any], refusals: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The documented answers of a fleet list route readers call: one page holding `item`, or
    a bad cursor, no caller, not a reader, or the given `refusals`."""
    return answers(
        200,
        {"items": [item], "next_cursor": None},
        {400: "invalid_cursor", **UNAUTHENTICATED, **READERS, **(refusals or {})},
    )
