"""`--profile <process>`: py-spy records one process while a benchmark's load runs and writes
a speedscope (or flamegraph SVG) file under bench/out/, which git ignores. py-spy comes with
the dev dependencies (`make install`); it needs ptrace rights over the process (root, or
kernel.yama.ptrace_scope 0 for a child of the same user)."""

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


class Profiler:
    def __init__(self, pid: int, name: str, fmt: str = "speedscope") -> None:
        OUT.mkdir(exist_ok=True)
        suffix = "svg" if fmt == "flamegraph" else "json"
        self.path = OUT / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}.{suffix}"
        exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        self.process = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "200",
                "--format",
                fmt,
                "--output",
                str(self.path),
                "--subprocesses",
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> Path:
        """Stop recording (py-spy writes its file on SIGINT)."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return self.path
