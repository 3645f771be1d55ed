"""Rates: rate plans (base and derived), their seasons, the per-night prices and restrictions a
channel manager pushes (ARI), and reading them back. Pricing a stay is `pricing.quote_stay`."""
