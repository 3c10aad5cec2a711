"""Browser tests: Playwright driving Debian's Chromium against ``dosewise serve`` on a free
loopback port, on a temporary SQLite database (shared/notes/stack.md recipe 5).

The database holds the protocol's sites and arms, one user per role (tests/pg.py, password
``pg.PASSWORD``) and a cohort waiting for a DLT adjudication (seed.py). Nothing is downloaded:
``playwright install`` is never run; the browser is ``/usr/bin/chromium`` (or CHROMIUM_PATH).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from e2e_server import serve

from dosewise.store.session import open_database
from pg import PASSWORD, make_settings, populate

# The form values a site types are shared with the page tests (tests/web/web_forms.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from seed import waiting_cohort

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests ``e2e``, and skip them without Playwright or Chromium."""
    missing = None
    if not HAVE_PLAYWRIGHT:
        missing = "Playwright is not installed (pip install playwright pytest-playwright)"
    elif not os.path.exists(CHROMIUM):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if missing:
                item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def seeded() -> Iterator[dict[str, Any]]:
    """A migrated SQLite database with the test users and the waiting cohort."""
    root = Path(tempfile.mkdtemp(prefix="dosewise-e2e."))
    url = f"sqlite:///{root / 'e2e.db'}"
    populate(url)
    settings = make_settings(url)
    db = open_database(settings)
    try:
        cohort = waiting_cohort(db, settings, PASSWORD)
    finally:
        db.dispose()
    yield {"url": url, "cohort": cohort, "settings": settings}
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def live_server(seeded: dict[str, Any]) -> Iterator[str]:
    """``dosewise serve`` on 127.0.0.1 and a free port; its base URL."""
    with serve(seeded["url"]) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    return live_server


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    """Fail in seconds, not the default 30 s, when a page does not show what it should."""
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(15_000)
