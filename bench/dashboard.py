"""The staff dashboard (issue 22) as `make run` serves it: the platform started with the demo
day (`python -m launcher run`: embedded mode, SQLite, in-memory bus), signed in through the
dashboard's form as the demo admin (every section), then each section's page timed over
`--requests` sequential requests (one browser tab's worth of load, no concurrency): p50 / p95
latency, the platform process's CPU ms per request, the public-API calls the page makes (the
gateway's request log lines carrying the page request's X-Request-ID, which the dashboard
passes on to its API calls) and the process's RSS. Also how long the start-up took to the
banner, and the demo day's own share.

    .venv/bin/python bench/dashboard.py [--requests 30]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import IO

import httpx
from hotel_common.testing import free_port
from procs import read_stat
from stats import percentile

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = re.compile(r"demo admin:\s+(\S+) / (\S+)")
SEEDED = re.compile(r"demo day: .*\(([\d.]+) s\)")
START_SECONDS = 120
LAUNCHER = (sys.executable, "-m", "launcher", "run")
WARM_UP = 2
TICKS = os.sysconf("SC_CLK_TCK")


class Platform:
    """`python -m launcher run` in a child process; its stdout (the JSON request log) read on a
    thread: API calls counted per request id."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls: Counter[str] = Counter()  # request id -> /api/v1 requests it made
        self.demo_day_seconds: float | None = None
        self.start_seconds = 0.0
        self.credentials: tuple[str, str] | None = None
        self._ready = threading.Event()
        began = time.monotonic()
        self.child = subprocess.Popen(
            [*LAUNCHER, "--port", str(self.port), "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            # One signed-in admin's requests, hundreds a minute: the limits would answer 429.
            env={**os.environ, "RATE_LIMIT_ENABLED": "false"},
        )
        assert self.child.stdout is not None
        threading.Thread(target=self._read, args=(self.child.stdout,), daemon=True).start()
        if not self._ready.wait(START_SECONDS) or self.credentials is None:
            self.stop()
            raise SystemExit("the platform did not start")
        self.start_seconds = time.monotonic() - began

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            if line.startswith("{"):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if (
                    entry.get("logger") == "hotel.access"
                    and entry.get("service") == "gateway"
                    and str(entry.get("path", "")).startswith("/api/")
                ):
                    self.calls[str(entry.get("request_id"))] += 1
                elif found := SEEDED.search(str(entry.get("msg", ""))):
                    self.demo_day_seconds = float(found.group(1))
            elif found := CREDENTIALS.search(line):
                self.credentials = (found.group(1), found.group(2))
                self._ready.set()

    def cpu_seconds(self) -> float:
        """The platform process's user + system CPU so far (its threads included)."""
        stat = read_stat(self.child.pid)
        return (stat.cpu_ticks if stat else 0) / TICKS

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.child.pid}/status").read_text()
        kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        return kb / 1024

    def stop(self) -> None:
        self.child.terminate()
        try:
            self.child.wait(20)
        except subprocess.TimeoutExpired:
            self.child.kill()


def sign_in(client: httpx.Client, email: str, password: str) -> None:
    """Through the form, as a browser: the sign-in page sets the CSRF cookie the form echoes."""
    form = client.get("/dashboard/sign-in")
    form.raise_for_status()
    csrf = re.search(r'name="csrf" value="([^"]*)"', form.text)
    assert csrf, "no CSRF field on the sign-in form"
    answer = client.post(
        "/dashboard/sign-in",
        data={"csrf": csrf.group(1), "email": email, "password": password, "next": "/dashboard"},
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])


def pages(api: httpx.Client) -> list[tuple[str, str, dict[str, str]]]:
    """(label, path, extra headers) of every section's page, with the demo day's data."""
    booking = api.get("/api/v1/reservations", params={"limit": 1, "status": "checked_in"})
    booking.raise_for_status()
    [one] = booking.json()["items"]
    htmx = {"hx-request": "true"}
    return [
        ("Today", "/dashboard/today", {}),
        ("Room rack", "/dashboard/rooms", {}),
        ("Reservations: by name (scanned here)", "/dashboard/reservations?name=carter", {}),
        ("Reservations: by status (API filter)", "/dashboard/reservations?status=confirmed", {}),
        ("One booking", f"/dashboard/reservations/{one['id']}", {}),
        ("Dispatch board", "/dashboard/dispatch", {}),
        ("Dispatch poll fragment", "/dashboard/dispatch/board", htmx),
        ("Guests", "/dashboard/guests", {}),
        ("Complaints", "/dashboard/complaints", {}),
        ("Analytics", "/dashboard/analytics", {}),
    ]


def measure(
    platform: Platform, client: httpx.Client, path: str, headers: dict[str, str], n: int
) -> tuple[list[float], list[int], float]:
    """Latencies (ms), API calls of `n` requests after WARM_UP, and the platform's CPU ms
    per request over them (steadier than latency on a shared machine)."""
    latencies: list[float] = []
    ids: list[str] = []
    cpu = 0.0
    for i in range(WARM_UP + n):
        if i == WARM_UP:
            cpu = platform.cpu_seconds()
        rid = uuid.uuid4().hex
        began = time.perf_counter()
        answer = client.get(path, headers={**headers, "x-request-id": rid})
        elapsed = (time.perf_counter() - began) * 1000
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
        if i >= WARM_UP:
            latencies.append(elapsed)
            ids.append(rid)
    cpu_ms = (platform.cpu_seconds() - cpu) * 1000 / n
    time.sleep(0.2)  # the reader thread catches up with the log
    return latencies, [platform.calls[rid] for rid in ids], cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        platform = Platform(Path(tmp) / "data")
        try:
            run(platform, args.requests)
        finally:
            platform.stop()


def run(platform: Platform, n: int) -> None:
    assert platform.credentials is not None
    email, password = platform.credentials
    seeded = platform.demo_day_seconds
    print(
        f"start-up to the banner: {platform.start_seconds:.1f} s"
        f" (the demo day's seeding {seeded if seeded is not None else '?'} s)"
    )
    rss_start = platform.rss_mb()
    with (
        httpx.Client(base_url=platform.url, timeout=60) as api,
        httpx.Client(base_url=platform.url, timeout=60, follow_redirects=False) as browser,
    ):
        token = api.post("/api/v1/auth/token", data={"username": email, "password": password})
        token.raise_for_status()
        api.headers["authorization"] = "Bearer " + token.json()["access_token"]
        sign_in(browser, email, password)
        print(
            f"{n} requests per page after {WARM_UP} of warm-up, one at a time, as the admin;"
            " gateway rate limits off (RATE_LIMIT_ENABLED=false)"
        )
        print(
            f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'API calls':>10} {'CPU ms':>7}"
        )
        for label, path, headers in pages(api):
            latencies, calls, cpu_ms = measure(platform, browser, path, headers, n)
            spread = f"{min(calls)}" if min(calls) == max(calls) else f"{min(calls)}-{max(calls)}"
            print(
                f"{label:40} {percentile(latencies, 0.50):8.1f} {percentile(latencies, 0.95):8.1f}"
                f" {max(latencies):8.1f} {spread:>10} {cpu_ms:7.1f}",
                flush=True,
            )
    print(f"RSS: {rss_start:.0f} MB after start-up, {platform.rss_mb():.0f} MB after the pages")


if __name__ == "__main__":
    main()
