import reservation_service.models
import reservation_service.rates.models  # noqa: F401  (rate plans, seasons, ARI nights)
from hotel_common.migrations import run_env
from reservation_service import (  # noqa: F401  (their tables)
    ari_changes,
    partner_mappings,
    stay_models,
)

run_env("reservation_service")
