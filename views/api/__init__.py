"""The JSON API, ``/api/v1``, for departments' own systems.

Authentication is by personal token only (``Authorization: Bearer rt_…``); session cookies
and CSRF stay with the HTML pages. Every error is ``{"error": {"code", "message", "fields"}}``
with its status code. Writes go through the same operations, permissions and audit log as
the pages.
"""
from flask import Blueprint, current_app, g, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from sqlalchemy import exc
from werkzeug.exceptions import HTTPException

from tracker.extensions import csrf, db, limiter, login_manager

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "rate_limited",
    500: "server_error",
}


class ApiError(Exception):
    """An error answered as JSON with its status code."""

    def __init__(self, status, message, fields=None, extra=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.extra = extra or {}


def error_response(status, message, fields=None, extra=None):
    body = {"error": {"code": ERROR_CODES.get(status, str(status)), "message": message,
                      "fields": fields or {}}}
    body.update(extra or {})
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="roadmap-tracker"'
    return response


REFUSALS = (401, 403, 404, 429)


def _refusal(response, status):
    """API refusals go to the same security log and audit trail as the pages'."""
    from tracker.errors import refused, retry_after

    if status in REFUSALS:
        refused(status)
    if status == 429:
        response.headers["Retry-After"] = str(retry_after())
    return response


@bp.errorhandler(ApiError)
def _api_error(error):
    response = error_response(error.status, error.message, error.fields, error.extra)
    return _refusal(response, error.status)


@bp.errorhandler(HTTPException)
def _http_error(error):
    from tracker.errors import MESSAGES

    response = error_response(error.code, MESSAGES.get(error.code, error.description))
    if error.code == 405:
        allow = dict(error.get_headers()).get("Allow")
        if allow:
            response.headers["Allow"] = allow
    return _refusal(response, error.code)


def api_rate_limit():
    return current_app.config["API_RATE_LIMIT"]


def _rate_limit_key():
    header = request.headers.get("Authorization", "")
    return header[-16:] if header.startswith("Bearer ") else (request.remote_addr or "-")


limiter.limit(api_rate_limit, key_func=_rate_limit_key)(bp)

# Paths served without a token: the description of the API itself.
PUBLIC_ENDPOINTS = {"api.openapi_json"}


def _bearer_token(req):
    """The token of ``Authorization: Bearer <token>``, or None."""
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


@login_manager.request_loader
def load_token_user(req):
    """The user of the request's personal API token: Flask-Login's ``current_user`` for a
    request to the API (and only there: the pages sign in by session)."""
    from tracker.operations.tokens import user_for_token

    token = _bearer_token(req) if req.blueprint == bp.name else None
    if token is None:
        return None
    user = user_for_token(token)
    if user is None:
        db.session.rollback()
        return None
    user_id = user.id
    try:
        db.session.commit()  # keeps the token's last-used time (best effort)
    except exc.OperationalError:
        db.session.rollback()
        current_app.logger.warning("could not record an API token's last use")
        user = db.session.get(type(user), user_id)
    g.api_user = user
    return user


@bp.before_request
def authenticate():
    """Every request but the description's names a live token; the request then acts as
    exactly its user (``load_token_user``)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if _bearer_token(request) is None:
        raise ApiError(401, "Send a personal API token: 'Authorization: Bearer <token>'.")
    user = current_user._get_current_object()
    if not user.is_authenticated or g.get("api_user") is not user:
        _throttle_bad_tokens()
        raise ApiError(401, "The API token is not valid or has been revoked.")
    return None


@bp.before_request
def check_query_args():
    """A GET names only the query parameters its endpoint reads (see ``query_args``)."""
    from views.api.helpers import check_query_args as check

    view = current_app.view_functions.get(request.endpoint)
    if request.method == "GET" and view is not None and request.endpoint not in PUBLIC_ENDPOINTS:
        check(view)


def _throttle_bad_tokens():
    """Repeated bad tokens from one address are refused for a while (429), so a token cannot
    be guessed at the API's ordinary rate."""
    from limits import parse

    item = parse(current_app.config["API_BAD_TOKEN_LIMIT"])
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    strategy = limiter.limiter
    key = ("api-bad-token", request.remote_addr or "-")
    if not strategy.hit(item, *key):
        reset_at, _remaining = strategy.get_window_stats(item, *key)
        import time

        g.retry_after = max(1, int(reset_at - time.time()))
        raise ApiError(429, "Too many requests with a bad token from this address; wait and "
                            "try again.")


class _NoSession(SecureCookieSession):
    """The session of an API request: empty whatever cookie came, and never saved."""


class TokenOnlySessions(SecureCookieSessionInterface):
    """The API is token-only: its requests neither read the session cookie (a signed-in
    browser's session cannot act through the API, nor end up acting as another user than
    the token's) nor set one."""

    def open_session(self, app, request):
        if request.path.startswith(bp.url_prefix + "/"):
            return _NoSession()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if isinstance(session, _NoSession):
            return None
        return super().save_session(app, session, response)


def register(app):
    from views.api import resources, writes  # noqa: F401  (routes)

    app.session_interface = TokenOnlySessions()
    app.register_blueprint(bp)
