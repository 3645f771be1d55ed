"""Settings of transfer-service: the shared ones plus the timings of a pickup."""

from datetime import timedelta

from hotel_common.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    service_name: str = "transfer-service"
    database_url: str = "sqlite+aiosqlite:///./data/transfer-service.db"
    # Travel minutes between two places the travel-time table has no row for (places.py).
    trip_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Cleaning and turning the vehicle round after a job (docs/domain.md, A pickup job).
    turnaround_minutes: int = Field(default=15, ge=0, le=24 * 60)
    # The driver is at the pickup point this long before the agreed time (docs/domain.md).
    on_site_lead_minutes: int = Field(default=30, ge=0, le=24 * 60)

    # -- issue 18 (docs/domain.md, Transfers; each value a decision in docs/DECISIONS.md)
    # Free waiting time after the guest's arrival before a no-show may be recorded.
    wait_international_minutes: int = Field(default=60, ge=0, le=6 * 60)
    wait_domestic_minutes: int = Field(default=45, ge=0, le=6 * 60)
    wait_train_minutes: int = Field(default=15, ge=0, le=6 * 60)
    # A departure leaves the property this long before the flight, plus the travel time.
    checkin_international_minutes: int = Field(default=180, ge=0, le=12 * 60)
    checkin_domestic_minutes: int = Field(default=120, ge=0, le=12 * 60)
    checkin_train_minutes: int = Field(default=30, ge=0, le=12 * 60)
    # Uncovered jobs are retried this often (and on every fleet, shift or job change).
    retry_interval_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Money: rides starting between these local hours pay the night surcharge (basis points).
    night_starts: int = Field(default=22, ge=0, le=23)
    night_ends: int = Field(default=6, ge=0, le=23)
    night_surcharge_bp: int = Field(default=2000, ge=0, le=10_000)
    # Waiting past the free time: charged per started block.
    waiting_block_minutes: int = Field(default=15, ge=1, le=120)
    waiting_block_amount: int = Field(default=3000, ge=0)  # minor units of currency
    currency: str = Field(default="CNY", min_length=3, max_length=3)

    @property
    def trip(self) -> timedelta:
        return timedelta(minutes=self.trip_minutes)

    @property
    def turnaround(self) -> timedelta:
        return timedelta(minutes=self.turnaround_minutes)

    @property
    def on_site_lead(self) -> timedelta:
        return timedelta(minutes=self.on_site_lead_minutes)
