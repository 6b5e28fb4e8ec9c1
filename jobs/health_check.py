"""The website health check: an HTTP GET of every registered address, kept as history.

``check_url`` is pure network code (no database): it follows redirects by hand so that each
hop is checked, refuses any hop that is not http(s), reads at most ``MAX_BYTES`` of the body
and treats every answer as untrusted text (nothing is rendered; stored strings are cut and
stripped of control characters, and the templates escape them). Every hop goes through the
outbound policy (``tracker.platform.outbound``): the name is looked up once, each address checked
(no loopback, private, link-local, multicast, reserved or unspecified target unless
``OUTBOUND_ALLOW`` names it) and the connection made to that checked address. One time
budget (``HEALTH_CHECK_TIMEOUT_SECONDS``) covers the whole check: every hop and every byte.
``run`` checks every asset with a small thread pool and records and commits each result in
the main thread as its check finishes.

Off unless ``HEALTH_CHECKS`` is on. Addresses under the reserved ``.example``, ``.test``,
``.invalid`` and ``.localhost`` names (the demo data's) are never contacted, not even looked
up: they are "not checked", never "down".
"""
import http.client
import re
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import sqlalchemy as sa
from flask import current_app, has_app_context

from models import Department, DigitalAsset, HealthCheck
from models.digital_asset import SECURITY_HEADERS
from models.base import utcnow
from tracker.platform import outbound
from tracker.extensions import db

MAX_BYTES = 256 * 1024
MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)
RESERVED_SUFFIXES = outbound.RESERVED_SUFFIXES
USER_AGENT = "RoadmapTracker-HealthCheck/1.0"
_LANG = re.compile(rb"<html\b[^>]*?\slang\s*=\s*[\"']?[A-Za-z]", re.IGNORECASE)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_text(value, limit):
    """Untrusted text made safe to store: control characters removed, length capped."""
    if value is None:
        return None
    return _UNPRINTABLE.sub(" ", str(value)).strip()[:limit]


@dataclass
class CheckResult:
    ok: bool = False
    status_code: int | None = None
    response_ms: int | None = None
    redirects_to_https: bool | None = None
    final_url: str | None = None
    security_headers: dict = field(default_factory=dict)
    lang_declared: bool | None = None
    last_modified: str | None = None
    error: str | None = None
    not_checked: bool = False

    def summary(self) -> str:
        if self.error:
            return self.error
        present = sum(1 for v in self.security_headers.values() if v)
        return (f"HTTP {self.status_code} in {self.response_ms} ms; "
                f"{present} of {len(SECURITY_HEADERS)} security headers")


class CheckError(Exception):
    """A check that cannot go on; the message is shown to users."""


class NotChecked(CheckError):
    """A reserved demonstration address: not contacted, and not a failure."""


class _Hop:
    def __init__(self, status, headers, body, url):
        self.status, self.headers, self.body, self.url = status, headers, body, url


