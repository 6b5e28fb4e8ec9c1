"""Error pages: HTML for the pages, JSON for the API."""
from flask import jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
        return render_error(400, N_("The form had expired or was not sent from this site. "
                                    "Please go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_error(error.code, MESSAGES.get(error.code, error.description))

    if app.testing:
        return  # let tests see the traceback

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error")
        from tracker.extensions import db

        db.session.rollback()
        return render_error(500, MESSAGES[500])


def render_error(code, message):
    if wants_json():
        names = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large",
                 422: "validation_error", 429: "rate_limited", 500: "server_error"}
        return jsonify(error={"code": names.get(code, str(code)), "message": message,
                              "fields": {}}), code
    return render_template("error.html", code=code, message=gettext(message)), code
