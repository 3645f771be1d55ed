"""The dashboard in a real browser: the machine's Chromium (Debian's package, installed by
`make browser`, never downloaded at test time) driven by Playwright against the platform as
`make run` starts it (embedded mode, demo data seeded; the demo day only for `demo_platform`),
one per test worker (`own_platform`: one per file).

Tests arrange what they need through the public API (`platform.api`, as the demo admin),
act in the browser as a staff member of the roles they name (`sign_in(page, "front_desk")`),
and assert on what the page shows. Every test leaves a screenshot of its last page in
test-artifacts/dashboard/ (kept by CI as the run's artefacts).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time as clock
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
CREDENTIALS = re.compile(r"demo admin:\s+(\S+) / (\S+)")
START_SECONDS = 120
PASSWORD = "dashboard-test-password-1"
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo hotel's time zone


def chromium_path() -> str:
    """The machine's Chromium; a missing one fails the run (`make browser` installs it)."""
    found = os.environ.get("HOTEL_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("no Chromium on this machine: run `make browser` (Debian's chromium package)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningPlatform:
    """`hotel-platform run` in a child process, and an API client signed in as its demo admin."""

    url: str
    admin_email: str
    admin_password: str
    api: httpx.Client
    users: dict[str, str] = field(default_factory=dict)  # roles key -> email

    def staff(self, *roles: str, properties: list[int] | None = None) -> str:
        """A staff account holding `roles` (made once per platform); its email. All share
        PASSWORD."""
        key = ",".join(sorted(roles)) + (f"@{properties}" if properties is not None else "")
        if key not in self.users:
            email = f"{'-'.join(sorted(roles))}.{uuid.uuid4().hex[:8]}@example.com"
            body: dict[str, Any] = {
                "email": email,
                "name": " ".join(r.replace("_", " ").title() for r in roles),
                "password": PASSWORD,
                "roles": list(roles),
            }
            if properties is not None:
                body["properties"] = properties
            answer = self.api.post("/api/v1/staff-users", json=body)
            assert answer.status_code == 201, answer.text
            self.users[key] = email
        return self.users[key]

    def free_room_type(self, check_in: date, nights: int) -> str:
        """A room type free on every night of the stay, King rooms first: the tests of one
        worker share a platform, and a day has only seven King rooms."""
        answer = self.api.get(
            "/api/v1/availability",
            params={
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=nights)).isoformat(),
            },
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        rows = body.get("room_types", body) if isinstance(body, dict) else body
        free = {row["room_type_code"]: int(row["available"]) for row in rows}
        order = ["KNG", *sorted(free, key=lambda code: -free[code])]
        return next(code for code in order if free.get(code, 0) > 0)

    def book(
        self,
        name: str,
        *,
        arrival: date | None = None,
        nights: int = 2,
        room_type: str | None = None,
        pickup_in: timedelta | None = None,
        confirm: bool = True,
    ) -> dict[str, Any]:
        """A booking made through the API as the front desk would, with an airport pickup
        `pickup_in` from now if given; its JSON after confirming (unless `confirm=False`).
        It arrives on `arrival`, else the hotel's today (the pickup's day, with a pickup: one
        asked for at 23:30 lands tomorrow)."""
        now = datetime.now(SHANGHAI)
        landing = now + pickup_in if pickup_in is not None else None
        check_in = arrival or (landing or now).date()
        slug = re.sub(r"[^a-z]+", ".", name.lower()).strip(".") or "guest"
        body: dict[str, Any] = {
            "guest": {"name": name, "email": f"{slug}.{uuid.uuid4().hex[:6]}@example.com"},
            "room_type_code": room_type or self.free_room_type(check_in, nights),
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=nights)).isoformat(),
            "guests": 1,
        }
        if landing is not None:
            body["transfer"] = {
                "flight_number": "MU5101",
                "arrival_time": landing.isoformat(timespec="minutes"),
                "pickup_place": "Shanghai Pudong International Airport T1",
                "passengers": 1,
                "luggage": 1,
            }
        created = self.api.post(
            "/api/v1/reservations", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert created.status_code == 201, created.text
        booking: dict[str, Any] = created.json()
        if confirm:
            confirmed = self.api.post(f"/api/v1/reservations/{booking['id']}/confirm")
            assert confirmed.status_code == 200, confirmed.text
            booking = confirmed.json()
        return booking


def wait_for(what: str, check: Any, seconds: float = 20) -> Any:
    """`check()`'s first truthy answer, asked every 0.3 s (events travel between services)."""
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if found := check():
            return found
        clock.sleep(0.3)
    raise AssertionError(f"waited {seconds} s for {what}")


def pickup_of(platform: RunningPlatform, booking: dict[str, Any]) -> dict[str, Any]:
    """The booking's pickup job (made by transfer-service from the booking's event)."""

    def found() -> dict[str, Any] | None:
        answer = platform.api.get("/api/v1/transfers", params={"reservation_id": booking["id"]})
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        return items[0] if items else None

    job: dict[str, Any] = wait_for("the pickup job", found)
    return job


def spare_crew(platform: RunningPlatform) -> tuple[dict[str, Any], dict[str, Any]]:
    """A vehicle and a driver of the test's own; the driver works a dated shift from now."""
    tag = uuid.uuid4().hex[:6].upper()
    vehicle = platform.api.post(
        "/api/v1/vehicles",
        json={
            "plate": f"沪T·{tag}",
            "description": f"Test sedan {tag}",
            "vehicle_class": "sedan",
            "seats": 3,
            "luggage_capacity": 2,
        },
    )
    assert vehicle.status_code == 201, vehicle.text
    driver = platform.api.post(
        "/api/v1/drivers",
        json={
            "name": f"Driver {tag}",
            "phone": f"+86139{uuid.uuid4().int % 10**8:08d}",
            "licence_number": f"TEST-{tag}",
            "licence_expires_on": (date.today() + timedelta(days=900)).isoformat(),
            "languages": ["zh-Hans", "en"],
        },
    )
    assert driver.status_code == 201, driver.text
    now = datetime.now(UTC)
    shift = platform.api.post(
        f"/api/v1/drivers/{driver.json()['id']}/shifts",
        json={
            "starts_at": (now + timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=20)).isoformat(),
        },
    )
    assert shift.status_code == 201, shift.text
    return vehicle.json(), driver.json()


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


