import partner_service.models  # noqa: F401  (the service's tables)
from hotel_common.migrations import run_env

run_env("partner_service")
