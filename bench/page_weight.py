"""Page weight on a slow link: Chromium (Playwright, /usr/bin/chromium) with CDP network
emulation at 750 kbit/s down, 250 kbit/s up and 100 ms round trip, signed in as the
Secretary, after a scan has raised its flags (the data as production has it).

For the home page, the dashboard, a department page, the overdue list and a meeting page:
bytes over the wire (every response of the page, headers included, as Chromium counts them:
``encodedDataLength``) and the time to ``load``, on a first visit (cache off) and a repeat
visit (cache on, the first visit's files cached). For the dashboard also: when its summary
("At a glance", an ``elementtiming`` mark) was painted and when every chart was drawn.

Figures, never timed tests: ``make bench`` runs it on the generated data of each scale
(registered in bench.benchmarks); ``python -m bench.page_weight`` runs it on the demo data
(a fresh SQLite file: ``db upgrade``, ``seed-demo``, then a committed scan).

Targets (issue 18): dashboard first visit at most 700 KB, its summary within 3 s, every chart
within 10 s; a repeat visit of any page at most 60 KB and 1.5 s; every page other than the
dashboard at most 80 KB on a first visit.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.harness import Figure

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DOWN_KBIT, UP_KBIT, RTT_MS = 750, 250, 100

_OBSERVE = """
window.__marks = {};
try {
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) { window.__marks[e.identifier] = e.renderTime || e.loadTime; });
  }).observe({type: "element", buffered: true});
} catch (e) {}
"""


class Server:
    """The app served over HTTP by werkzeug in a thread (threaded, like gunicorn's threads)."""

    def __init__(self, app):
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


def _visit(page, cdp, url, charts=False):
    """Load ``url``; return (bytes, seconds to load, extra marks)."""
    received = {}

    def finished(event):
        received[event["requestId"]] = event.get("encodedDataLength", 0)

    cdp.on("Network.loadingFinished", finished)
    page.goto(url, wait_until="load", timeout=120_000)
    load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
    marks = {}
    if charts:
        page.wait_for_function(
            "document.querySelectorAll('[data-figure]').length === "
            "document.querySelectorAll('[data-ready=true]').length", timeout=120_000)
        marks["charts_drawn_s"] = page.evaluate("performance.now()") / 1000
        summary = page.evaluate("window.__marks && window.__marks.summary")
        if summary:
            marks["summary_visible_s"] = summary / 1000
    page.wait_for_timeout(300)  # late responses (favicon, chart data) counted too
    cdp.remove_listener("Network.loadingFinished", finished)
    return sum(received.values()), load, marks


def measure(base_url, email, password, pages):
    """``pages``: {name: path}. Figures per page: first and repeat visit, bytes and load."""
    from playwright.sync_api import sync_playwright

    figures = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.add_init_script(_OBSERVE)
            page = context.new_page()
            page.goto(base_url + "/sign-in")
            page.fill("#email", email)
            page.fill("#password", password)
            page.click("main button[type=submit]")
            page.wait_for_load_state("load")
            if "/sign-in" in page.url:
                raise RuntimeError(f"page_weight: sign-in as {email} failed")
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": RTT_MS,
                "downloadThroughput": DOWN_KBIT * 1000 / 8,
                "uploadThroughput": UP_KBIT * 1000 / 8,
            })
            for name, path in pages.items():
                charts = name == "dashboard"
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                size, load, marks = _visit(page, cdp, base_url + path, charts)
                figures += [Figure(f"page_weight_{name}_first_kb", size / 1000, "KB"),
                            Figure(f"page_weight_{name}_first_load_s", load, "s")]
                figures += [Figure(f"page_weight_{name}_first_{k}", v, "s")
                            for k, v in marks.items()]
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
                _visit(page, cdp, base_url + path, charts)  # fills the cache
                size, load, marks = _visit(page, cdp, base_url + path, charts)
                figures += [Figure(f"page_weight_{name}_repeat_kb", size / 1000, "KB"),
                            Figure(f"page_weight_{name}_repeat_load_s", load, "s")]
        finally:
            browser.close()
    return figures


def pages_for(engine, department_code):
    import sqlalchemy as sa

    with engine.connect() as conn:
        meeting = conn.execute(sa.text("SELECT id FROM review_meetings ORDER BY id DESC LIMIT 1")
                               ).scalar()
    pages = {"home": "/", "dashboard": "/dashboard/",
             "department": f"/departments/{department_code}",
             "overdue": "/dashboard/records?health=overdue"}
    if meeting is not None:
        pages["meeting"] = f"/meetings/{meeting}"
    return pages


def run_on_app(app, engine, today, email, password, department_code, scan=True):
    """Measure the pages; ``scan``: first raise the flags (``make bench`` has already)."""
    from bench.harness import scan_and_commit

    figures = []
    if scan:
        figures.append(Figure("page_weight_flags_raised", scan_and_commit(app, today), "count"))
    with Server(app) as server:
        figures += measure(server.url, email, password, pages_for(engine, department_code))
    return figures


def demo(argv=None):
    """The demo data in a fresh SQLite file, scanned, measured."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        env = {**os.environ, "DATABASE_URL": url}
        flask = [sys.executable, "-m", "flask", "--app", "tracker"]
        for command in (["db", "upgrade"], ["seed-demo", "--if-empty"]):
            subprocess.run(flask + command, env=env, check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from bench.run import make_app
        from tracker import clock
        from tracker.extensions import db

        app = make_app(url)
        with app.app_context():
            today = clock.today()
            engine = db.engine
            code = db.session.execute(db.text(
                "SELECT d.code FROM departments d JOIN milestones m ON m.department_id = d.id "
                "GROUP BY d.code ORDER BY count(*) DESC, d.code LIMIT 1")).scalar()
            db.session.remove()
        password = app.config.get("DEMO_PASSWORD", "demo")
        figures = run_on_app(app, engine, today, "secretary@ladakh.example", password, code)
        for f in figures:
            f.name = f"{f.name}_demo"
            print(f.line(), flush=True)
        return figures


if __name__ == "__main__":
    demo()
