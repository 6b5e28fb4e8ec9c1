"""The website health check against HTTP servers this test starts on 127.0.0.1.

No test here reaches any other address: every URL is http://127.0.0.1:<port>/..., the
reserved .example names are refused before any lookup, and a redirect to https:// points
back at 127.0.0.1.
"""
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from jobs import health_check
from jobs.health_check import MAX_BYTES
from models import DigitalAsset, HealthCheck
from tests import factories
from tracker import rules
from tracker.extensions import db
from tracker.outbound import Policy

ALL_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Last-Modified": "Wed, 21 Oct 2026 07:28:00 GMT",
}
TIMEOUT = 1.0
# The servers of these tests are on loopback, which the default policy refuses: these tests
# allow it; the policy's own tests are in test_outbound.py.
LOOPBACK = Policy.from_setting("127.0.0.1")


def check_url(url, timeout=TIMEOUT, policy=LOOPBACK):
    return health_check.check_url(url, timeout, policy=policy)


class Site:
    """One thread-served HTTP server on 127.0.0.1 answering by path."""

    def __init__(self):
        self.release = threading.Event()
        self.requests = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                site.requests.append(self.path)
                port = self.server.server_address[1]
                path = self.path
                if path == "/healthy":
                    self.send(200, b'<!doctype html><html lang="en"><title>ok</title></html>',
                              {"Content-Type": "text/html", **ALL_HEADERS})
                elif path == "/bare":
                    self.send(200, b"<html><body>no language, no headers</body></html>",
                              {"Content-Type": "text/html"})
                elif path == "/frame-ancestors-only":
                    self.send(200, b"<html lang='hi'></html>",
                              {"Content-Security-Policy": "frame-ancestors 'self'"})
                elif path == "/error":
                    self.send(500, b"<html lang=en>boom</html>")
                elif path == "/slow":
                    site.release.wait(5)
                    self.send(200, b"late")
                elif path == "/huge":
                    body = b"<html>" + b"x" * (MAX_BYTES * 4) + b'<html lang="en">'
                    self.send(200, body)
                elif path == "/to-https":
                    self.send(301, headers={"Location": f"https://127.0.0.1:{port}/healthy"})
                elif path == "/to-healthy":
                    self.send(302, headers={"Location": "/healthy"})
                elif path == "/to-ftp":
                    self.send(302, headers={"Location": f"ftp://127.0.0.1:{port}/file"})
                elif path == "/to-javascript":
                    self.send(302, headers={"Location": "javascript:alert(1)"})
                elif path == "/loop":
                    self.send(302, headers={"Location": "/loop"})
                elif path == "/hostile":
                    self.send(200, b"<html lang=en><script>alert(1)</script></html>",
                              {"Last-Modified": "<script>alert('x')</script>\x07"})
                else:
                    self.send(404, b"not here")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def test_healthy_site_with_every_header(site):
    result = check_url(site.url("/healthy"), TIMEOUT)
    assert result.ok and result.error is None
    assert result.status_code == 200
    assert result.response_ms is not None and result.response_ms >= 0
    assert result.security_headers == {
        "strict_transport_security": True,
        "content_security_policy": True,
        "x_content_type_options": True,
        "frame_protection": True,
    }
    assert result.lang_declared is True
    assert result.last_modified == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert result.redirects_to_https is False  # an http:// address that stays on http


def test_site_without_headers(site):
    result = check_url(site.url("/bare"), TIMEOUT)
    assert result.ok
    assert result.security_headers == dict.fromkeys(health_check.SECURITY_HEADERS, False)
    assert result.lang_declared is False
    assert result.last_modified is None


def test_frame_ancestors_counts_as_frame_protection(site):
    result = check_url(site.url("/frame-ancestors-only"), TIMEOUT)
    assert result.security_headers["frame_protection"] is True
    assert result.security_headers["content_security_policy"] is True
    assert result.security_headers["strict_transport_security"] is False
    assert result.lang_declared is True


def test_site_that_errors(site):
    result = check_url(site.url("/error"), TIMEOUT)
    assert not result.ok
    assert result.status_code == 500
    assert result.error == "The site answered HTTP 500."


def test_slow_site_times_out(site):
    result = check_url(site.url("/slow"), TIMEOUT)
    assert not result.ok
    assert result.status_code is None
    assert result.error == "No answer within 1 s."


def test_closed_port_is_refused():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there any more
    result = check_url(f"http://127.0.0.1:{port}/", TIMEOUT)
    assert not result.ok and result.error == "Connection refused."


def test_redirect_to_https_is_recorded(site):
    result = check_url(site.url("/to-https"), TIMEOUT)
    assert result.redirects_to_https is True
    # The https hop is followed (to 127.0.0.1, which speaks plain http): the handshake fails.
    assert not result.ok
    assert result.error.startswith("Secure connection failed") or "No answer" in result.error
    assert site.requests.count("/to-https") == 1


def test_relative_redirect_is_followed_on_http(site):
    result = check_url(site.url("/to-healthy"), TIMEOUT)
    assert result.ok and result.status_code == 200
    assert result.final_url == site.url("/healthy")
    assert result.redirects_to_https is False
    assert result.lang_declared is True


@pytest.mark.parametrize("path, scheme", [("/to-ftp", "ftp"), ("/to-javascript", "javascript")])
def test_redirect_to_a_non_web_scheme_is_not_followed(site, path, scheme):
    result = check_url(site.url(path), TIMEOUT)
    assert not result.ok
    assert result.status_code == 302
    assert result.error == f"Redirect to a non-web address ({scheme}:) was not followed."
    assert result.final_url == site.url(path)
    assert site.requests == [path]  # nothing else was asked for


