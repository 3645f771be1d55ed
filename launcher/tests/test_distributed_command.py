"""Issue 16: each service runs under uvicorn with uvloop and httptools named, and without
uvicorn's access log (RequestIdMiddleware writes one line per request)."""

import subprocess
import sys

from launcher.distributed import uvicorn_command


def test_the_command_names_uvloop_httptools_and_no_access_log() -> None:
    command = uvicorn_command("reservation_service.main:create_app", 8001)
    joined = " ".join(command)
    assert "--loop uvloop" in joined
    assert "--http httptools" in joined
    assert "--no-access-log" in command


def test_uvloop_and_httptools_are_installed_for_the_command() -> None:
    # The command fails at start if either is missing: they must come with the environment.
    code = "import uvloop, httptools"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
