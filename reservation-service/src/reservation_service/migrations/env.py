import reservation_service.models
import reservation_service.rates.models  # noqa: F401  (rate plans, seasons, ARI nights)
from hotel_common.migrations import run_env
from reservation_service import stay_models  # noqa: F401  (the stay's tables)

run_env("reservation_service")
