"""The website health check against HTTP servers this test starts on 127.0.0.1.

No test here reaches any other address: every URL is http://127.0.0.1:<port>/..., the
reserved .example names are refused before any lookup, and a redirect to https:// points
back at 127.0.0.1.
"""
import threading
import time
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
from tracker.platform.outbound import Policy

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


# --- The outbound policy at connection time, against listeners on loopback -------------------


class Listener:
    """A TCP listener on 127.0.0.1 counting the connections that reach it, answering each
    with ``answer(conn, port)`` in a thread of its own."""

    def __init__(self, answer):
        import socket

        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        try:
            conn.recv(4096)
            self.answer(conn, self.port)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.closed = True
        self.sock.close()


def _page(conn, port):
    body = b'<html lang="en">ok</html>'
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body)


def _drip(conn, port):
    """One byte a second, for ever (headers first, then the body)."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000:
        conn.sendall(bytes([byte]))
        time.sleep(1)


def _drip_body(conn, port):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(100000):
        conn.sendall(b"x")
        time.sleep(1)


@pytest.fixture
def listeners():
    made = []

    def make(answer=_page):
        made.append(Listener(answer))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


# A public-looking name and address, mapped by the patched resolver and connector.
PUBLIC_NAME = "www.portal-of-ladakh.in"
PUBLIC_IP = "8.8.8.8"
DEFAULT = Policy()


@pytest.fixture
def fake_dns(monkeypatch):
    """Names resolve as ``names`` says; a connection to PUBLIC_IP reaches ``public_port`` on
    loopback (so a 'public' site can be a test server)."""
    import socket as socket_module

    from tracker.platform import outbound

    names = {}
    routes = {}
    real_getaddrinfo = socket_module.getaddrinfo
    real_connect = socket_module.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            return [(socket_module.AF_INET, socket_module.SOCK_STREAM, 6, "", (names[host], port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        host, port = address
        if host in routes:
            host, port = "127.0.0.1", routes[host]
        return real_connect((host, port), *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(outbound.socket, "create_connection", create_connection)
    return names, routes


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1",
                                  "127.1", "localhost", "[::ffff:127.0.0.1]"])
def test_default_policy_never_connects_to_a_loopback_address(listeners, host):
    target = listeners()
    result = health_check.check_url(f"http://{host}:{target.port}/", TIMEOUT, policy=DEFAULT)
    assert not result.ok
    # 'localhost' is also a reserved name (RFC 6761): not checked at all.
    assert "internal" in result.error or (host == "localhost" and result.not_checked)
    assert result.security_headers == {} and result.status_code is None
    time.sleep(0.05)
    assert target.connections == 0


def test_default_policy_refuses_a_name_resolving_to_loopback(listeners, fake_dns):
    names, _ = fake_dns
    names["intranet-looking-public.gov.in"] = "127.0.0.1"
    target = listeners()
    result = health_check.check_url(f"http://intranet-looking-public.gov.in:{target.port}/",
                                    TIMEOUT, policy=DEFAULT)
    assert not result.ok
    assert result.error.startswith("The host name leads to an internal address")
    assert target.connections == 0


@pytest.mark.parametrize("location", [
    "http://127.0.0.1:{port}/",
    "http://2130706433:{port}/",
    "http://sneaky.gov.in:{port}/",  # a public-looking name that resolves to loopback
])
def test_default_policy_refuses_a_public_redirect_into_loopback(listeners, fake_dns, location):
    names, routes = fake_dns
    target = listeners()
    names["sneaky.gov.in"] = "127.0.0.1"

    def redirect(conn, port):
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: " +
                     location.format(port=target.port).encode() +
                     b"\r\nContent-Length: 0\r\n\r\n")

    public = listeners(redirect)
    names[PUBLIC_NAME] = PUBLIC_IP
    routes[PUBLIC_IP] = public.port
    result = health_check.check_url(f"http://{PUBLIC_NAME}:{public.port}/", TIMEOUT,
                                    policy=DEFAULT)
    assert public.connections == 1  # the public hop is contacted...
    assert target.connections == 0  # ...the loopback one never
    assert not result.ok and "internal" in result.error
    assert result.status_code == 302


def test_the_connection_goes_to_the_address_checked_not_a_second_lookup(listeners, fake_dns):
    """DNS rebinding: the name is looked up once; a second answer is never used."""
    names, routes = fake_dns
    public = listeners()
    names[PUBLIC_NAME] = PUBLIC_IP
    routes[PUBLIC_IP] = public.port
    from tracker.platform import outbound

    lookups = []
    real = outbound.socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        lookups.append(host)
        if len(lookups) > 1:
            return [(2, 1, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    outbound.socket.getaddrinfo = rebinding
    try:
        result = health_check.check_url(f"http://{PUBLIC_NAME}:{public.port}/", TIMEOUT,
                                        policy=DEFAULT)
    finally:
        outbound.socket.getaddrinfo = real
    assert result.ok and lookups.count(PUBLIC_NAME) == 1  # (the other: the test's own route)
    assert public.connections == 1


def test_with_the_allow_list_naming_them_the_checks_run(listeners, fake_dns):
    names, _ = fake_dns
    names["intranet.ladakh.gov.in"] = "127.0.0.1"
    target = listeners()
    by_network = health_check.check_url(f"http://127.0.0.1:{target.port}/", TIMEOUT,
                                        policy=Policy.from_setting("127.0.0.0/8"))
    by_name = health_check.check_url(f"http://intranet.ladakh.gov.in:{target.port}/", TIMEOUT,
                                     policy=Policy.from_setting("intranet.ladakh.gov.in"))
    assert by_network.ok and by_name.ok and by_name.lang_declared
    assert target.connections == 2


@pytest.mark.parametrize("answer", [_drip, _drip_body], ids=["headers", "body"])
def test_a_one_byte_a_second_server_ends_within_the_budget(listeners, answer):
    target = listeners(answer)
    started = time.monotonic()
    result = health_check.check_url(f"http://127.0.0.1:{target.port}/", 1.5, policy=LOOPBACK)
    took = time.monotonic() - started
    assert took < 2.0, f"took {took:.1f} s"
    assert not result.ok and result.error == "No answer within 1.5 s."
    assert result.security_headers == {}  # no page: unknown, not "missing"


def _slow_redirects(hops, delay):
    def answer(conn, port):
        time.sleep(delay)
        conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/\r\n"
                     "Content-Length: 0\r\n\r\n".encode())
    return answer


def test_a_chain_of_slow_redirects_ends_within_the_budget(listeners):
    target = listeners(_slow_redirects(5, 0.4))  # five hops of 0.4 s: 2 s, over the budget
    started = time.monotonic()
    result = health_check.check_url(f"http://127.0.0.1:{target.port}/", 1.0, policy=LOOPBACK)
    took = time.monotonic() - started
    assert took < 1.5, f"took {took:.1f} s"
    assert not result.ok and result.error == "No answer within 1 s."
    assert target.connections <= 3


def test_the_run_records_the_other_sites_while_slow_ones_drip(checks_on, listeners):
    checks_on.config["HEALTH_CHECK_TIMEOUT_SECONDS"] = 1.5
    drip, chain, good = listeners(_drip_body), listeners(_slow_redirects(6, 0.4)), listeners()
    dept = factories.department("health")
    ids = {name: factories.asset(department=dept, name=name,
                                 url=f"http://127.0.0.1:{listener.port}/").id
           for name, listener in (("drip", drip), ("chain", chain), ("good", good))}
    demo = factories.asset(department=dept, name="demo", url="https://portal.health.example/")
    started = time.monotonic()
    summary = health_check.run(now=datetime(2026, 11, 1, 6, 0))
    took = time.monotonic() - started
    assert took < 3.0, f"took {took:.1f} s"
    assert summary == {"checked": 3, "ok": 1, "failed": 2, "not checked": 1}
    db.session.expire_all()
    checks = {c.asset_id: c for c in db.session.execute(sa.select(HealthCheck)).scalars()}
    assert checks[ids["good"]].ok
    assert checks[ids["drip"]].error == checks[ids["chain"]].error == "No answer within 1.5 s."
    assert demo.id not in checks  # a demonstration address: not checked, not down
    assert rules.check_state(db.session.get(DigitalAsset, demo.id)) == "not_checked"


def test_earlier_failures_of_demo_addresses_are_forgotten(checks_on):
    dept = factories.department("health")
    demo = factories.asset(department=dept, url="https://portal.health.example/")
    for day in (1, 2):
        db.session.add(HealthCheck(asset_id=demo.id, checked_at=datetime(2026, 11, day), ok=False,
                                   error="Reserved demonstration address (.example); "
                                         "not contacted."))
    demo.last_check_at, demo.last_check_ok = datetime(2026, 11, 2), False
    db.session.commit()
    assert _down_ids() == {demo.id}
    assert health_check.run()["not checked"] == 1
    assert _down_ids() == set()
    db.session.expire_all()
    assert rules.check_state(db.session.get(DigitalAsset, demo.id)) == "not_checked"
