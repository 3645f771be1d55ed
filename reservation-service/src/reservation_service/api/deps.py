"""Dependencies of this service's routes."""

from typing import Annotated

from fastapi import Depends
from hotel_common.deps import settings_dep

from reservation_service.config import Settings

SettingsDep = Annotated[Settings, Depends(settings_dep(Settings))]
