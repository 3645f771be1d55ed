import reservation_service.models  # noqa: F401  (the service's tables)
from hotel_common.migrations import run_env
from reservation_service import stay_models  # noqa: F401  (the stay's tables)

run_env("reservation_service")
