import reservation_service.models
import reservation_service.rates.models  # noqa: F401  (rate plans, seasons, ARI nights)
from hotel_common.migrations import run_env
from reservation_service import ari_changes, stay_models  # noqa: F401  (ARI staging, the stay)

run_env("reservation_service")
