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
    # Profiles (issue 19): how often the re-encryption job (reencrypt.py) re-seals personal data
    # not under the current key; after a rotation an admin may also run it at once
    # (POST /api/v1/guests/re-encryption).
    reencrypt_interval_seconds: float = Field(3600.0, gt=0)
