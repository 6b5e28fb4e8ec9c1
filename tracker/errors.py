"""Error pages: HTML for the pages, JSON for the API."""
import logging

from flask import jsonify, make_response, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tracker.platform import security_log
from tracker.i18n import N_

MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Please sign in."),
    403: N_("You are not allowed to do this."),
    404: N_("There is no such page, or it is not yours to see."),
    405: N_("This address does not accept that kind of request."),
    409: N_("Someone else changed this record first."),
    413: N_("The file or request is too large."),
    429: N_("Too many requests. Please wait a minute and try again."),
    500: N_("Something went wrong on our side. It has been logged."),
}


def wants_json():
    return request.path.startswith("/api/")


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        security_log.event("csrf_refused", level=logging.WARNING, status=400,
                           reason=error.description)
        return render_error(400, N_("The form had expired or was not sent from this site. "
                                    "Please go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code in (401, 403, 404, 429):
            refused(error.code)
        response = make_response(render_error(error.code,
                                               MESSAGES.get(error.code, error.description)))
        for name in ("Allow", "Retry-After"):
            value = dict(error.get_headers()).get(name)
            if value:
                response.headers[name] = value
        if error.code == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(retry_after())
        return response

    if app.testing:
        return  # let tests see the traceback

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error")
        from tracker.extensions import db

        db.session.rollback()
        return render_error(500, MESSAGES[500])


def retry_after():
    """Seconds until the rate limit that refused this request resets (60 when unknown)."""
    import math
    import time

    from flask import g

    from tracker.extensions import limiter

    current = limiter.current_limit
    if current is not None and current.breached:
        return max(1, math.ceil(current.reset_at - time.time()))
    return int(g.get("retry_after", 60))


def refused(code):
    """Log a refused request. For a signed-in user it is also an audit entry (who asked
    for what); whatever the request had changed is rolled back first, so a refused request
    writes nothing but that entry. Anonymous refusals and rate limits go to the log only."""
    from flask_login import current_user

    from tracker import audit
    from tracker.extensions import db

    if code == 429:
        security_log.event("rate_limited", level=logging.WARNING, status=code)
        return
    if not current_user.is_authenticated:
        if code in (401, 403):
            security_log.event("access_refused", level=logging.WARNING, status=code)
        return
    security_log.event("access_refused", level=logging.WARNING, status=code)
    try:
        db.session.rollback()
        audit.record("access_refused", "request", None,
                     {"status": code, "method": request.method, "path": request.path[:500]})
        db.session.commit()
    except Exception:  # the refusal stands even if the database cannot record it
        db.session.rollback()
        logging.getLogger("tracker.security").exception("could not record a refused request")


def render_error(code, message):
    if wants_json():
        names = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large",
                 422: "validation_error", 429: "rate_limited", 500: "server_error"}
        return jsonify(error={"code": names.get(code, str(code)), "message": message,
                              "fields": {}}), code
    return render_template("error.html", code=code, message=gettext(message)), code
