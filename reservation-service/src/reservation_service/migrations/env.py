from hotel_common.migrations import run_env
from reservation_service.models import TABLES

run_env(TABLES)
