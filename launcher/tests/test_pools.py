"""`make up` sizes each process's database pool so that every pool, full, fits under the
PostgreSQL server's max_connections (4 services x REPLICAS x 2 x pool size would not)."""

import pytest
from gateway.registry import BY_NAME, SERVICES
from hotel_common.db import create_engine
from launcher.distributed import (
    CONNECTIONS_PER_POOL_SLOT,
    DEFAULT_POOL_SIZE,
    RESERVED_CONNECTIONS,
    pool_size_for,
    pool_sizes,
    server_limits,
    service_env,
)

from launcher import distributed

ALL = list(SERVICES)
BUDGET = 100 - 3 - RESERVED_CONNECTIONS  # a default server: max_connections 100, 3 reserved


def fits(sizes: dict[str, int], environ: dict[str, str], limit: int, reserved: int) -> bool:
    most = sum(
        distributed.replicas(BY_NAME[name], environ) * size * CONNECTIONS_PER_POOL_SLOT
        for name, size in sizes.items()
    )
    return most <= limit - reserved - RESERVED_CONNECTIONS


def test_one_process_per_service_keeps_the_default_pool() -> None:
    sizes = pool_sizes(ALL, {}, limits=lambda url: (100, 3))
    expected = min(DEFAULT_POOL_SIZE, BUDGET // (CONNECTIONS_PER_POOL_SLOT * len(SERVICES)))
    assert sizes == {s.name: expected for s in SERVICES}
    assert len(SERVICES) > 4 or expected == DEFAULT_POOL_SIZE  # four services: unchanged


@pytest.mark.parametrize("replicas", [2, 3, 5])
def test_replicas_share_the_servers_budget(replicas: int) -> None:
    environ = {"REPLICAS": str(replicas)}
    sizes = pool_sizes(ALL, environ, limits=lambda url: (100, 3))
    # Before: 4 x 2 x 2 x 10 = 160 connections at REPLICAS=2 against a limit of 100.
    assert fits(sizes, environ, 100, 3)
    assert all(1 <= size < DEFAULT_POOL_SIZE for size in sizes.values())
    assert len(set(sizes.values())) == 1


def test_services_on_different_servers_each_have_that_servers_budget() -> None:
    environ = {
        "REPLICAS": "3",
        "GUEST_DATABASE_URL": "postgresql+asyncpg://postgres@db2:5433/guests",
    }
    asked: list[str] = []

    def limits(url: str) -> tuple[int, int]:
        asked.append(distributed.server_of(url))
        return (40, 3) if "db2" in url else (100, 3)

    sizes = pool_sizes(ALL, environ, limits=limits)
    assert sorted(asked) == ["127.0.0.1:5432", "db2:5433"]  # once per server
    assert sizes["guest-service"] == (40 - 3 - RESERVED_CONNECTIONS) // (2 * 3)
    assert sizes["reservation-service"] == BUDGET // (2 * 3 * (len(SERVICES) - 1))


def test_too_many_processes_for_the_server_is_an_error_not_a_late_failure() -> None:
    with pytest.raises(ValueError, match="do not fit in max_connections=20"):
        pool_size_for(8, 20)


def test_the_size_reaches_the_process_unless_the_environment_sets_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reservations = BY_NAME["reservation-service"]
    assert service_env(reservations, {}, 5)["DATABASE_POOL_SIZE"] == "5"
    assert service_env(reservations, {"DATABASE_POOL_SIZE": "7"}, 5)["DATABASE_POOL_SIZE"] == "7"
    assert "DATABASE_POOL_SIZE" not in service_env(reservations, {})
    pool_sizes(ALL, {"REPLICAS": "4", "DATABASE_POOL_SIZE": "10"}, limits=lambda url: (100, 3))
    warning = f"DATABASE_POOL_SIZE=10 x {4 * len(SERVICES)} processes can pass"
    assert warning in capsys.readouterr().err


def test_a_pool_slot_is_two_connections_as_the_engine_is_built() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/unused", pool_size=3)
    pool = engine.sync_engine.pool
    assert pool.size() + pool._max_overflow == 3 * CONNECTIONS_PER_POOL_SLOT  # type: ignore[attr-defined]


@pytest.mark.infra
def test_the_limit_is_asked_of_the_server() -> None:
    limit, reserved = server_limits("postgresql+asyncpg://postgres@127.0.0.1:5432/hotel_whatever")
    assert limit >= 20 and 0 <= reserved < limit
