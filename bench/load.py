"""The load client: aiohttp on uvloop, in a process of its own so that its CPU is counted
apart from the servers'. The benchmarks run it as

    .venv/bin/python bench/load.py '<Spec as JSON>'

and read one JSON `Result` from its stdout. A closed loop (`rate` 0) keeps `concurrency`
clients each sending its next operation when the last one answered, `count` operations in all
(or for `duration` seconds); an open loop sends `rate` operations per second on a fixed
schedule whatever the answers (latency counts from the scheduled instant).

Operations (`ops`, weights): `book` (create with a pickup, then confirm: one booking),
`cancel` (a booking this client confirmed), `get:<path>` (one GET), `post:<path>` (one POST),
`guest` and `transfer` (reads of a booking this client made).
"""

import asyncio
import itertools
import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOM_TYPES = ["STD", "KNG", "BUS", "DLX", "STE"]


@dataclass
class Spec:
    base_url: str
    ops: dict[str, float]  # operation -> weight
    concurrency: int = 16
    count: int = 0  # closed loop: this many operations (0: until `duration`)
    duration: float = 0.0
    rate: float = 0.0  # > 0: open loop at this many operations per second
    headers: dict[str, str] = field(default_factory=dict)
    first: int = 0  # number of the first booking (dates, e-mail addresses)
    tag: str = "load"  # in the guests' e-mail addresses: <tag><n>@bench.example
    seed: int = 1
    timeout: float = 60.0  # seconds an operation may take before it counts as an error


@dataclass
class Result:
    latencies: dict[str, list[float]]  # operation -> seconds, answered ones
    errors: dict[str, int]  # "<operation> <status or exception>" -> count
    started: float  # time.time()
    ended: float
    cpu_seconds: float  # this process's
    confirmed: list[tuple[str, float]]  # (e-mail, time.time() the confirmation answered)


def stay_offset(n: int) -> int:
    """Days from today to booking n's check-in: two-night stays of one room type (n % 5) back
    to back over 500 days."""
    return 40 + 2 * ((n // 5) % 250)


def booking_body(n: int, email: str) -> dict[str, Any]:
    """A two-night stay with an airport pickup; dates, room types and arrival hours spread so
    that rooms and drivers do not run out: bookings of one room type do not overlap, nor
    their pickups, until 1250 bookings have been made (the demo hotel has at least three rooms
    of each type), and every check-in is within the booking horizon (550 days)."""
    check_in = date.today() + timedelta(days=stay_offset(n))
    # The five room types of one check-in date land 3 h apart: one driver takes them all
    # (a pickup holds a driver from 30 min before the landing to 75 min after).
    arrival = datetime.combine(check_in, clock(8 + 3 * (n % 5), (n // 5) % 60), SHANGHAI)
    return {
        "guest": {"name": f"Guest {n}", "email": email, "language": "en"},
        "room_type_code": ROOM_TYPES[n % 5],
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=2)).isoformat(),
        "guests": 1,
        "transfer": {
            "flight_number": "MU5101",
            "arrival_time": arrival.isoformat(),
            "pickup_place": "Shanghai Pudong International Airport T1",
            "passengers": 1,
            "luggage": 1,
        },
    }


class Failed(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Client:
    def __init__(self, spec: Spec, session: aiohttp.ClientSession) -> None:
        self.spec = spec
        self.session = session
        self.numbers = itertools.count(spec.first)
        self.mine: list[tuple[str, str]] = []  # (reservation id, e-mail) confirmed
        self.result = Result({}, {}, 0.0, 0.0, 0.0, [])
        self.random = random.Random(spec.seed)

    async def call(self, method: str, path: str, ok: int = 200, body: Any = None) -> Any:
        async with self.session.request(method, self.spec.base_url + path, json=body) as answer:
            data = await answer.read()
            if answer.status != ok:
                raise Failed(f"{answer.status}")
            return json.loads(data) if data else None

    async def book(self) -> None:
        n = next(self.numbers)
        email = f"{self.spec.tag}{n}@bench.example"
        created = await self.call("POST", "/api/v1/reservations", 201, booking_body(n, email))
        await self.call("POST", f"/api/v1/reservations/{created['id']}/confirm")
        self.result.confirmed.append((email, time.time()))
        self.mine.append((created["id"], email))

    async def run(self, op: str) -> None:
        if op == "book":
            await self.book()
        elif op.startswith(("get:", "post:")):
            method, _, path = op.partition(":")
            await self.call(method.upper(), path)
        elif not self.mine:  # nothing booked yet to read or cancel: book instead
            await self.book()
        elif op == "cancel":
            rid, _ = self.mine.pop(self.random.randrange(len(self.mine)))
            await self.call("POST", f"/api/v1/reservations/{rid}/cancel")
        elif op == "guest":
            _, email = self.random.choice(self.mine)
            await self.call("GET", f"/api/v1/guests?email={email}")
        elif op == "transfer":
            rid, _ = self.random.choice(self.mine)
            await self.call("GET", f"/api/v1/transfers?reservation_id={rid}")
        else:
            raise ValueError(f"unknown operation {op!r}")

    async def timed(self, op: str, since: float | None = None) -> None:
        started = time.perf_counter() if since is None else since
        try:
            await self.run(op)
        except (Failed, aiohttp.ClientError, TimeoutError) as exc:
            what = exc.what if isinstance(exc, Failed) else type(exc).__name__
            key = f"{op} {what}"
            self.result.errors[key] = self.result.errors.get(key, 0) + 1
            return
        self.result.latencies.setdefault(op, []).append(time.perf_counter() - started)

    def pick(self) -> str:
        ops, weights = zip(*self.spec.ops.items(), strict=True)
        return self.random.choices(ops, weights)[0]

    async def closed(self) -> None:
        spec = self.spec
        left = itertools.count() if spec.count == 0 else iter(range(spec.count))
        stop = time.perf_counter() + spec.duration if spec.duration else float("inf")

        async def one_client() -> None:
            for _ in left:
                if time.perf_counter() >= stop:
                    return
                await self.timed(self.pick())

        await asyncio.gather(*(one_client() for _ in range(spec.concurrency)))

    async def open(self) -> None:
        from stats import schedule  # bench/ is this script's directory: on sys.path

        start = time.perf_counter()
        tasks = set()
        for due in schedule(self.spec.rate, self.spec.duration, start):
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            task = asyncio.create_task(self.timed(self.pick(), since=due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)


async def drive(spec: Spec) -> Result:
    connector = aiohttp.TCPConnector(limit=spec.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=spec.timeout)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=spec.headers
    ) as session:
        client = Client(spec, session)
        cpu = time.process_time()
        client.result.started = time.time()
        await (client.open() if spec.rate > 0 else client.closed())
        client.result.ended = time.time()
        client.result.cpu_seconds = time.process_time() - cpu
        return client.result


def main() -> None:
    spec = Spec(**json.loads(sys.argv[1]))
    try:
        import uvloop

        result = uvloop.run(drive(spec))
    except ImportError:
        result = asyncio.run(drive(spec))
    json.dump(asdict(result), sys.stdout)


if __name__ == "__main__":
    main()
