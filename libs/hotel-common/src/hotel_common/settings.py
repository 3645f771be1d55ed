"""Settings every service shares, read from the environment (and `.env`)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeVar

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class Retention:
    """How long the shared tables keep rows (see retention.py)."""

    published_events: timedelta
    processed_events: timedelta
    idempotency_keys: timedelta


class ServiceSettings(BaseSettings):
    """One instance per service process; embedded mode builds them in code instead."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    service_name: str = "service"
    # SQLite by default (file, WAL); PostgreSQL as postgresql+asyncpg://...
    database_url: str = "sqlite+aiosqlite:///./data/service.db"
    database_pool_size: int = 10
    # "memory" needs an in-process broker (embedded mode, tests); "rabbitmq" uses RABBITMQ_URL.
    bus: Literal["memory", "rabbitmq"] = "memory"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Prefix for the exchange and queues, so test runs and tenants never share a queue.
    bus_namespace: str = ""
    bus_prefetch: int = 16
    # Handler retries: delays in seconds before each new attempt, then the dead-letter queue.
    retry_delays: list[float] = Field(default_factory=lambda: [1.0, 5.0, 30.0])
    outbox_poll_seconds: float = 2.0
    # Housekeeping of the shared tables (see retention.py).
    published_events_retention_hours: float = Field(168.0, ge=0)
    processed_events_retention_days: float = Field(30.0, ge=0)
    idempotency_key_retention_hours: float = Field(24.0, ge=0)
    retention_interval_seconds: float = Field(3600.0, gt=0)
    seed_demo: bool = False
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _sane(self) -> "ServiceSettings":
        if not self.retry_delays or any(d < 0 for d in self.retry_delays):
            raise ValueError("retry_delays needs at least one non-negative delay")
        return self

    @property
    def retention(self) -> Retention:
        return Retention(
            published_events=timedelta(hours=self.published_events_retention_hours),
            processed_events=timedelta(days=self.processed_events_retention_days),
            idempotency_keys=timedelta(hours=self.idempotency_key_retention_hours),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# A service's own settings class, e.g. in `settings_as(runtime, cls: type[SettingsT])`.
SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
