"""The blueprint of /api/v1 and what every request to it goes through: the token (through
Flask-Login's ``request_loader``), the rate limits, the query parameters a GET may name, and
errors as JSON. API requests have no session: ``TokenOnlySessions``."""
import time

from flask import Blueprint, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from limits import parse
from sqlalchemy import exc
from werkzeug.exceptions import HTTPException

from tracker.errors import MESSAGES, refused, retry_after
from tracker.extensions import csrf, db, limiter, login_manager
from tracker.operations.tokens import user_for_token
from views.api.errors import ApiError, error_response
from views.api.helpers import check_query_args as check_named_query_args
from views.api.openapi import PUBLIC_ENDPOINTS

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

REFUSALS = (401, 403, 404, 429)


def _refusal(response, status):
    """API refusals go to the same security log and audit trail as the pages'."""
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
    view = current_app.view_functions.get(request.endpoint)
    if request.method == "GET" and view is not None and request.endpoint not in PUBLIC_ENDPOINTS:
        check_named_query_args(view)


def _throttle_bad_tokens():
    """Repeated bad tokens from one address are refused for a while (429), so a token cannot
    be guessed at the API's ordinary rate."""
    item = parse(current_app.config["API_BAD_TOKEN_LIMIT"])
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    strategy = limiter.limiter
    key = ("api-bad-token", request.remote_addr or "-")
    if not strategy.hit(item, *key):
        reset_at, _remaining = strategy.get_window_stats(item, *key)
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


