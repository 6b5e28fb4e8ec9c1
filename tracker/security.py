"""Security headers on every response."""

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

        if _has_nul(request.args.values()) or (
            request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
            and _has_nul(request.form.values())
        ):
            abort(400)

    @app.after_request
    def set_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
