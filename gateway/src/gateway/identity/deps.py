"""Dependencies of the identity routes."""

from typing import Annotated

from fastapi import Depends, Request
from hotel_common.principal import Principal, Role, require

from gateway.auth import client_ip
from gateway.config import Settings

AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]


def get_gateway_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_gateway_settings)]
IpDep = Annotated[str | None, Depends(client_ip)]
