"""`hotel-platform openapi` (make openapi): the release step writes the current document unless
it breaks the released one; a raised major version lets a breaking change through."""

import json
from pathlib import Path
from typing import Any

import pytest
from launcher.cli import main

from launcher import openapi


def document(version: str, *paths: str) -> dict[str, Any]:
    item = {"get": {"operationId": "x", "responses": {"200": {"description": "ok"}}}}
    return {"openapi": "3.1.0", "info": {"version": version}, "paths": dict.fromkeys(paths, item)}


@pytest.fixture
def current(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    doc: dict[str, Any] = {}

    async def built() -> dict[str, Any]:
        return json.loads(json.dumps(doc))

    monkeypatch.setattr(openapi, "current_document", built)
    return doc


def test_a_release_is_written_then_kept_until_it_would_break(
    current: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "openapi" / "released.json"
    current.update(document("1.0.0", "/api/v1/a", "/api/v1/b"))
    assert main(["openapi", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == current
    assert main(["openapi", "--out", str(out)]) == 0
    assert "1.0.0 is up to date" in capsys.readouterr().out

    current.update(document("1.1.0", "/api/v1/a"))  # b removed under a minor version
    assert main(["openapi", "--out", str(out), "--check"]) == 1
    assert main(["openapi", "--out", str(out)]) == 1
    said = capsys.readouterr().out
    assert "/api/v1/b: path removed" in said and "raise the major version" in said
    assert json.loads(out.read_text())["info"]["version"] == "1.0.0"  # left as it was

    current.update(document("2.0.0", "/api/v1/a"))
    assert main(["openapi", "--out", str(out), "--check"]) == 0
    assert json.loads(out.read_text())["info"]["version"] == "1.0.0"  # --check writes nothing
    assert main(["openapi", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == current
