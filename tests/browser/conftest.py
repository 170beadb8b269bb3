"""Browser test fixtures: Debian's Chromium driven by Playwright's sync API.

``browser_page`` is a fresh page (own cookies and storage) in a Chromium shared by the session.
Without /usr/bin/chromium the tests are skipped, unless LEADBASE_REQUIRE_COMPONENTS is set (CI),
where a missing browser is a failure. ``playwright install`` cannot download browsers here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("LEADBASE_REQUIRE_COMPONENTS"):
            pytest.fail(f"Chromium is required at {CHROMIUM}: apt-get install -y chromium")
        pytest.skip("Chromium not installed: apt-get install -y chromium")
    # Playwright's sync API keeps an event loop in this thread; Django would otherwise refuse
    # database calls made by the test itself between browser steps.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
