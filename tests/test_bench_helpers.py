"""The benchmarks' pure helpers (bench/): percentiles, open-loop pacing, the knee, /proc
parsing, process trees, queue depths. The benchmarks themselves are run by `make bench`."""

import asyncio
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).parent.parent / "bench"


def bench_module(name: str) -> ModuleType:
    """bench/<name>.py by path (tests/ has modules of the same names on sys.path)."""
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))  # bench modules import each other by name
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stats = bench_module("stats")
procs = bench_module("procs")


def test_percentile_is_an_observed_value_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert stats.percentile(values, 0.5) == 50
    assert stats.percentile(values, 0.99) == 99  # not 100: 99 % of the values are <= 99
    assert stats.percentile(values, 1.0) == 100
    assert stats.percentile(values, 0.0) == 1
    assert stats.percentile([3.0, 1.0, 2.0], 0.5) == 2  # unsorted input
    assert stats.percentile([7.0], 0.99) == 7


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        stats.percentile([], 0.5)
    with pytest.raises(ValueError):
        stats.percentile([1.0], 1.5)


def test_summary_in_milliseconds() -> None:
    summary = stats.Summary.of([0.001 * v for v in range(1, 201)])
    assert (summary.count, summary.p50, summary.p95, summary.p99) == (200, 100, 190, 198)
    assert summary.max == pytest.approx(200)
    assert stats.Summary.of([]).count == 0


def test_open_loop_schedule_is_evenly_spaced_whatever_the_answers() -> None:
    due = list(stats.schedule(50, 2.0, start=10.0))
    assert len(due) == 100
    assert due[0] == 10.0
    assert due[1] - due[0] == pytest.approx(0.02)
    assert due[-1] == pytest.approx(10.0 + 99 / 50)
    assert list(stats.schedule(3, 1.0)) == [0.0, 1 / 3, 2 / 3]
    with pytest.raises(ValueError):
        list(stats.schedule(0, 1.0))


def test_knee_is_the_last_rate_before_the_first_broken_step() -> None:
    steps = [(10, 50, 0.0), (20, 80, 0.0), (40, 900, 0.0), (80, 60, 0.0)]
    assert stats.knee(steps, 500, 0.01) == 20  # a later good step does not count
    assert stats.knee([(10, 50, 0.05)], 500, 0.01) is None  # errors break it too
    assert stats.knee([(10, 50, 0.0), (20, 60, 0.0)], 500, 0.01) == 20


def test_grows_allows_noise_and_flags_growth() -> None:
    mb = 1 << 20
    assert not stats.grows([100 * mb, 104 * mb, 109 * mb], 0.05, 5 * mb)
    assert stats.grows([100 * mb, 120 * mb, 140 * mb], 0.05, 5 * mb)
    assert not stats.grows([100 * mb], 0.05, 0)


STAT = (
    "4242 (python (x) y) S 4200 4242 4242 0 -1 4194560 31337 0 0 0 "
    "150 25 0 0 20 0 3 0 123456 912345678 24680 18446744073709551615 ..."
)


def test_parse_stat_counts_user_and_system_time_and_rss() -> None:
    stat = procs.parse_stat(STAT)
    assert stat.pid == 4242
    assert stat.comm == "python (x) y"  # parentheses and spaces inside the name
    assert stat.ppid == 4200
    assert stat.cpu_ticks == 175  # utime 150 + stime 25
    assert stat.rss_pages == 24680


def test_status_field_in_bytes() -> None:
    text = "Name:\tpostgres\nVmRSS:\t  2048 kB\nRssAnon:\t  1024 kB\nRssFile:\t 1024 kB\n"
    assert procs.parse_status_kb(text, "RssAnon") == 1024 * 1024
    assert procs.parse_status_kb(text, "Missing") == 0


def stat(pid: int, ppid: int, comm: str = "python", ticks: int = 0) -> object:
    return procs.Stat(pid=pid, comm=comm, ppid=ppid, cpu_ticks=ticks, rss_pages=1)


def test_tree_takes_descendants_only() -> None:
    stats_ = [stat(1, 0), stat(10, 1), stat(11, 10), stat(12, 11), stat(20, 1), stat(13, 10)]
    assert sorted(s.pid for s in procs.tree(10, stats_)) == [10, 11, 12, 13]
    assert procs.tree(99, stats_) == []


