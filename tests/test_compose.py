"""docker-compose.yml, checked against the code (no Docker engine here): every service the
platform installs is there, wired with the variables its settings read, with health checks."""

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from gateway.config import Settings as GatewaySettings
from gateway.registry import BY_NAME
from hotel_common.service import ServiceSpec

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SPECS: list[ServiceSpec] = [ep.load() for ep in entry_points(group="hotel.services")]


def env_of(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES[name].get("environment", {}).items()}


def test_every_registered_service_is_installed_and_in_compose() -> None:
    assert sorted(s.name for s in SPECS) == sorted(BY_NAME), "registry and installed differ"
    for name in BY_NAME:
        assert name in SERVICES, f"{name} missing from docker-compose.yml"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_service_runs_its_own_app_with_env_its_settings_read(
    spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = SERVICES[spec.name]
    assert f"{BY_NAME[spec.name].package}.main:create_app" in service["command"]
    env = env_of(spec.name)
    fields = spec.settings_class.model_fields
    unknown = [k for k in env if k.lower() not in fields]
    assert not unknown, f"{spec.name}: variables no setting reads: {unknown}"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = spec.settings_class()
    assert settings.service_name == spec.name
    assert settings.bus == "rabbitmq"
    assert urlparse(settings.rabbitmq_url).hostname == "rabbitmq"
    db = urlparse(settings.database_url)
    assert db.scheme == "postgresql+asyncpg" and db.hostname == "postgres"
    assert "healthcheck" in service and "/health/ready" in str(service["healthcheck"]["test"])
    for dependency in service["depends_on"]:
        assert dependency in SERVICES


def test_each_service_has_its_own_database() -> None:
    names = [urlparse(env_of(s.name)["DATABASE_URL"]).path for s in SPECS]
    assert len(set(names)) == len(names)


def test_notification_service_sends_to_the_smtp_catcher() -> None:
    smtp = urlparse(env_of("notification-service")["SMTP_URL"])
    assert smtp.hostname in SERVICES and smtp.port is not None
    assert f"{smtp.port}:{smtp.port}" in SERVICES[smtp.hostname]["ports"]


def test_gateway_reaches_every_service_and_is_published(monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_of("gateway")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    urls = GatewaySettings().upstream_urls()
    assert set(urls) == {s.name for s in SPECS}
    for name, url in urls.items():
        assert urlparse(url).hostname == name
    assert "8000:8000" in SERVICES["gateway"]["ports"]
    assert set(SERVICES["gateway"]["depends_on"]) == {s.name for s in SPECS}


def test_broker_and_database_have_health_checks_and_the_management_ui() -> None:
    assert "management" in SERVICES["rabbitmq"]["image"]
    assert "15672:15672" in SERVICES["rabbitmq"]["ports"]
    for name in ("rabbitmq", "postgres"):
        assert SERVICES[name]["healthcheck"]["test"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_services_run_replicated_reached_by_name_without_host_ports(spec: ServiceSpec) -> None:
    service = SERVICES[spec.name]
    assert service["deploy"]["replicas"] >= 2
    assert "ports" not in service, f"{spec.name}: replicas cannot share a fixed host port"
    assert SERVICES["gateway"]["deploy"]["replicas"] == 1
