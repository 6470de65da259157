"""Browser tests: Playwright (pytest-playwright's fixtures) driving Debian's Chromium.

No browser is ever downloaded (`playwright install` is never run): the launch arguments point
Playwright at the system Chromium, and every request that does not go to the live server is
blocked and fails the test, so a page that would load a CDN asset or call home is caught.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.helpers import DESKTOP

CHROMIUM = os.environ.get("CHROMIUM_EXECUTABLE", "/usr/lib/chromium/chromium")
# Chromium must not talk to anything but the live server (no updates, sync or field trials).
CHROMIUM_ARGS = [
    "--no-sandbox",  # the sandbox cannot run as root, which CI machines are
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]


def pytest_collection_modifyitems(config, items):
    """Run browser tests last: Playwright's sync API leaves an event loop running in the test
    thread for the rest of the session, which would trip later tests using asyncio."""
    browser, others = [], []
    for item in items:
        (browser if item.get_closest_marker("browser") else others).append(item)
    items[:] = others + browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package "
            "(scripts/test does it) or set CHROMIUM_EXECUTABLE."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        "viewport": DESKTOP,
    }


@pytest.fixture
def context(new_context, live_server):
    """A fresh browser context whose requests may only reach the live server, and in which a
    JavaScript error or a Content-Security-Policy violation fails the test."""
    context = new_context()
    context.set_default_timeout(10_000)
    outside: list[str] = []
    page_errors: list[str] = []

    def console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            page_errors.append(message.text)

    context.on("console", console)
    context.on("weberror", lambda error: page_errors.append(str(error.error)))

    def guard(route):
        url = route.request.url
        if url.startswith((live_server.url + "/", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    yield context
    assert not outside, f"the page tried to reach outside the server: {outside}"
    assert not page_errors, f"errors in the page: {page_errors}"
