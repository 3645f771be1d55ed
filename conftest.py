"""Root conftest: import the installed `gateway` and `launcher` packages before pytest's
importlib mode can mistake the top-level folders of those names for namespace packages."""

import gateway  # noqa: F401
import launcher  # noqa: F401
