"""Dependencies of this service's routes."""

from typing import Annotated

from fastapi import Depends
from hotel_common.deps import get_settings

from reservation_service.config import Settings

SettingsDep = Annotated[Settings, Depends(get_settings)]
