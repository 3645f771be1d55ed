from guest_service.models import TABLES
from hotel_common.migrations import run_env

run_env(TABLES)
