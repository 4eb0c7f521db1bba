"""Browser fixtures: the system Chromium driven by Playwright, with watchers.

Every page a test opens is watched: console errors, uncaught exceptions,
requests that fail and responses with an error status are collected, and the
tests assert the collection empty (a test that expects a 404 says so first).
Screenshots go under one folder whose path is printed at the start and the end
of the run, so a CI log names it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser_setup import find_chromium
from tests.deadlines import scaled_ms

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHOTS = ROOT / "test-artifacts" / "screenshots"
# No sandbox: the suite runs as root in containers. No GPU and no background
# networking: nothing outside the test's own server is ever contacted.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 20_000  # Playwright's default wait, scaled when a page opens


def screenshot_root() -> Path:
    return Path(os.environ.get("GAN_SCREENSHOT_DIR") or DEFAULT_SHOTS).resolve()


def _say(config, line: str) -> None:
    """Write to the terminal even while pytest captures output."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if getattr(config, "_gan_screenshots_used", False):
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"screenshots saved under {screenshot_root()}")


@dataclass
class PageWatch:
    """What went wrong in the pages of one browser context."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    expected: list[tuple[re.Pattern, int]] = field(default_factory=list)

    def expect_status(self, url_pattern: str, status: int) -> None:
        """Declare an error response the test provokes on purpose (a 404, a 410)."""
        self.expected.append((re.compile(url_pattern), status))

    def _is_expected(self, url: str, status: int | None = None) -> bool:
        return any(
            pattern.search(url) and (status is None or status == want)
            for pattern, want in self.expected
        )

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"{error}"))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        # Chromium logs every error response as "Failed to load resource"; the
        # response itself is judged in _on_response, against the expected list.
        if "Failed to load resource" in message.text and self._is_expected(url):
            return
        self.console_errors.append(f"{message.text} ({url})")

    def _on_request_failed(self, request) -> None:
        failure = request.failure or ""
        # A navigation cancels the page's pending loads (an image, a poll);
        # Chromium reports those as aborted, which is not a failure of the app.
        if "ERR_ABORTED" in failure:
            return
        self.failed_requests.append(f"{request.method} {request.url}: {failure}")

    def _on_response(self, response) -> None:
        if response.status >= 400 and not self._is_expected(
            response.url, response.status
        ):
            self.bad_responses.append(
                f"{response.status} {response.request.method} {response.url}"
            )

    def problems(self) -> list[str]:
        return [
            *(f"console: {line}" for line in self.console_errors),
            *(f"request failed: {line}" for line in self.failed_requests),
            *(f"error response: {line}" for line in self.bad_responses),
        ]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "the pages had problems:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        pytest.fail(
            "No Chromium for the browser tests: install one (Debian: "
            "`apt-get install -y chromium`, or run `python -m tests.browser_setup` "
            "as root) or set CHROMIUM_PATH. Browser tests are never skipped.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def browser(chromium_path, live_stack):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running on this thread, which
    # Django takes for async code and refuses the ORM the tests use. The flag
    # is set only in this process, only after the live stack has copied its
    # environment (daphne and the workers keep Django's guard), and only for
    # one module: Playwright stops with it, so later tests run as usual.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            try:
                launched = playwright.chromium.launch(
                    executable_path=chromium_path, args=CHROMIUM_ARGS
                )
            except Exception as exc:  # the message names the missing library
                pytest.fail(f"Chromium at {chromium_path} did not start: {exc}")
            yield launched
            launched.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@dataclass
class BrowserWindow:
    """A browser context (a private window) with its watcher."""

    context: object
    watch: PageWatch
    base_url: str

    def new_page(self):
        return self.context.new_page()


@pytest.fixture
def open_window(browser, live_stack):
    """Open private windows on the live stack; each is closed after the test."""
    windows = []

    def open_(**options) -> BrowserWindow:
        context = browser.new_context(
            base_url=live_stack.url, **{"viewport": VIEWPORT, **options}
        )
        context.set_default_timeout(scaled_ms(TIMEOUT_MS / 1000))
        watch = PageWatch()
        context.on("page", watch.attach)
        window = BrowserWindow(context=context, watch=watch, base_url=live_stack.url)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.context.close()


@pytest.fixture
def window(open_window) -> BrowserWindow:
    return open_window()


@pytest.fixture
def page(window):
    return window.new_page()


@pytest.fixture
def watch(window) -> PageWatch:
    return window.watch


@pytest.fixture
def shots(request):
    """shots(page, "name") saves a full-page PNG under this test's folder."""
    request.config._gan_screenshots_used = True
    root = screenshot_root()
    folder = root / request.node.name
    if folder.exists():
        for old in folder.glob("*.png"):
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    if not getattr(request.config, "_gan_screenshots_announced", False):
        request.config._gan_screenshots_announced = True
        _say(request.config, f"\nbrowser screenshots go to {root}")
    taken = []

    def shot(page, name: str) -> Path:
        path = folder / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    shot.folder = folder
    shot.taken = taken
    return shot
