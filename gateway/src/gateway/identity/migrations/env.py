import gateway.identity.models  # noqa: F401  (the identity store's tables)
from hotel_common.migrations import run_env

run_env("gateway.identity")
