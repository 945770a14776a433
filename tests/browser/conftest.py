"""Browser tests: Debian's Chromium driven by Playwright against the app served on loopback.

Skipped, with a notice naming what to install, when /usr/bin/chromium or Playwright is
absent; ``.ci/run`` installs Chromium so CI always runs them.
"""

from __future__ import annotations

import os
import re
import shutil
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from oralhist.extensions import db
from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("OH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
]


def _skip_reason() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need Playwright (pip install '.[test]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason is None:
        return
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(marker)


def pytest_terminal_summary(terminalreporter):
    reason = _skip_reason()
    if reason:
        terminalreporter.write_line(f"NOTICE: browser tests skipped: {reason}", yellow=True)


class _ClosingHandler(WSGIRequestHandler):
    """Werkzeug's dev-server handler, made to close every response it started.

    When Chromium drops a media connection mid-response (it does, on every seek), Werkzeug
    3.1 drains the socket in a ``finally`` before closing the response iterator; that read
    raises ``ConnectionResetError`` and the iterator (an open recording) is never closed,
    leaking a file that pytest then reports as a ResourceWarning in some later test.
    gunicorn, which ``oralhist serve`` uses, closes it in its own ``finally``.
    """

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        finally:
            response = getattr(self, "environ", {}).get(_RESPONSE_KEY)
            if response is not None:
                response.close()


_RESPONSE_KEY = "tests.response"


class _CloseOnce:
    """A response iterable whose ``close`` runs once, whoever calls it first."""

    def __init__(self, iterable):
        self._iterable = iterable
        self._closed = False

    def __iter__(self):
        return iter(self._iterable)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()


def _tracking(app):
    def wsgi(environ, start_response):
        response = _CloseOnce(app(environ, start_response))
        environ[_RESPONSE_KEY] = response
        return response

    return wsgi


@pytest.fixture
def live_server(app):
    """The app served by a threaded WSGI server on a free loopback port."""
    app.config["SERVER_NAME"] = None
    server = make_server(
        "127.0.0.1", 0, _tracking(app), threaded=True, request_handler=_ClosingHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.session.remove()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser tab (own cookies); ``page.base`` is the server's address.

    Every request the page makes outside the live server is recorded in ``page.outside``
    (the archive must not fetch anything from elsewhere).
    """
    context = chromium.new_context()
    tab = context.new_page()
    tab.base = live_server
    tab.outside = []
    tab.on(
        "request",
        lambda r: (
            tab.outside.append(r.url)
            if not r.url.startswith((live_server, "data:", "blob:"))
            else None
        ),
    )
    tab.console_errors = []
    tab.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.console_errors.append(str(e)))
    yield tab
    context.close()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto(page.base + "/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert re.search("Signed in as", page.content()), page.content()[:400]
