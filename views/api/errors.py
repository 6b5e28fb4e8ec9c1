"""The errors of /api/v1: every one answered as ``{"error": {"code", "message", "fields"}}``
with its status code."""
from flask import jsonify

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
