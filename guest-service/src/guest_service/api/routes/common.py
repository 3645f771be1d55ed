"""What several guest-service routers say alike: the signed-in guest as a dependency, the
example guest id, and the problems every guest route may answer."""

from typing import Annotated

from fastapi import Depends
from hotel_common.principal import Principal

from guest_service import access

# The signed-in guest (`/me/...` routes): 403 for staff, 401 for no one.
GuestCaller = Annotated[Principal, Depends(access.guest_address)]

GUEST_ID = "3c2b1a09-8f7e-4d6c-b5a4-93827160fedc"
UNAUTHENTICATED = {401: "unauthenticated: no signed-in caller"}
GUEST_NOT_FOUND = {404: "guest_not_found: no profile with this id"}
MY_NOT_FOUND = {404: "guest_not_found: no profile has the address you signed in with"}
