"""Security headers on every response, and the proxy set-up that lets the app see the
visitor's address.

- Content-Security-Policy: scripts only from this site (no inline script anywhere), no
  plugins, no framing, no ``<base>`` from elsewhere, forms post only here.
- ``Cache-Control: no-store`` on every page the app renders (signed-in pages, forms with
  a CSRF token, error pages), so a shared computer's cache or back button keeps nothing;
  only the static files (CSS, JavaScript, images), and a response a view marked ``public``,
  may be cached.
- Strict-Transport-Security when ``HSTS_SECONDS`` is above 0 (production's default is a year).
"""
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # plotly.js sets inline styles on the charts it draws; scripts stay strict.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _has_nul(values):
    return any("\x00" in v for v in values)


def init_app(app):
    @app.before_request
    def refuse_nul_bytes():
        """No database stores a NUL byte in text (PostgreSQL refuses it): refuse it up front."""
        from flask import abort, request

        if "\x00" in request.path or _has_nul(request.args.keys()) or _has_nul(request.args.values()) or (
            request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
            and _has_nul(request.form.values())
        ):
            abort(400)

    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    hsts = app.config.get("HSTS_SECONDS", 0)

    @app.after_request
    def set_headers(response):
        from flask import request

        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if hsts:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
        if request.endpoint != "static" and not response.cache_control.public:
            headers["Cache-Control"] = "no-store"
            headers.setdefault("Pragma", "no-cache")
        return response
