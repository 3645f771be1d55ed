"""The browser tests' fixtures (tests/browser_kit.py): the platform, Chromium, a page."""

from browser_kit import (
    browser,
    demo_page,
    demo_platform,
    own_platform,
    page,
    platform,
    playwright_instance,
)

__all__ = [
    "browser",
    "demo_page",
    "demo_platform",
    "own_platform",
    "page",
    "platform",
    "playwright_instance",
]