def _start(data_dir: Path, demo_day: bool) -> tuple[subprocess.Popen[str], str, str, str]:
    port = free_port()
    flags = [] if demo_day else ["--no-demo-day"]
    log = (data_dir.parent / "platform.log").open("w")
    child = subprocess.Popen(
        [
            *(sys.executable, "-m", "launcher", "run", *flags),
            *("--port", str(port), "--data-dir", str(data_dir)),
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    deadline = clock.monotonic() + START_SECONDS
    printed = ""
    while clock.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            if child.poll() is not None:
                break
            continue
        printed += line
        if found := CREDENTIALS.search(line):
            # Keep reading its stdout (the request log): a full pipe would block every request.
            threading.Thread(target=_drain, args=(child.stdout,), daemon=True).start()
            return child, f"http://127.0.0.1:{port}", found.group(1), found.group(2)
    child.kill()
    pytest.fail(f"the platform did not start:\n{printed}\n(see {data_dir.parent}/platform.log)")


def _platform(
    tmp_path_factory: pytest.TempPathFactory, demo_day: bool
) -> Iterator[RunningPlatform]:
    base = tmp_path_factory.mktemp("dashboard")
    child, url, email, password = _start(base / "data", demo_day)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            token = client.post(
                "/api/v1/auth/token", data={"username": email, "password": password}
            )
            assert token.status_code == 200, token.text
            client.headers["authorization"] = "Bearer " + token.json()["access_token"]
            yield RunningPlatform(url, email, password, client)
    finally:
        child.terminate()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """The platform without the demo day, one per test worker (a start costs ~10 s): tests
    make their own data and never assume they are alone on it."""
    yield from _platform(tmp_path_factory, demo_day=False)


@pytest.fixture(scope="module")
def own_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """A platform for one test file alone: for tests whose cars and drivers must not be
    taken by pickups other files left without a crew (the dispatch board's)."""
    yield from _platform(tmp_path_factory, demo_day=False)


@pytest.fixture(scope="module")
def demo_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """The platform exactly as `make run` starts it, the demo day seeded."""
    yield from _platform(tmp_path_factory, demo_day=True)


# Per test file, not per session: Playwright's sync API keeps its event loop marked running in
# the main thread while it is open, and an async test run later by the same worker would fail
# ("cannot be called from a running event loop").
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    launched = playwright_instance.chromium.launch(
        executable_path=chromium_path(), args=["--no-sandbox"]
    )
    yield launched
    launched.close()


def _page(browser: Browser, platform: RunningPlatform, name: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=platform.url, viewport={"width": 1180, "height": 820}, locale="en-GB"
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()


def _name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)


@pytest.fixture
def page(
    browser: Browser, platform: RunningPlatform, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser context (no cookies) on `platform` at a tablet's size, English unless
    the test switches; its last screen is saved as test-artifacts/dashboard/<test>.png."""
    yield from _page(browser, platform, _name(request))


@pytest.fixture
def demo_page(
    browser: Browser, demo_platform: RunningPlatform, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """The same on `demo_platform` (the demo day seeded)."""
    yield from _page(browser, demo_platform, _name(request))


def sign_in(page: Page, platform: RunningPlatform, *roles: str) -> str:
    """Sign in through the form as a staff member of `roles`; their email."""
    email = platform.staff(*roles)
    page.goto("/dashboard/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard/(?!sign-in)"))
    return email
