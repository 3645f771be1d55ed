"""The verification code docs/partners.md gives partners, run as written against a real,
signed delivery: Python always, Node.js when `node` is installed."""

import asyncio
import base64
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hotel_common.testing import eventually

from .webhook_support import Received, platform, receiving

DOC = Path(__file__).parents[2] / "docs" / "partners.md"


def _block(language: str) -> str:
    section = DOC.read_text().split("## Verifying a webhook", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found, f"no {language} block under 'Verifying a webhook'"
    return found.group(1)


async def _delivery(tmp_path: Path) -> tuple[str, Received]:
    async with platform(tmp_path) as p, receiving() as receiver:
        made = await p.subscribe(receiver.url)
        await p.append()
        [got] = await eventually(lambda: receiver.accepted)
        return made["secret"], got


async def test_the_documented_python_verifies_a_delivery(tmp_path: Path) -> None:
    secret, got = await _delivery(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(_block("python"), str(DOC), "exec"), namespace)
    verify_webhook = namespace["verify_webhook"]
    assert verify_webhook(secret, got.headers, got.body)
    assert not verify_webhook(secret, got.headers, got.body.replace(b"}", b" }", 1))
    assert not verify_webhook("whsec_" + "B" * 44, got.headers, got.body)
    stale = {**got.headers, "webhook-timestamp": str(int(got.headers["webhook-timestamp"]) - 600)}
    assert not verify_webhook(secret, stale, got.body)


async def test_the_documented_node_verifies_a_delivery(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    secret, got = await _delivery(tmp_path)
    cases = [(secret, got.body), ("whsec_" + "B" * 44, got.body), (secret, got.body + b" ")]
    script = _block("javascript") + (
        "const cases = JSON.parse(process.argv[2]);\n"
        "console.log(JSON.stringify(cases.map(([s, h, b]) =>"
        " verifyWebhook(s, h, Buffer.from(b, 'base64')))));\n"
    )
    argument = json.dumps([[s, got.headers, base64.b64encode(b).decode()] for s, b in cases])
    path = tmp_path / "verify.js"
    path.write_text(script)
    child = await asyncio.create_subprocess_exec(
        node, str(path), argument, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=30)
    assert child.returncode == 0, err.decode()
    assert json.loads(out) == [True, False, False]
