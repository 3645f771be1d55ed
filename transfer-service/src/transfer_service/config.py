"""Settings of transfer-service: the shared ones plus the timings of a pickup."""

from datetime import timedelta

from hotel_common.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    service_name: str = "transfer-service"
    database_url: str = "sqlite+aiosqlite:///./data/transfer-service.db"
    # Drive time from any pickup point to the property until per-route travel times exist.
    trip_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Cleaning and turning the vehicle round after a job (docs/domain.md, A pickup job).
    turnaround_minutes: int = Field(default=15, ge=0, le=24 * 60)
    # The driver is at the pickup point this long before the agreed time (docs/domain.md).
    on_site_lead_minutes: int = Field(default=30, ge=0, le=24 * 60)

    @property
    def trip(self) -> timedelta:
        return timedelta(minutes=self.trip_minutes)

    @property
    def turnaround(self) -> timedelta:
        return timedelta(minutes=self.turnaround_minutes)

    @property
    def on_site_lead(self) -> timedelta:
        return timedelta(minutes=self.on_site_lead_minutes)
