"""The API document integrators generate clients from, and its release (issue 21).

`hotel-platform openapi` (`make openapi`) builds the merged document exactly as the gateway
serves it at /openapi.json (every installed service, in process, nothing started), compares
it with the released one (openapi/released.json) and writes it there, refusing a breaking
change unless the major of gateway.openapi.API_VERSION was raised. `--check` only compares.
"""

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from gateway.compat import check, version
from gateway.config import Settings

RELEASED = Path("openapi/released.json")


async def current_document() -> dict[str, Any]:
    """The merged document of this checkout. The services' apps are built (their routes
    document themselves) but not started: no database is opened and no port taken."""
    from launcher.embedded import create_embedded_app

    with tempfile.TemporaryDirectory(prefix="hotel-openapi-") as data:
        # Servers "/": the document is the same wherever it is released from.
        app = create_embedded_app(Path(data), settings=Settings(public_urls=["/"]))
        doc: dict[str, Any] = await app.state.openapi.document()
    missing = doc.get("x-missing-services")
    if missing:
        raise RuntimeError(f"services without a document: {missing}")
    return doc


def render(doc: dict[str, Any]) -> str:
    """The released form: indented, keys in the document's order, one trailing newline (a
    release's diff reads line by line)."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def release(path: Path = RELEASED, *, check_only: bool = False) -> int:
    """Write the current document to `path` unless it breaks the one there; 1 if it does."""
    current = asyncio.run(current_document())
    released = json.loads(path.read_text()) if path.exists() else None
    if released is not None:
        refused = check(released, current)
        if refused:
            print(f"{path}: the current document breaks the released one:")
            print("\n".join(f"  {line}" for line in refused))
            return 1
    label = ".".join(map(str, version(current) or ())) or "?"
    if released is not None and render(released) == render(current):
        print(f"{path}: {label} is up to date")
        return 0
    if check_only:
        print(f"{path}: compatible; `make openapi` releases it as {label}")
        return 0
    if released is not None and version(released) == version(current):
        print(f"note: released again as {label}; additions usually raise the minor version")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(current))
    print(f"{path}: released {label} ({len(current.get('paths') or {})} paths)")
    return 0
