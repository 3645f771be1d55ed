"""docker-compose.yml and identity: the secrets come from the environment (no value written in
the file), the gateway and every service share the internal one, only the gateway holds the
token secret, and the identity store has its own PostgreSQL database and the shared broker."""

from typing import Any
from urllib.parse import urlparse

import pytest
from gateway.config import Settings as GatewaySettings
from gateway.registry import BY_NAME
from test_compose import env_of

REQUIRED = "${INTERNAL_SECRET:?"


def test_every_service_and_the_gateway_take_the_internal_secret_from_a_variable() -> None:
    for name in [*BY_NAME, "gateway"]:
        assert env_of(name)["INTERNAL_SECRET"].startswith(REQUIRED), name


def test_only_the_gateway_holds_the_token_secret() -> None:
    assert env_of("gateway")["TOKEN_SECRET"].startswith("${TOKEN_SECRET:?")
    for name in BY_NAME:
        assert "TOKEN_SECRET" not in env_of(name), name


def test_the_gateway_identity_store_reads_what_compose_gives_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = env_of("gateway")
    fields = GatewaySettings.model_fields
    assert not [k for k in env if k.lower() not in fields]
    values: dict[str, Any] = {k: v for k, v in env.items() if not v.startswith("${")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings = GatewaySettings(_env_file=None)
    db = urlparse(settings.database_url)
    assert (db.scheme, db.hostname, db.path) == ("postgresql+asyncpg", "postgres", "/hotel_gateway")
    assert settings.bus == "rabbitmq" and urlparse(settings.rabbitmq_url).hostname == "rabbitmq"
    # Unset, the bootstrap admin variables reach it as "": no admin, not a failed start.
    monkeypatch.setenv("BOOTSTRAP_ADMIN_EMAIL", "")
    monkeypatch.setenv("BOOTSTRAP_ADMIN_PASSWORD", "")
    unset = GatewaySettings(_env_file=None)
    assert unset.bootstrap_admin_email is None and unset.bootstrap_admin_password is None
    assert env["BOOTSTRAP_ADMIN_PASSWORD"] == "${BOOTSTRAP_ADMIN_PASSWORD:-}"


def test_only_guest_service_holds_the_personal_data_keys_and_from_variables() -> None:
    guest = env_of("guest-service")
    assert guest["PII_KEYS"].startswith("${PII_KEYS:?")
    assert guest["PII_LOOKUP_KEY"].startswith("${PII_LOOKUP_KEY:?")
    for name in [*BY_NAME, "gateway"]:
        if name != "guest-service":
            assert "PII_KEYS" not in env_of(name) and "PII_LOOKUP_KEY" not in env_of(name), name
