"""A live server and a headless Chromium for browser tests.

Chromium comes from Debian's packages (`make test` installs it when
missing); Playwright drives it through ``executable_path``, so nothing is
downloaded at run time. Without Chromium the tests skip, except in CI.
"""
import os
import shutil
import threading
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "screenshots")


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser_page(live_server):
    """A page that records every host it contacts; the test fails on any outside host."""
    if not os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is None:
        if IN_CI:
            pytest.fail(f"Chromium is required in CI at {CHROMIUM}")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    os.makedirs(SCREENSHOTS, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900})
        page = context.new_page()
        outside = []
        page.on("request", lambda request: outside.append(request.url)
                if urlparse(request.url).hostname not in ("127.0.0.1", None) else None)
        page.base_url = live_server
        yield page
        context.close()
        browser.close()
    assert not outside, f"requests to hosts other than the app: {outside}"


def screenshot(page, name):
    page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)
