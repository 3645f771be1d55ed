"""FastAPI dependencies every service uses, as `Annotated` aliases."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from hotel_common.service import Runtime, settings_as
from hotel_common.settings import SettingsT


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).sessions() as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


def settings_dep(cls: type[SettingsT]) -> Callable[[Runtime], SettingsT]:
    """A dependency giving the service's own settings (see `settings_as`), for an alias like
    `SettingsDep = Annotated[Settings, Depends(settings_dep(Settings))]`.
    """

    def get_settings(runtime: RuntimeDep) -> SettingsT:
        return settings_as(runtime, cls)

    return get_settings