def test_sample_reads_a_proc_tree(tmp_path: Path) -> None:
    """CPU of a pid's tree and of named processes filtered by their title, from a fake /proc."""

    def fake(pid: int, ppid: int, comm: str, ticks: int, title: str) -> None:
        (tmp_path / str(pid)).mkdir()
        fields = f"S {ppid} 0 0 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 1 0 1 1 10"
        (tmp_path / str(pid) / "stat").write_text(f"{pid} ({comm}) {fields}")
        (tmp_path / str(pid) / "status").write_text("RssAnon:\t 8 kB\n")
        (tmp_path / str(pid) / "cmdline").write_bytes(title.encode().replace(b" ", b"\0"))

    fake(100, 1, "python", procs.TICKS * 2, "python -m uvicorn")
    fake(101, 100, "python", procs.TICKS, "python child")
    fake(200, 1, "postgres", procs.TICKS * 4, "postgres: 15/main: postgres bench_ab_x 127.0.0.1")
    fake(201, 1, "postgres", procs.TICKS * 8, "postgres: 15/main: postgres other_db 127.0.0.1")
    fake(202, 1, "postgres", procs.TICKS, "postgres: 15/main: walwriter")
    usage = procs.sample({"service": 100, "db": procs.postgres(["bench_ab_x"])}, proc=tmp_path)
    assert usage["service"].cpu_seconds == 3 and usage["service"].processes == 2
    assert usage["db"].cpu_seconds == 4  # the run's backend, not other_db's nor the walwriter
    assert usage["db"].anon_bytes == 8 * 1024
    after = {k: procs.Usage(v.cpu_seconds + 1, 0, 0, 1) for k, v in usage.items()}
    assert procs.cpu_delta(usage, after) == {"service": 1, "db": 1}


def test_queue_depths_of_the_run_only() -> None:
    mixed = bench_module("mixed")
    text = "bench-ab.guest-service\t3\nbench-ab.guest-service.dlq\t0\nother.queue\t9\nbad line\n"
    assert mixed.parse_queues(text, "bench-ab.") == {"guest-service": 3, "guest-service.dlq": 0}


async def test_open_loop_sends_on_schedule_while_answers_are_slow() -> None:
    """The load client's open loop does not wait for answers: 10 requests due over 0.5 s all
    reach a server that takes 0.3 s each well before the first 0.3 s answers have all come back
    one by one; latency counts from each request's due instant."""
    from aiohttp import web

    load = bench_module("load")
    arrivals: list[float] = []

    async def slow(_: web.Request) -> web.Response:
        arrivals.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.3)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        spec = load.Spec(f"http://127.0.0.1:{port}", {"get:/slow": 1}, 16, rate=20, duration=0.5)
        result = await load.drive(spec)
    finally:
        await runner.cleanup()
    assert len(arrivals) == 10 and not result.errors
    # Paced at 20/s (not a burst), and not held back by the 0.3 s answers.
    assert 0.4 <= arrivals[-1] - arrivals[0] < 0.6
    assert min(result.latencies["get:/slow"]) >= 0.3


def test_bookings_of_a_room_type_do_not_overlap_for_1250_bookings() -> None:
    """The load's stays: same-type two-night stays back to back within the booking horizon."""
    load = bench_module("load")
    nights: set[tuple[int, int]] = set()
    for n in range(1250):
        start = load.stay_offset(n)
        assert start >= 40 and start + 2 <= 550
        for night in (start, start + 1):
            assert (n % 5, night) not in nights
            nights.add((n % 5, night))


def test_pickup_watch_keeps_its_last_answer_while_the_database_cannot_answer(
    tmp_path: Path,
) -> None:
    """Watching the events' progress survives a database it cannot reach for a while (in
    distributed mode: every connection taken by other work) and reads it again after."""
    import sqlite3

    rig = bench_module("rig")
    platform_procs = bench_module("platform_procs")
    platform = platform_procs.Platform("embedded", "http://x", {}, {}, data_dir=tmp_path)
    watch = rig.Pickups(platform)
    try:
        assert watch.now() == (0, None)  # no database yet
        with sqlite3.connect(tmp_path / "transfer-service.db") as db:
            db.execute("CREATE TABLE transfer_jobs (status TEXT, assigned_at TEXT)")
            db.execute("INSERT INTO transfer_jobs VALUES ('assigned', '2026-12-01 10:00:00')")
            db.execute("INSERT INTO transfer_jobs VALUES ('requested', NULL)")
        count, last = watch.now()
        assert count == 1 and last == 1796119200.0  # naive times are UTC
        (tmp_path / "transfer-service.db").unlink()
        assert watch.now() == (1, 1796119200.0)  # kept while it cannot ask
    finally:
        watch.close()


def test_pickups_of_one_check_in_date_are_hours_apart() -> None:
    """One driver can take every pickup of a date: landings 3 h apart (a pickup holds its
    driver from 30 min before the landing to 75 min after)."""
    from datetime import datetime

    load = bench_module("load")
    by_date: dict[str, list[datetime]] = {}
    for n in range(1250):
        body = load.booking_body(n, f"g{n}@bench.example")
        by_date.setdefault(body["check_in"], []).append(
            datetime.fromisoformat(body["transfer"]["arrival_time"])
        )
    for landings in by_date.values():
        landings.sort()
        assert all((b - a).total_seconds() >= 3 * 3600 for a, b in itertools.pairwise(landings))
