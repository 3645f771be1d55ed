from hotel_common.migrations import run_env
from notification_service.models import TABLES

run_env(TABLES)
