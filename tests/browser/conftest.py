"""Browser fixtures: the combined app served on 127.0.0.1, and headless Chromium through
Playwright (Debian's /usr/bin/chromium; ``playwright install`` is never needed).

Every page opened through ``pages`` records console errors (CSP violations show up there),
uncaught page errors and failed requests; ``pages.assert_clean()`` fails the test on any.
"""
import os
import socket
import threading
from pathlib import Path

import pytest

from tests.conftest import require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
LOCALES = {"zh": "zh-CN", "en": "en-US"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(settings, db):
    """``wsgi.create_app(settings)`` served on a free 127.0.0.1 port; yields the base URL."""
    from werkzeug.serving import make_server

    import wsgi

    app = wsgi.create_app(settings)
    server, last_error = None, None
    for _ in range(20):
        try:
            port = _free_port()
            server = make_server("127.0.0.1", port, app, threaded=True)
            break
        except OSError as exc:  # taken between the probe and the bind: try another
            last_error = exc
    if server is None:
        raise RuntimeError(f"no free port on 127.0.0.1: {last_error}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"live-server-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; skips (or fails under CC_REQUIRE_ALL=1)
    when it is not installed or does not start."""
    require(os.path.exists(CHROMIUM), f"Chromium not available at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        require(False, f"playwright is not installed: {exc}")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
    except Exception as exc:
        playwright.stop()
        require(False, f"Chromium at {CHROMIUM} did not start: {exc}")
    yield chromium
    chromium.close()
    playwright.stop()


class Pages:
    """Opens pages, each in a fresh browser context, and records what went wrong on them."""

    def __init__(self, browser):
        self.browser = browser
        self.contexts = []
        self.problems = []

    def new_context(self, lang="en", phone=False, **options):
        """A fresh context (own cookies) whose Accept-Language asks for ``lang``."""
        kwargs = dict(PHONE if phone else DESKTOP)
        kwargs.update(locale=LOCALES[lang], **options)
        context = self.browser.new_context(**kwargs)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context

    def watch(self, page):
        """Record console errors, uncaught exceptions and failed requests of ``page``."""
        def on_console(message):
            if message.type == "error":
                self.problems.append(f"console error on {page.url}: {message.text} "
                                     f"({message.location})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(
            f"page error on {page.url}: {exc}"))
        def on_failed(request):
            # ERR_ABORTED: the page navigated away while a subresource (the favicon) was
            # still loading. A cancellation, not a failure.
            if "ERR_ABORTED" not in (request.failure or ""):
                self.problems.append(
                    f"request failed: {request.method} {request.url}: {request.failure}")

        page.on("requestfailed", on_failed)
        return page

    def new_page(self, lang="en", phone=False, context=None, **options):
        context = context or self.new_context(lang, phone, **options)
        return self.watch(context.new_page())

    def assert_clean(self, expected_status=None):
        """No problems; ``expected_status`` (e.g. 410) is a page the test meant to get, whose
        status Chromium reports as a console error."""
        problems, self.problems = self.problems, []
        if expected_status:
            marker = f"responded with a status of {expected_status}"
            problems = [p for p in problems if marker not in p]
        assert not problems, "browser problems:\n" + "\n".join(problems)

    def close(self):
        for context in self.contexts:
            context.close()
        self.contexts = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.cc_call_failed = report.failed
    return report


@pytest.fixture
def pages(request, browser, live_server):
    """Page factory; depends on live_server so contexts close before the server stops.
    Problems recorded after the test's own ``assert_clean()`` fail it at teardown."""
    opened = Pages(browser)
    yield opened
    opened.close()
    if not getattr(request.node, "cc_call_failed", True):
        opened.assert_clean()
