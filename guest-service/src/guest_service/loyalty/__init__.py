"""Loyalty: tiers, enrolment, the points ledger (issue 19)."""
