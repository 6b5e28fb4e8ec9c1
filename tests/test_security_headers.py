"""Security headers on every response. Every route × method × role of ``app.url_map`` is
walked by the authorization matrix (tests/test_authorization_matrix.py), which checks
these headers (``tests.route_walk.assert_secure_headers``) and ``Cache-Control`` on each
answer; here: the error pages, HSTS in production, and templates that a strict
Content-Security-Policy can serve (no inline script, no inline handlers)."""
import re
from pathlib import Path

import pytest

from tests.route_walk import assert_secure_headers, sign_in_as

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.mark.parametrize("path,method,status", [
    ("/no-such-page", "GET", 404),
    ("/sign-out", "GET", 405),
    ("/departments/nope", "GET", 404),
])
def test_error_pages_have_the_security_headers_too(app, client, route_world, path, method,
                                                   status):
    sign_in_as(client, route_world.users.secretary)
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
