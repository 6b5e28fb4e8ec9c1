"""Parsing, pagination and serialisation shared by the API resources."""
from datetime import date, datetime

import sqlalchemy as sa
from flask import request, url_for

from tracker.extensions import db
from views.api import ApiError

MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
MAX_ID = 2**31 - 1


def iso(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def arg_date(name):
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "Invalid query parameter.", {name: "Use a date as YYYY-MM-DD."}) from None


def arg_choice(name, choices):
    value = request.args.get(name)
    if value in (None, ""):
        return None
    if value not in choices:
        raise ApiError(422, "Invalid query parameter.",
                       {name: f"Use one of: {', '.join(choices)}."})
    return value


def paginate(query, serialize, count_query=None):
    """A page of ``query`` (which must have a stable ORDER BY) with the total."""
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError:
        raise ApiError(422, "Invalid query parameter.",
                       {"page": "page and per_page are whole numbers."}) from None
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(422, "Invalid query parameter.",
                       {"per_page": f"1 ≤ page ≤ {MAX_PAGE} and 1 ≤ per_page ≤ {MAX_PER_PAGE}."})
    if count_query is None:
        count_query = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    total = db.session.execute(count_query).scalar()
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {
        "items": [serialize(row) for row in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


def json_body():
    """The request's JSON object, or a 400/415 error."""
    if not request.is_json:
        raise ApiError(415, "Send the body as JSON (Content-Type: application/json).")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "The body is not valid JSON.")
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    if "\\u0000" in request.get_data(as_text=True) or "\x00" in request.get_data(as_text=True):
        raise ApiError(400, "The body contains a NUL character.")
    return data


def link(endpoint, **values):
    return url_for(endpoint, _external=False, **values)
