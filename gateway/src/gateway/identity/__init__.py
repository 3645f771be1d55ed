"""The gateway's identity store: staff users, partners and their API keys, guest sign-in codes,
refresh tokens and the audit log, in the gateway's own database (its own Alembic history).

It starts like a service (hotel_common.service.start: database, migrations, bus, outbox relay),
inside the gateway's lifespan (`store.py`). Requests are authenticated without touching it:
JWTs by signature, partner keys against an in-memory copy of their hashes (`authenticator.py`).
"""