def test_redirect_loop_stops(site):
    result = check_url(site.url("/loop"), TIMEOUT)
    assert not result.ok
    assert "redirects; stopped" in result.error
    assert len(site.requests) == health_check.MAX_REDIRECTS + 1


def test_reads_at_most_the_cap(site):
    result = check_url(site.url("/huge"), TIMEOUT)
    assert result.ok
    # The lang attribute lies past the cap, so it was never read.
    assert result.lang_declared is False


def test_answers_are_untrusted_text(site):
    result = check_url(site.url("/hostile"), TIMEOUT)
    assert result.last_modified == "<script>alert('x')</script>"  # control character gone


@pytest.mark.parametrize("url", [
    "https://health.ladakh.example/",
    "http://portal.test/",
    "https://x.invalid/",
    "http://app.localhost/",
])
def test_reserved_demo_addresses_are_never_contacted(url, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to open a connection")

    monkeypatch.setattr(health_check.http.client.HTTPConnection, "connect", no_network)
    monkeypatch.setattr(health_check.http.client.HTTPSConnection, "connect", no_network)
    monkeypatch.setattr(health_check.socket, "getaddrinfo", no_network)
    monkeypatch.setattr(health_check.outbound.socket, "getaddrinfo", no_network)
    monkeypatch.setattr(health_check.outbound.socket, "create_connection", no_network)
    result = check_url(url, TIMEOUT)
    assert not result.ok and result.not_checked
    assert result.error == "Reserved demonstration address (.example); not contacted."


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "javascript:alert(1)", "file:///etc/passwd"])
def test_non_web_addresses_are_refused(url):
    result = check_url(url, TIMEOUT)
    assert not result.ok and result.error.startswith("Not a web address")


# --- The job: recording, history, flags' inputs ---------------------------------------------


@pytest.fixture
def checks_on(app):
    app.config.update(HEALTH_CHECKS=True, HEALTH_CHECK_TIMEOUT_SECONDS=TIMEOUT,
                      HEALTH_CHECK_CONCURRENCY=3, OUTBOUND_ALLOW="127.0.0.1")
    return app


def _assets(site, paths):
    dept = factories.department("health")
    return {p: factories.asset(department=dept, url=site.url(p), name=p) for p in paths}


def test_run_is_off_unless_enabled(app, site):
    _assets(site, ["/healthy"])
    assert health_check.run() == {
        "skipped": "health checks are off; set HEALTH_CHECKS=on to run them"}
    assert site.requests == []
    assert db.session.execute(sa.select(HealthCheck)).first() is None


def test_run_records_each_result_and_the_latest(checks_on, site):
    assets = _assets(site, ["/healthy", "/bare", "/error", "/slow", "/to-ftp"])
    ids = {p: a.id for p, a in assets.items()}
    versions = {p: a.version for p, a in assets.items()}
    now = datetime(2026, 11, 1, 6, 0)
    summary = health_check.run(now=now)
    assert summary == {"checked": 5, "ok": 2, "failed": 3, "not checked": 0}
    db.session.expire_all()
    checks = {c.asset_id: c for c in db.session.execute(sa.select(HealthCheck)).scalars()}
    healthy = checks[ids["/healthy"]]
    assert healthy.ok and healthy.status_code == 200 and healthy.lang_declared
    assert all(healthy.security_headers.values())
    assert healthy.last_modified == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert healthy.checked_at == now
    bare = checks[ids["/bare"]]
    assert bare.ok and not any(bare.security_headers.values()) and bare.lang_declared is False
    assert checks[ids["/error"]].status_code == 500 and not checks[ids["/error"]].ok
    assert checks[ids["/slow"]].error == "No answer within 1 s."
    assert "not followed" in checks[ids["/to-ftp"]].error
    for path, asset_id in ids.items():
        asset = db.session.get(DigitalAsset, asset_id)
        assert asset.last_check_at == now
        assert asset.last_check_ok is (path in ("/healthy", "/bare"))
        assert asset.version == versions[path]  # a check is not an edit
    assert db.session.get(DigitalAsset, ids["/error"]).last_check_summary == \
        "The site answered HTTP 500."
    assert db.session.get(DigitalAsset, ids["/healthy"]).last_check_summary.startswith(
        "HTTP 200 in ")


def test_history_and_down_after_two_failed_checks(checks_on, site):
    assets = _assets(site, ["/error", "/healthy"])
    health_check.run(now=datetime(2026, 11, 1, 6, 0))
    assert not _down_ids()  # one failure is not "down" yet
    health_check.run(now=datetime(2026, 11, 2, 6, 0))
    assert _down_ids() == {assets["/error"].id}
    history = db.session.execute(
        sa.select(HealthCheck).where(HealthCheck.asset_id == assets["/error"].id)
        .order_by(HealthCheck.checked_at.desc())
    ).scalars().all()
    assert len(history) == 2
    assert rules.website_is_down(history)
    healthy_history = db.session.get(DigitalAsset, assets["/healthy"].id).checks
    assert not rules.website_is_down(healthy_history)


def _down_ids():
    return set(db.session.execute(
        sa.select(DigitalAsset.id).where(rules.website_down_sql())
    ).scalars())


def test_cli_command(runner, checks_on, site):
    _assets(site, ["/healthy", "/error"])
    result = runner.invoke(args=["jobs", "run", "health-check"])
    assert result.exit_code == 0, result.output
    assert "health-check: 2 checked, 1 ok, 1 failed, 0 not checked" in result.output
    assert db.session.execute(sa.select(sa.func.count(HealthCheck.id))).scalar() == 2


def test_cli_command_when_off(runner, app):
    result = runner.invoke(args=["jobs", "run", "health-check"])
    assert result.exit_code == 0
    assert "health checks are off" in result.output
