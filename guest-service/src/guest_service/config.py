from hotel_common.settings import ServiceSettings
from pydantic import Field

from guest_service.crypto import DEV_KEYS, DEV_LOOKUP_KEY


class Settings(ServiceSettings):
    service_name: str = "guest-service"
    database_url: str = "sqlite+aiosqlite:///./data/guest-service.db"
    # Personal data at rest (crypto.py): "id:base64,id:base64", the first key seals new values,
    # every key opens; the lookup key makes the keyed hashes contacts are found by. The defaults
    # are for tests and `make run` only: deployments set their own (docs/recipes.md).
    pii_keys: str = Field(DEV_KEYS, min_length=10)
    pii_lookup_key: str = Field(DEV_LOOKUP_KEY, min_length=10)
    # Units of CNY per unit of each currency (money.py): loyalty and value are counted in yuan.
    fx_to_cny: dict[str, float] = Field(
        default_factory=lambda: {"USD": 7.2, "EUR": 7.8, "GBP": 9.1, "HKD": 0.92, "JPY": 0.048}
    )
    # Profiles (issue 19): how often the re-encryption job (reencrypt.py) re-seals personal data
    # not under the current key; after a rotation an admin may also run it at once
    # (POST /api/v1/guests/re-encryption).
    reencrypt_interval_seconds: float = Field(3600.0, gt=0)
    # -- feedback (surveys, follow-ups, complaints; docs/domain.md "Feedback") -----------------
    # A stay's survey is sent this long after check-out (within the week: at most 168 h); a
    # transfer's this long after the ride ends. The link works for `survey_valid_days`.
    survey_delay_hours_after_checkout: float = Field(24.0, ge=0, le=168)
    survey_delay_hours_after_transfer: float = Field(2.0, ge=0, le=168)
    survey_valid_days: int = Field(14, ge=1, le=90)
    # Where the guest answers: the link is this followed by "/<token>".
    survey_link_base: str = Field("http://127.0.0.1:8000/survey", min_length=1)
    # The follow-up call after a stay is due within this many days of check-out.
    follow_up_days: int = Field(7, ge=1, le=30)
    # Complaint SLAs by severity, in hours: the first answer (validated or rejected) and the
    # resolution (the guest told the outcome). Time waiting on the guest does not count.
    complaint_response_hours: dict[str, float] = Field(
        default_factory=lambda: {"critical": 1.0, "high": 4.0, "medium": 24.0, "low": 48.0}
    )
    complaint_resolution_hours: dict[str, float] = Field(
        default_factory=lambda: {"critical": 24.0, "high": 72.0, "medium": 120.0, "low": 240.0}
    )
    # A remedy worth more than this (yuan; points count at `points_value_cny` each) needs a
    # manager's approval; at or below it the approval step may be skipped.
    complaint_approval_above_cny: int = Field(500, ge=0)
    points_value_cny: float = Field(0.1, ge=0)
    # How often the feedback worker sends due surveys and escalates breached complaints.
    feedback_interval_seconds: float = Field(60.0, gt=0)
    # -- segments (value.py, segments.py; docs/DECISIONS.md "Issue 19: segments") --
    # RFM: recency by days since the last completed stay (3: within the first, 2: within the
    # second, 1: longer); frequency by completed stays and monetary by their settled spend in
    # whole CNY, both within the window (3: at least the first cut-off, 2: the second, 1: less).
    value_window_days: int = Field(730, ge=30, le=3660)
    recency_days: tuple[int, int] = (180, 365)
    frequency_stays: tuple[int, int] = (4, 2)
    monetary_cny: tuple[int, int] = (10_000, 3_000)
    # Every guest's value and every segment recomputed this often (recency ages with the date).
    value_refresh_seconds: float = Field(3600, gt=0)
    # -- loyalty (docs/domain.md "Loyalty"; loyalty/) --
    # Enrolment: one stay's settled folio of at least this many yuan (manual 003 §7.1.2).
    loyalty_enrol_min_cny: int = Field(500, ge=0)
    # Promotion: settled spend (yuan) OR completed stays within the rolling window reach the
    # tier's threshold; a tier is kept until the membership lapses (never demoted by the
    # window sliding on).
    loyalty_window_days: int = Field(365, ge=30)
    loyalty_tier_spend_cny: dict[str, int] = Field(
        default_factory=lambda: {"silver": 10_000, "gold": 30_000, "diamond": 80_000}
    )
    loyalty_tier_stays: dict[str, int] = Field(
        default_factory=lambda: {"silver": 5, "gold": 12, "diamond": 25}
    )
    # Two years without a completed stay: the membership lapses (manual 003 §7.1.4).
    loyalty_lapse_years: int = Field(2, ge=1)
    loyalty_referral_points: int = Field(200, ge=0)  # manual 003 §7.2.3
    # Yearly expiry: points earned in one cut-off year are cleared at the NEXT cut-off
    # ("MM-DD"), so a point lives 12 to 24 months; a reminder this many days before.
    loyalty_expiry_cutoff: str = Field("12-31", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
    loyalty_expiry_reminder_days: int = Field(30, ge=1, le=180)
    # The birthday benefit (manual 003 §7.1.3: one free service and a gift), valid this long.
    loyalty_birthday_benefit: str = "A free breakfast for two and a birthday cake"
    loyalty_birthday_valid_days: int = Field(30, ge=1)
    # Redemption: this many points make one yuan of folio credit; the reward catalogue's price
    # of each reward in points.
    loyalty_points_per_credit_yuan: int = Field(10, ge=1)
    loyalty_rewards: dict[str, int] = Field(
        default_factory=lambda: {
            "breakfast": 800,
            "late_checkout": 500,
            "airport_transfer": 1_500,
            "room_upgrade": 3_000,
        }
    )
    # How often the loyalty worker runs its daily steps (lapse, expiry, reminders, birthdays).
    loyalty_worker_seconds: float = Field(3600.0, gt=0)
