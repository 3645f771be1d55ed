"""Gateway settings, read from the environment (and `.env`)."""

from hotel_common.settings import DEV_INTERNAL_SECRET, ServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from gateway.edges import EdgeSettings
from gateway.registry import BY_NAME, SERVICES


def local_upstreams() -> dict[str, str]:
    """Every registered service where `make up` runs it on this machine."""
    return {s.name: s.local_url for s in SERVICES}


# Signs the JWTs of staff and guests. The default is for tests and `make run` only: `make up`
# draws one per run, compose takes TOKEN_SECRET from its environment.
DEV_TOKEN_SECRET = "dev-only-token-secret-do-not-deploy"


class Settings(EdgeSettings, ServiceSettings):
    """The gateway's settings. The shared service settings (ServiceSettings: DATABASE_URL, BUS,
    RABBITMQ_URL, pools, outbox, retention, INTERNAL_SECRET, SEED_DEMO, logging) serve its
    identity store, which starts like a service's (hotel_common.service.start)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    service_name: str = "gateway"
    database_url: str = "sqlite+aiosqlite:///./data/gateway.db"

    # The services proxied: name -> base URL, several replicas comma-separated (spread
    # round-robin). One JSON object in env UPSTREAMS, e.g.
    # {"reservation-service": "http://a:8001,http://b:8001", "guest-service": "http://c:8003"}.
    # A registered service left out is not proxied (its paths answer 404).
    upstreams: dict[str, str] = Field(default_factory=local_upstreams)

    upstream_timeout: float = Field(10.0, gt=0)  # whole request, seconds
    connect_timeout: float = Field(2.0, gt=0)
    ready_timeout: float = Field(3.0, gt=0)  # health and OpenAPI fetches
    max_connections: int = Field(100, ge=1)  # per upstream
    # Request bodies: larger ones get 413 before any service sees them; one that stalls, 408.
    max_body_bytes: int = Field(1024 * 1024, ge=0)
    body_read_timeout: float = Field(10.0, gt=0)  # seconds for the whole body to arrive

    # Signs the X-Principal header for the services (hotel_common.principal): the same value
    # as theirs. The default is for tests and `make run` only.
    internal_secret: str = Field(DEV_INTERNAL_SECRET, min_length=16)

    # -- identity (gateway.identity) --
    token_secret: str = Field(DEV_TOKEN_SECRET, min_length=16)
    access_token_seconds: int = Field(900, ge=30)  # staff and guest JWTs
    # Guests sign in with a code, and have no refresh token: their token lasts longer.
    guest_token_seconds: int = Field(86400, ge=30)
    refresh_token_days: float = Field(14.0, gt=0)
    # Lockout: this many failed logins within the window lock the account for lockout_seconds.
    lockout_failures: int = Field(5, ge=1)
    lockout_window_seconds: int = Field(900, ge=1)
    lockout_seconds: int = Field(900, ge=1)
    # Guest sign-in codes: lifetime, wrong guesses allowed, codes sent per address per hour.
    sign_in_code_seconds: int = Field(600, ge=30)
    sign_in_code_attempts: int = Field(5, ge=1)
    sign_in_codes_per_hour: int = Field(5, ge=1)
    # Partner keys are checked against an in-memory copy of their hashes, reloaded this often:
    # a key revoked on another replica stops working here within this many seconds.
    key_cache_refresh_seconds: float = Field(5.0, gt=0)
    # An admin created at start when no active admin exists (both or neither).
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: str | None = Field(None, min_length=12)

    @field_validator("bootstrap_admin_email", "bootstrap_admin_password", mode="before")
    @classmethod
    def _unset_if_empty(cls, value: object) -> object:
        """Compose passes an unset variable as "": no bootstrap admin then."""
        return None if value == "" else value

    @field_validator("upstreams")
    @classmethod
    def _registered(cls, upstreams: dict[str, str]) -> dict[str, str]:
        """A misspelt service would route nothing: refuse it instead of serving 404s."""
        unknown = sorted(set(upstreams) - set(BY_NAME))
        if unknown:
            raise ValueError(f"not registered in gateway.registry: {', '.join(unknown)}")
        return upstreams

    def upstream_urls(self) -> dict[str, str]:
        """Service name -> base URL (its first replica's), for the services proxied."""
        return {name: urls[0] for name, urls in self.upstream_replicas().items()}

    def upstream_replicas(self) -> dict[str, list[str]]:
        """Service name -> the base URLs of its replicas, for the services proxied."""
        return {
            name: [url.strip().rstrip("/") for url in urls.split(",") if url.strip()]
            for name, urls in self.upstreams.items()
        }
