"""Gateway settings, read from the environment (and `.env`)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.catalog import BY_NAME, SERVICES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Upstream base URLs (distributed mode); env RESERVATION_SERVICE_URL and so on.
    reservation_service_url: str = BY_NAME["reservation-service"].local_url
    transfer_service_url: str = BY_NAME["transfer-service"].local_url
    guest_service_url: str = BY_NAME["guest-service"].local_url
    notification_service_url: str = BY_NAME["notification-service"].local_url
    # Which services to proxy (JSON list in the env); `make up` drops ones not installed.
    services: list[str] = Field(default_factory=lambda: [s.name for s in SERVICES])

    upstream_timeout: float = Field(10.0, gt=0)  # whole request, seconds
    connect_timeout: float = Field(2.0, gt=0)
    ready_timeout: float = Field(3.0, gt=0)  # health and OpenAPI fetches
    max_connections: int = Field(100, ge=1)  # per upstream

    log_level: str = "INFO"
    log_json: bool = True

    def upstream_urls(self) -> dict[str, str]:
        """Service name -> base URL, for the services this gateway proxies."""
        return {
            s.name: getattr(self, f"{s.short}_service_url").rstrip("/")
            for s in SERVICES
            if s.name in self.services
        }
