"""Browser tests: a real Chromium driven by Playwright against the local stack's HTTP API.

Chromium comes from ``CHROMIUM`` (``make test`` sets it through ``.ci/ensure-chromium``), else the
PATH, else Playwright's own download. Without one every test here FAILS with the way to get one:
browser tests are never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NO_CHROMIUM = ("No Chromium for the browser tests. Run `.ci/ensure-chromium` (make test does), install Debian's "
               "`chromium`, run `.venv/bin/python -m playwright install chromium`, or set CHROMIUM=/path/to/chromium.")


def chromium_executable(playwright: Any) -> str:
    configured = os.environ.get("CHROMIUM")
    if configured:
        if not (Path(configured).is_file() and os.access(configured, os.X_OK)):
            pytest.fail(f"CHROMIUM={configured} is not an executable file. {NO_CHROMIUM}", pytrace=False)
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    bundled = playwright.chromium.executable_path
    if bundled and Path(bundled).is_file():
        return str(bundled)
    pytest.fail(NO_CHROMIUM, pytrace=False)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    chromium = playwright.chromium.launch(executable_path=chromium_executable(playwright), args=CHROMIUM_ARGS,
                                          headless=True)
    yield chromium
    chromium.close()


class RecordedPage:
    """A page with every request it made (URL, method, post data), to check what left the browser."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: list[dict[str, Any]] = []
        page.on("request", self._record)

    def _record(self, request: Any) -> None:
        try:
            frame_url = request.frame.url
        except Exception:  # a request without a frame (none expected here)
            frame_url = ""
        self.requests.append({"url": request.url, "method": request.method, "post_data": request.post_data,
                              "headers": request.headers, "from": frame_url})


@pytest.fixture
def recorded(browser: Any) -> Iterator[RecordedPage]:
    context = browser.new_context(viewport={"width": 1000, "height": 620}, locale="en-GB")
    context.set_default_timeout(15_000)
    # No network beyond this machine: the stack and the IdP are on loopback (the IdP's own form asks a
    # CDN for its style sheet; our pages ask nothing of anyone, which the tests check).
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]|localhost[:/])"), lambda route: route.abort())
    page = context.new_page()
    yield RecordedPage(page)
    context.close()


@pytest.fixture
def page(recorded: RecordedPage) -> Any:
    return recorded.page
