"""Root conftest: import the installed `gateway` package before pytest's importlib mode can
mistake the top-level `gateway/` folder for a namespace package of the same name."""

import gateway  # noqa: F401