class Budget:
    """One time budget for a whole check: every hop, lookup, connection and byte. At the
    deadline a timer shuts every socket of the check, so no read or write can outlast it
    however the server drips (one byte a second in headers or body)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._sockets = []
        self._lock = threading.Lock()
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CheckError(f"No answer within {self.seconds:g} s.")
        return left

    def watch(self, sock):
        with self._lock:
            if self.expired:
                sock.close()
                raise CheckError(f"No answer within {self.seconds:g} s.")
            self._sockets.append(sock)
        sock.settimeout(self.remaining())
        return sock

    def _expire(self):
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self._timer.cancel()


def _check_address(url, policy=None):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise CheckError(f"Not a web address (scheme {clean_text(parts.scheme, 20) or 'none'}); "
                         "not followed.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise CheckError("The address has no host name.")
    if outbound.is_reserved_name(host) and not (policy and policy.name_allowed(host)):
        raise NotChecked("Reserved demonstration address (.example); not contacted.")
    return parts


def _get(url, budget, policy, read_body):
    """One GET of ``url``, no redirect followed, within ``budget``: the host is looked up
    once, each of its addresses checked by ``policy``, and the connection made to the checked
    address (Host header and TLS name from the URL). Reads at most MAX_BYTES."""
    parts = _check_address(url, policy)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = policy.resolve(parts.hostname, port)
    except outbound.Refused as refused:
        raise CheckError(str(refused)) from None
    sock = outbound.connect(address, port, parts.hostname, parts.scheme, budget.remaining())
    budget.watch(sock)
    if parts.scheme == "https":
        sock.do_handshake()  # after watch: a handshake dripped byte by byte ends in budget
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=budget.remaining())
    conn.sock = sock  # already connected, to the checked address: never looked up again
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("GET", path, headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html,*/*;q=0.5",
            "Accept-Encoding": "identity",
            "Connection": "close",
        })
        sock.settimeout(budget.remaining())
        response = conn.getresponse()
        body = b""
        if read_body and response.status not in REDIRECT_CODES:
            while len(body) < MAX_BYTES:
                sock.settimeout(budget.remaining())
                chunk = response.read1(min(16384, MAX_BYTES - len(body)))
                if not chunk:
                    break
                body += chunk
        budget.remaining()  # a read cut short by the deadline is not a complete page
        return _Hop(response.status, response.headers, body, url)
    except OSError:
        if budget.expired:
            raise CheckError(f"No answer within {budget.seconds:g} s.") from None
        raise
    except http.client.HTTPException:
        if budget.expired:
            raise CheckError(f"No answer within {budget.seconds:g} s.") from None
        raise
    finally:
        conn.close()


def _follow(url, budget, policy, hops):
    """GET ``url`` following redirects by hand, appending each answer to ``hops``; returns
    the final one. Every hop is checked by the policy before it is contacted; a redirect to
    anything but http(s) is refused, and so is a long chain; all within one ``budget``."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        hop = _get(current, budget, policy, read_body=True)
        hops.append(hop)
        location = hop.headers.get("Location") if hop.status in REDIRECT_CODES else None
        if not location:
            return hop
        target = urljoin(current, location.strip())
        scheme = urlsplit(target).scheme
        if scheme not in ("http", "https"):
            raise CheckError(f"Redirect to a non-web address ({clean_text(scheme, 20) or 'none'}:) "
                             "was not followed.")
        current = target
    raise CheckError(f"More than {MAX_REDIRECTS} redirects; stopped.")


def _first_redirect_is_https(hops):
    for hop in hops:
        if hop.status in REDIRECT_CODES and hop.headers.get("Location"):
            return urlsplit(urljoin(hop.url, hop.headers["Location"].strip())).scheme == "https"
    return False


def _security_headers(headers):
    csp = headers.get("Content-Security-Policy") or ""
    return {
        "strict_transport_security": bool(headers.get("Strict-Transport-Security")),
        "content_security_policy": bool(csp),
        "x_content_type_options": (headers.get("X-Content-Type-Options") or "").strip().lower()
        == "nosniff",
        "frame_protection": bool(headers.get("X-Frame-Options")) or "frame-ancestors" in csp.lower(),
    }


def _describe(exc, timeout):
    if isinstance(exc, CheckError):
        return str(exc)
    if isinstance(exc, outbound.Refused):
        return str(exc)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"No answer within {timeout:g} s."
    if isinstance(exc, ssl.SSLError):
        return clean_text(f"Secure connection failed: {exc.reason or exc}", 500)
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused."
    if isinstance(exc, socket.gaierror):
        return "The host name could not be found."
    return clean_text(f"{type(exc).__name__}: {exc}", 500)


def _probe_http_redirect(url, budget, policy):
    """For an https address: does its http:// twin redirect to https? None when unknown."""
    parts = urlsplit(url)
    http_url = urlunsplit(("http", parts.netloc, parts.path, parts.query, ""))
    if parts.port == 443:
        http_url = urlunsplit(("http", parts.hostname, parts.path, parts.query, ""))
    try:
        hop = _get(http_url, budget, policy, read_body=False)
    except (OSError, http.client.HTTPException, ValueError, CheckError):
        return None
    return _first_redirect_is_https([hop])


