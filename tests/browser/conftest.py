"""Browser tests: the app served on 127.0.0.1 by a real server thread, driven by Chromium.

One Chromium for the whole run (``browser``); each test gets the app of the main conftest
(a SQLite file, emptied before the test), served by a werkzeug server thread on a free port
(``live_server``), and a fresh browser context (``page``). Data made with the factories is
committed before the page is opened, so the server thread sees it.

SQLite begins every transaction IMMEDIATE (``tracker.extensions``), so the server thread cannot
write while the test thread holds a transaction: the test's session keeps its objects loaded
after a commit (``expire_on_commit`` off), the helpers commit before they browse, and a test
that reads the database in the middle of a journey ends with ``db.session.commit()`` before
it browses on.

The tests skip, with the reason shown, when Playwright or Chromium is missing, unless
``REQUIRE_BROWSER=1`` (set by ``.ci/run``), where a missing browser fails the run. They run on
the SQLite pass only: the PostgreSQL pass skips them (the pages are the same; the journeys
would only cost CI time twice).

Helpers for journey tests (import them from ``tests.browser.helpers``): ``check_a11y(page)``,
``check_keyboard(page)``, ``check_phone_width(page)``, ``screenshot(page, name)``,
``sign_in(page, user)``.
"""
import os
import threading
from pathlib import Path

import pytest

BACKEND = os.environ.get("TRACKER_TEST_DB", "sqlite")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


def _unavailable(reason):
    if REQUIRE_BROWSER:
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session", autouse=True)
def _sqlite_pass_only():
    if BACKEND != "sqlite":
        pytest.skip("browser tests run on the SQLite pass only (TRACKER_TEST_DB="
                    f"{BACKEND}); the pages do not depend on the database backend")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                          headless=True)
    except Error as error:
        manager.stop()
        _unavailable(f"Chromium at {CHROMIUM} did not start: {error}")
    yield browser
    browser.close()
    manager.stop()


@pytest.fixture
def live_server(app):
    """The app served by a werkzeug server thread on 127.0.0.1; yields its base URL.

    CSRF protection is switched back on: the browser submits the real forms.
    """
    from werkzeug.serving import make_server

    from tracker.extensions import db

    app.config["WTF_CSRF_ENABLED"] = True
    db.session().expire_on_commit = False  # reading test data must not lock the database
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(width=1280)``: a page in a fresh context (no cookies) at that width."""
    contexts = []

    def make(width=1280, height=800, locale="en-GB"):
        context = browser.new_context(base_url=live_server, viewport={"width": width,
                                                                      "height": height},
                                      locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
