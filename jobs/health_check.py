"""The website health check: an HTTP GET of every registered address, kept as history.

``check_url`` is pure network code (no database): it follows redirects by hand so that each
hop is checked, refuses any hop that is not http(s), reads at most ``MAX_BYTES`` of the body
and treats every answer as untrusted text (nothing is rendered; stored strings are cut and
stripped of control characters, and the templates escape them). ``run`` checks every asset
with a small thread pool and records the results in the main thread, then commits.

Off unless ``HEALTH_CHECKS`` is on. Addresses under the reserved ``.example``, ``.test`` and
``.invalid`` names (the demo data's) are never contacted, not even looked up.
"""
import http.client
import re
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import sqlalchemy as sa
from flask import current_app

from models import Department, DigitalAsset
from models.base import utcnow
from tracker.extensions import db

MAX_BYTES = 256 * 1024
MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)
RESERVED_SUFFIXES = (".example", ".test", ".invalid")
USER_AGENT = "RoadmapTracker-HealthCheck/1.0"
SECURITY_HEADERS = (
    "strict_transport_security",
    "content_security_policy",
    "x_content_type_options",
    "frame_protection",
)
SECURITY_HEADER_LABELS = {
    "strict_transport_security": "Strict-Transport-Security",
    "content_security_policy": "Content-Security-Policy",
    "x_content_type_options": "X-Content-Type-Options",
    "frame_protection": "X-Frame-Options or frame-ancestors",
}
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

    def summary(self) -> str:
        if self.error:
            return self.error
        present = sum(1 for v in self.security_headers.values() if v)
        return (f"HTTP {self.status_code} in {self.response_ms} ms; "
                f"{present} of {len(SECURITY_HEADERS)} security headers")


class CheckError(Exception):
    """A check that cannot go on; the message is shown to users."""


class _Hop:
    def __init__(self, status, headers, body, url):
        self.status, self.headers, self.body, self.url = status, headers, body, url


def _check_address(url):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise CheckError(f"Not a web address (scheme {clean_text(parts.scheme, 20) or 'none'}); "
                         "not followed.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise CheckError("The address has no host name.")
    if host.endswith(RESERVED_SUFFIXES) or host in ("example", "test", "invalid"):
        raise CheckError("Reserved demonstration address (.example); not contacted.")
    return parts


def _get(url, timeout, deadline, read_body):
    """One GET of ``url``, no redirect followed. Reads at most MAX_BYTES, before ``deadline``."""
    parts = _check_address(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
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
        response = conn.getresponse()
        body = b""
        if read_body and response.status not in REDIRECT_CODES:
            while len(body) < MAX_BYTES:
                if time.monotonic() > deadline:
                    raise CheckError("Timed out while reading the page.")
                chunk = response.read(min(16384, MAX_BYTES - len(body)))
                if not chunk:
                    break
                body += chunk
        return _Hop(response.status, response.headers, body, url)
    finally:
        conn.close()


def _follow(url, timeout, hops):
    """GET ``url`` following redirects by hand, appending each answer to ``hops``; returns
    the final one. Every hop is checked before it is contacted; a redirect to anything but
    http(s) is refused, and so is a long chain."""
    deadline = time.monotonic() + timeout * 3
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        hop = _get(current, timeout, deadline, read_body=True)
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
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"No answer within {timeout:g} s."
    if isinstance(exc, ssl.SSLError):
        return clean_text(f"Secure connection failed: {exc.reason or exc}", 500)
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused."
    if isinstance(exc, socket.gaierror):
        return "The host name could not be found."
    return clean_text(f"{type(exc).__name__}: {exc}", 500)


def _probe_http_redirect(url, timeout):
    """For an https address: does its http:// twin redirect to https? None when unknown."""
    parts = urlsplit(url)
    http_url = urlunsplit(("http", parts.netloc, parts.path, parts.query, ""))
    if parts.port == 443:
        http_url = urlunsplit(("http", parts.hostname, parts.path, parts.query, ""))
    try:
        hop = _get(http_url, timeout, time.monotonic() + timeout, read_body=False)
    except (OSError, http.client.HTTPException, ValueError, CheckError):
        return None
    return _first_redirect_is_https([hop])


def check_url(url, timeout=10.0, probe_http=True) -> CheckResult:
    """Check one address. Never raises: every failure becomes ``error`` on the result."""
    result = CheckResult()
    started = time.monotonic()
    hops = []
    final = None
    try:
        _check_address(url)
        final = _follow(url, timeout, hops)
    except (CheckError, OSError, http.client.HTTPException, ValueError) as exc:
        result.error = _describe(exc, timeout)
    result.response_ms = int((time.monotonic() - started) * 1000)
    if urlsplit(url).scheme == "http":
        result.redirects_to_https = _first_redirect_is_https(hops) if hops else None
    if hops:
        result.status_code = hops[-1].status
        result.final_url = clean_text(hops[-1].url, 500)
    if final is None:
        return result
    result.security_headers = _security_headers(final.headers)
    result.lang_declared = bool(_LANG.search(final.body))
    result.last_modified = clean_text(final.headers.get("Last-Modified"), 100)
    if urlsplit(url).scheme == "https" and probe_http:
        result.redirects_to_https = _probe_http_redirect(url, timeout)
    result.ok = 200 <= final.status < 400
    if not result.ok:
        result.error = f"The site answered HTTP {final.status}."
    return result


def run(today=None, now=None):
    """Check every registered address of the active departments; record and commit.

    Returns a summary: ``{"checked", "ok", "failed"}``, or ``{"skipped": why}`` when off."""
    from tracker.operations import websites

    config = current_app.config
    if not config.get("HEALTH_CHECKS"):
        return {"skipped": "health checks are off; set HEALTH_CHECKS=on to run them"}
    now = now or utcnow()
    timeout = float(config["HEALTH_CHECK_TIMEOUT_SECONDS"])
    workers = max(1, int(config["HEALTH_CHECK_CONCURRENCY"]))
    assets = db.session.execute(
        sa.select(DigitalAsset)
        .join(Department, Department.id == DigitalAsset.department_id)
        .where(Department.active.is_(True))
        .order_by(DigitalAsset.id)
    ).scalars().all()
    urls = [a.url for a in assets]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="health-check") as pool:
        results = list(pool.map(lambda u: check_url(u, timeout), urls))
    for asset, result in zip(assets, results):
        websites.record_check(asset, result, checked_at=now)
    db.session.commit()
    ok = sum(1 for r in results if r.ok)
    return {"checked": len(results), "ok": ok, "failed": len(results) - ok}