def check_url(url, timeout=10.0, probe_http=True, policy=None) -> CheckResult:
    """Check one address within ``timeout`` seconds in all (every hop, lookup and byte),
    contacting only what ``policy`` (``tracker.platform.outbound``; by default the app's, else public
    addresses only) allows. Never raises: every failure becomes ``error`` on the result; a
    reserved demonstration address is ``not_checked``."""
    if policy is None:
        policy = outbound.policy() if has_app_context() else outbound.Policy()
    result = CheckResult()
    started = time.monotonic()
    hops = []
    final = None
    budget = Budget(timeout)
    try:
        _check_address(url, policy)
        final = _follow(url, budget, policy, hops)
        if urlsplit(url).scheme == "https" and probe_http:
            result.redirects_to_https = _probe_http_redirect(url, budget, policy)
    except NotChecked as exc:
        result.not_checked = True
        result.error = str(exc)
        return result
    except (CheckError, OSError, http.client.HTTPException, ValueError) as exc:
        result.error = _describe(exc, timeout)
    finally:
        budget.close()
    result.response_ms = int((time.monotonic() - started) * 1000)
    if urlsplit(url).scheme == "http":
        result.redirects_to_https = _first_redirect_is_https(hops) if hops else None
    if hops:
        result.status_code = hops[-1].status
        result.final_url = clean_text(hops[-1].url, 500)
    if final is None:
        return result  # no page: the security headers are unknown (an empty dict), not missing
    result.security_headers = _security_headers(final.headers)
    result.lang_declared = bool(_LANG.search(final.body))
    result.last_modified = clean_text(final.headers.get("Last-Modified"), 100)
    result.ok = 200 <= final.status < 400
    if not result.ok:
        result.error = f"The site answered HTTP {final.status}."
    return result


def run(today=None, now=None):
    """Check every registered address of the active departments. Each result is recorded
    and committed as its check finishes (a slow site delays no other's result). Addresses
    under the reserved demonstration names are not checked (and not recorded).

    Returns a summary: ``{"checked", "ok", "failed", "not checked"}``, or ``{"skipped": why}``
    when off."""
    from tracker.operations import websites

    config = current_app.config
    if not config.get("HEALTH_CHECKS"):
        return {"skipped": "health checks are off; set HEALTH_CHECKS=on to run them"}
    now = now or utcnow()
    timeout = float(config["HEALTH_CHECK_TIMEOUT_SECONDS"])
    workers = max(1, int(config["HEALTH_CHECK_CONCURRENCY"]))
    policy = outbound.policy(config)
    rows = db.session.execute(
        sa.select(DigitalAsset.id, DigitalAsset.url)
        .join(Department, Department.id == DigitalAsset.department_id)
        .where(Department.active.is_(True))
        .order_by(DigitalAsset.id)
    ).all()
    demo = [asset_id for asset_id, url in rows
            if outbound.is_reserved_name(outbound.host_of(url))
            and not policy.name_allowed(outbound.host_of(url))]
    _forget_demo_checks(demo)
    db.session.commit()
    skip = set(demo)
    to_check = [(asset_id, url) for asset_id, url in rows if asset_id not in skip]
    ok = failed = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="health-check") as pool:
        futures = {pool.submit(check_url, url, timeout, True, policy): asset_id
                   for asset_id, url in to_check}
        for future in as_completed(futures):
            result = future.result()
            asset = db.session.get(DigitalAsset, futures[future])
            if asset is None:
                continue  # removed meanwhile
            websites.record_check(asset, result, checked_at=now)
            db.session.commit()
            ok += result.ok
            failed += not result.ok
    return {"checked": ok + failed, "ok": ok, "failed": failed, "not checked": len(demo)}


def _forget_demo_checks(asset_ids):
    """Checks recorded against demonstration addresses by earlier versions (all failures:
    "not contacted") made them look down and raised flags: forgotten, so they are shown as
    not checked."""
    if not asset_ids:
        return
    db.session.execute(sa.delete(HealthCheck).where(
        HealthCheck.asset_id.in_(asset_ids), HealthCheck.error.like("Reserved demonstration%")))
    db.session.execute(
        sa.update(DigitalAsset)
        .where(DigitalAsset.id.in_(asset_ids), DigitalAsset.last_check_ok.is_not(True))
        .values(last_check_at=None, last_check_ok=None, last_check_summary=None)
        .execution_options(synchronize_session=False))
