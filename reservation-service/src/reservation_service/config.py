from datetime import timedelta

from hotel_common.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    service_name: str = "reservation-service"
    database_url: str = "sqlite+aiosqlite:///./data/reservation-service.db"
    # Longest stay one booking may cover; longer stays are a group/long-stay contract.
    max_stay_nights: int = Field(default=30, ge=1, le=60)  # amounts are bounded for 60 (models.py)
    # Furthest ahead a stay may start (about 18 months: channel managers sell 365-500 days out).
    max_booking_horizon_days: int = Field(default=550, ge=1)
    # A `requested` booking holds nothing; one not confirmed within this long expires.
    request_expiry_hours: int = Field(default=24, ge=1, le=24 * 30)
    # The stay (issue 17): the deposit taken at check-in unless the desk names one, in minor
    # units of the property's currency (0: none), and the late check-out rule: a guest leaving
    # more than `late_check_out_grace_minutes` after the property's check-out time on the
    # departure day is charged `late_check_out_percent` of the last night's room price.
    check_in_deposit_amount: int = Field(default=50000, ge=0, le=100_000_000)
    late_check_out_grace_minutes: int = Field(default=60, ge=0, le=24 * 60)
    late_check_out_percent: int = Field(default=50, ge=0, le=100)
    # Unpaid rooms a partner channel may have on hold (bookings.check_hold_cap, docs/domain.md):
    # a confirm or a book-now beyond it is 409 hold_cap_reached. 0: no cap. The map sets a
    # channel's own cap, also for the hotel's channels (direct_web, mobile_app, front_desk),
    # which are uncapped unless named there.
    max_unpaid_holds_per_channel: int = Field(default=1000, ge=0)
    unpaid_hold_caps: dict[str, int] = Field(default_factory=dict)
    # A confirmed booking not checked in by this hour (property time) of the day after its
    # check-in day is a no-show; the lifecycle workers sweep this often (workers.py).
    no_show_cutoff_hour: int = Field(default=6, ge=0, le=23)
    lifecycle_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    # A transfer's arrival falls between 00:00 of the check-in day (property time) minus this...
    transfer_arrival_hours_before_check_in_day: int = Field(default=24, ge=0, le=7 * 24)
    # ...and the end of the check-in day plus this (a red-eye that lands after midnight).
    transfer_arrival_hours_after_check_in_day: int = Field(default=6, ge=0, le=7 * 24)
    # and at least this far ahead when booked: dispatch needs a driver on site 30 min early.
    transfer_min_lead_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    # availability.changed (ari_publisher.py): staged ARI changes are published this often, a
    # window's changes to one room type coalesced; ranges at most `ari_merge_gap_nights`
    # apart are one message; a pass claims at most `ari_claim_batch` staged rows at a time.
    ari_coalesce_seconds: float = Field(default=1.0, gt=0, le=60)
    ari_merge_gap_nights: int = Field(default=3, ge=0, le=31)
    ari_claim_batch: int = Field(default=1000, ge=1, le=100_000)

    @property
    def arrival_window(self) -> tuple[timedelta, timedelta]:
        """(before the check-in day's start, after its end)."""
        return (
            timedelta(hours=self.transfer_arrival_hours_before_check_in_day),
            timedelta(hours=self.transfer_arrival_hours_after_check_in_day),
        )

    @property
    def transfer_min_lead(self) -> timedelta:
        return timedelta(minutes=self.transfer_min_lead_minutes)
