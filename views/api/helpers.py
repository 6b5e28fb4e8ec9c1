"""Parsing, pagination and serialisation shared by the API resources."""
import re
from datetime import date, datetime

import sqlalchemy as sa
from flask import request, url_for

from tracker.extensions import db
from views.api.errors import ApiError

MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
MAX_ID = 2**31 - 1
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SURROGATE = re.compile("[\ud800-\udfff]")


def query_args(*names):
    """The query parameters a GET endpoint reads; any other is refused with 422 naming it
    (a typo such as ``?stauts=blocked`` must not return the whole list unfiltered)."""

    def decorate(view):
        view.query_args = frozenset(names)
        return view

    return decorate


PAGED = ("page", "per_page")


def check_query_args(view):
    unknown = sorted(set(request.args) - getattr(view, "query_args", frozenset()))
    if unknown:
        raise ApiError(422, "Unknown query parameter.",
                       {name[:100]: "Unknown query parameter." for name in unknown})


def _json_depth(text):
    """How deeply a JSON text nests, counted without parsing it (strings left out)."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _lone_surrogate(value, path="body"):
    """The path of the first text holding a lone surrogate (which no database can store)."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _lone_surrogate(key, path) or _lone_surrogate(item, str(key)[:100])
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _lone_surrogate(item, path)
            if found:
                return found
    return None


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
    text = request.get_data(as_text=True)
    if "\\u0000" in text or "\x00" in text:
        raise ApiError(400, "The body contains a NUL character.")
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise ApiError(400, f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "The body is not valid JSON.")
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    where = _lone_surrogate(data)
    if where:
        raise ApiError(400, "The body contains a lone surrogate (an invalid Unicode character).",
                       {where: "Contains a lone surrogate, which is not a character."})
    return data


def link(endpoint, **values):
    return url_for(endpoint, _external=False, **values)
