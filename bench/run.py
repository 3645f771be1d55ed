"""`make bench`: every benchmark, with bounded loads on loopback; each prints its figures.
Together ~16 minutes on a 2-core machine (~13 by its parts' last measures before issue 21, the
issue-19 guest benches ~3.5 of them; issue 21's partners.py adds up to 3, issue 22's dashboard.py
about 1: docs/performance.md);
`make load` and `make soak` are apart."""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = [
    [str(HERE / "gateway_proxy.py"), "--requests", "2000", "--concurrency", "16", "--rounds", "3"],
    [str(HERE / "gateway_auth.py"), "--duration", "5", "--rounds", "3"],
    [str(HERE / "distributed.py"), "--bookings", "400", "--concurrency", "16"],
    [str(HERE / "journey.py"), "--bookings", "300", "--concurrency", "16"],
    [str(HERE / "dashboard.py"), "--requests", "30"],
    [str(HERE / "notices.py"), "--notices", "1000", "--renders", "2000"],
    [str(HERE / "partners.py"), "--rate", "50", "--seconds", "30"],
    [str(HERE / "floor.py"), "--seconds", "10"],
    [str(HERE / "transfers_day.py"), "sqlite", "--requests", "500"],
    [str(HERE / "transfers_day.py"), "postgresql", "--requests", "500"],
    [str(HERE / "guest_matching.py"), "sqlite", "--profiles", "100000", "--bookings", "10000"],
    [str(HERE / "guest_matching.py"), "postgresql", "--profiles", "100000", "--bookings", "10000"],
    [str(HERE / "guest_rfm.py"), "sqlite", "--guests", "100000"],
    [str(HERE / "guest_rfm.py"), "postgresql", "--guests", "100000"],
]

if __name__ == "__main__":
    began = time.monotonic()
    failed = 0
    for command in BENCHMARKS:
        print(f"\n$ {Path(command[0]).name} {' '.join(command[1:])}", flush=True)
        failed |= subprocess.call([sys.executable, *command])
    print(f"\nmake bench took {(time.monotonic() - began) / 60:.1f} min")
    sys.exit(failed)
