"""Integration event contracts: the payloads services exchange, one module per publisher.

Consumers depend on these classes, never on another service's code or database. Events carry
what a consumer needs to act without calling back (guest contact and language, for instance).
"""
