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


DEV_INTERNAL_SECRET = "dev-only-internal-secret-do-not-deploy"


class ServiceSettings(BaseSettings):
    """One instance per service process; embedded mode builds them in code instead."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    service_name: str = "service"
    # SQLite by default (file, WAL); PostgreSQL as postgresql+asyncpg://...
    database_url: str = "sqlite+aiosqlite:///./data/service.db"
    database_pool_size: int = 10
    # How long a request waits for a pooled connection before 503 (None: 30 s PG, 60 s SQLite).
    database_pool_timeout_seconds: float | None = Field(None, gt=0)
    # Request bodies (idempotency.py): a larger one gets 413, one arriving slower 408.
    max_body_bytes: int = Field(1_048_576, gt=0)
    body_read_timeout_seconds: float = Field(30.0, gt=0)
    # How long a retry waits for a twin holding its Idempotency-Key, then 409 (PostgreSQL).
    idempotency_wait_seconds: float = Field(5.0, gt=0)
    # "memory" needs an in-process broker (embedded mode, tests); "rabbitmq" uses RABBITMQ_URL.
    bus: Literal["memory", "rabbitmq"] = "memory"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Prefix for the exchange and queues, so test runs and tenants never share a queue.
    bus_namespace: str = ""
    bus_prefetch: int = 16
    # Handler retries: delays in seconds before each new attempt, then the dead-letter queue.
    retry_delays: list[float] = Field(default_factory=lambda: [1.0, 5.0, 30.0])
    outbox_poll_seconds: float = 2.0
    # Failed attempts (never a broker outage) before an outbox row is parked (/admin/outbox).
    outbox_max_attempts: int = Field(5, ge=1)
    # Housekeeping of the shared tables (see retention.py).
    published_events_retention_hours: float = Field(168.0, ge=0)
    processed_events_retention_days: float = Field(30.0, ge=0)
    idempotency_key_retention_hours: float = Field(24.0, ge=0)
    retention_interval_seconds: float = Field(3600.0, gt=0)
    # Verifies the gateway's X-Principal header (principal.py); the same value in the gateway
    # and every service. The default is for tests and `make run` only: `make up` and compose
    # set their own.
    internal_secret: str = Field(DEV_INTERNAL_SECRET, min_length=16)
    seed_demo: bool = False
    # "development" (`make run`, tests that say so) relaxes what only a developer's machine
    # needs: e.g. webhooks to http:// and loopback receivers. Anything else is production.
    environment: Literal["development", "production"] = "production"
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


# A service's own settings class: `Runtime[Settings]`, `ServiceSpec[Settings]`.
SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
