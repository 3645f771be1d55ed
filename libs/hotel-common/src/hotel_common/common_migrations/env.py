import hotel_common.events.inbox
import hotel_common.events.outbox
import hotel_common.idempotency  # noqa: F401  (the shared tables' models)
from hotel_common.migrations import COMMON_OWNER, COMMON_VERSION_TABLE, run_env

run_env(COMMON_OWNER, version_table=COMMON_VERSION_TABLE)
