"""Security headers on every response: every GET route of ``app.url_map`` (through the
matrix's table) for every role, and the error pages; HSTS in production; and templates
that a strict Content-Security-Policy can serve (no inline script, no inline handlers)."""
import re
from pathlib import Path

import pytest

from tests.route_walk import ROLES, build_world, sign_in_as, user_of
from tracker.extensions import db
from tests.test_authorization_matrix import _APP, ROUTES, cases

READS = cases(_APP, ROUTES, methods=("GET",))
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def directives(csp):
    return {part.split()[0]: part.split()[1:] for part in
            (p.strip() for p in csp.split(";")) if part}


def assert_secure_headers(response, what):
    headers = response.headers
    csp = directives(headers.get("Content-Security-Policy", ""))
    if "attachment" in headers.get("Content-Disposition", "") and "sandbox" in csp:
        # A user's file, served as a download: stricter still, nothing may run or load.
        assert csp.get("default-src") == ["'none'"], what
        assert headers.get("X-Content-Type-Options") == "nosniff", what
        return
    assert csp.get("script-src") == ["'self'"], f"{what}: script-src {csp.get('script-src')}"
    assert csp.get("object-src") == ["'none'"], what
    assert csp.get("base-uri") == ["'self'"], what
    assert csp.get("frame-ancestors") == ["'none'"], what
    assert csp.get("form-action") == ["'self'"], what
    assert "'unsafe-inline'" not in csp.get("default-src", []), what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") == "same-origin", what


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint,method", READS, ids=[e for e, _ in READS])
def test_every_page_has_the_security_headers(app, client, endpoint, method, role):
    from flask import url_for

    world = build_world()
    if ROUTES[endpoint].prepare:  # rows the route needs beyond the common world
        ROUTES[endpoint].prepare(world)
        db.session.commit()
    sign_in_as(client, user_of(world, role))
    with app.test_request_context():
        url = url_for(endpoint, **ROUTES[endpoint].url_args(world))
    response = client.get(url)
    assert_secure_headers(response, f"{role} GET {url} ({response.status_code})")
    if endpoint in ("static", "dashboard.plotly_js"):  # files, not pages: cacheable
        assert "no-store" not in response.headers.get("Cache-Control", "")
    else:
        assert response.headers["Cache-Control"] == "no-store", f"{role} GET {url}"


@pytest.mark.parametrize("path,method,status", [
    ("/no-such-page", "GET", 404),
    ("/sign-out", "GET", 405),
    ("/departments/nope", "GET", 404),
])
def test_error_pages_have_the_security_headers_too(app, client, path, method, status):
    world = build_world()
    sign_in_as(client, world.users.secretary)
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_secure_headers(response, path)
    assert response.headers["Cache-Control"] == "no-store"


def test_production_sends_hsts_on_every_response(monkeypatch, app, database_url):
    from tracker import create_app
    from tracker.extensions import db

    monkeypatch.setenv("SECRET_KEY", "a-production-secret-of-enough-length")
    monkeypatch.setenv("DATABASE_URL", database_url)
    prod = create_app(config_name="production")
    client = prod.test_client()
    for path in ("/sign-in", "/static/css/app.css", "/no-such-page", "/"):
        response = client.get(path, base_url="https://tracker.example")
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains"), path
        assert_secure_headers(response, path)
    with prod.app_context():
        db.engine.dispose()


def _templates():
    return sorted(p for p in TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script(path):
    """``script-src 'self'`` refuses inline scripts and handlers: a template that had one
    would break in the browser, so it fails here first."""
    html = path.read_text()
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        data_block = re.search(r"""\btype\s*=\s*["']application/json["']""", tag)
        assert data_block or re.search(r"\bsrc\s*=", tag), f"{path.name}: inline <script> {tag}"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.I), f"{path.name}: inline on…= handler"
    assert "javascript:" not in html.lower(), f"{path.name}: javascript: URL"
