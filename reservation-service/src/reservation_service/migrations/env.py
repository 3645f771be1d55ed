import reservation_service.models
import reservation_service.rates.models  # noqa: F401  (rate plans, seasons, ARI nights)
from hotel_common.migrations import run_env
from reservation_service import partner_mappings, stay_models  # noqa: F401  (their tables)

run_env("reservation_service")
