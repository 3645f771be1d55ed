from hotel_common.settings import ServiceSettings
from pydantic import Field

from guest_service.crypto import DEV_KEYS, DEV_LOOKUP_KEY


class Settings(ServiceSettings):
    service_name: str = "guest-service"
    database_url: str = "sqlite+aiosqlite:///./data/guest-service.db"
    # Personal data at rest (crypto.py): "id:base64,id:base64", the first key seals new values,
    # every key opens; the lookup key makes the keyed hashes contacts are found by. The defaults
    # are for tests and `make run` only: deployments set their own (docs/recipes.md).
    pii_keys: str = Field(DEV_KEYS, min_length=10)
    pii_lookup_key: str = Field(DEV_LOOKUP_KEY, min_length=10)
    # Units of CNY per unit of each currency (money.py): loyalty and value are counted in yuan.
    fx_to_cny: dict[str, float] = Field(
        default_factory=lambda: {"USD": 7.2, "EUR": 7.8, "GBP": 9.1, "HKD": 0.92, "JPY": 0.048}
    )
    # -- segments (value.py, segments.py; docs/DECISIONS.md "Issue 19: segments") --
    # RFM: recency by days since the last completed stay (3: within the first, 2: within the
    # second, 1: longer); frequency by completed stays and monetary by their settled spend in
    # whole CNY, both within the window (3: at least the first cut-off, 2: the second, 1: less).
    value_window_days: int = Field(730, ge=30, le=3660)
    recency_days: tuple[int, int] = (180, 365)
    frequency_stays: tuple[int, int] = (4, 2)
    monetary_cny: tuple[int, int] = (10_000, 3_000)
    # Every guest's value and every segment recomputed this often (recency ages with the date).
    value_refresh_seconds: float = Field(3600, gt=0)
