"""The OpenAPI 3.1 description of /api/v1, generated: the schemas are those of
``views.api.schemas`` (the very models that validate the requests), the operations come from
``ROUTES`` below, and the writes find their request model in ``ROUTES`` too (``request_model``).

``tests/api/test_openapi.py`` checks ``ROUTES`` against the app's routes (every route
described, every description routed, every query parameter the view reads) and validates real
responses against the schemas.
"""
from copy import deepcopy
from dataclasses import dataclass
from functools import cache

from flask import request
from pydantic import BaseModel, create_model
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from models.bottleneck import BOTTLENECK_CATEGORIES, BOTTLENECK_STATUSES, SEVERITIES
from models.flag import ESCALATION_LEVELS, FLAG_KINDS
from models.meeting import ACTION_ITEM_STATUSES
from models.milestone import MILESTONE_CATEGORIES, MILESTONE_STATUSES
from tracker import rules
from views.api import schemas as s
from views.api.helpers import MAX_ID, MAX_PAGE, MAX_PER_PAGE

REF = "#/components/schemas/{model}"


def _ref(name):
    return {"$ref": REF.format(model=name)}


# --- Parameters ---------------------------------------------------------------------------


def _q(name, schema, description):
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _choice(values):
    return {"type": "string", "enum": list(values)}


PAGING = (
    _q("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page number, from 1."),
    _q("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
       "Items per page (default 50)."),
)
# Text parameters never carry a NUL character (refused with 400: no database stores one).
TEXT = {"type": "string", "pattern": "^[^\\x00]*$"}
DEPARTMENT = _q("department", TEXT, "Department code.")
DAY = {"type": "string", "format": "date"}


def _path_id(name):
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "schema": {"type": "string", "pattern": '^(W/)?"[0-9]+"$'},
            "description": "The ETag of the record as read (or send a `version` field)."}

# --- Responses ----------------------------------------------------------------------------

ERRORS = {
    400: "The request is malformed: invalid JSON, or a NUL character in a parameter.",
    401: "No token, or a bad or revoked one.",
    403: "The token's user may not do this.",
    404: "No such record, or not the token user's to see.",
    409: "The record changed since the version named; `current` holds the current record.",
    412: "If-Match is not an ETag of this API.",
    413: "The request is too large.",
    415: "The body is not JSON.",
    422: "Validation failed; `fields` names each problem.",
    428: "The update does not name the version it read.",
    429: "Too many requests.",
}
READ_ERRORS = (400, 401, 404, 422, 429)
LIST_ERRORS = (400, 401, 422, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429)
CREATE_ERRORS = (400, 401, 403, 404, 413, 415, 422, 429)

ETAG_HEADER = {"ETag": {"description": 'The record\'s version as a weak ETag, `W/"<version>"`: '
                                       "send it back in If-Match to update the record.",
                        "schema": {"type": "string", "pattern": '^W/"[0-9]+"$'}}}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer", "minimum": 1}}}


_PAGES = {}


def page_of(model):
    """The model of one page of ``model`` (``items`` with ``page``, ``per_page``, ``total``)."""
    if model not in _PAGES:
        _PAGES[model] = create_model(
            f"{model.__name__}Page", __base__=s.Out, items=(list[model], ...), page=(int, ...),
            per_page=(int, ...), total=(int, ...))
    return _PAGES[model]


class Document(BaseModel):
    """This description itself (served without a token)."""


# --- The route table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One operation of the API: what the view at ``endpoint`` takes and answers."""

    endpoint: str
    method: str
    path: str
    summary: str
    tag: str
    response: type
    request: type | None = None
    status: int = 200
    errors: tuple = READ_ERRORS
    params: tuple = ()
    etag: bool = False
    body_required: bool = True
    body_description: str = "The changed fields and the `version` read (or If-Match)."
    public: bool = False

    def query_names(self):
        return {p["name"] for p in self.params if p["in"] == "query"}


def _list(endpoint, path, summary, model, tag, *params):
    return Route(f"api.{endpoint}", "get", path, summary, tag, page_of(model),
                 errors=LIST_ERRORS, params=PAGING + params)


def _one(endpoint, path, summary, model, tag, param, etag=True):
    return Route(f"api.{endpoint}", "get", path, summary, tag, model, params=(param,), etag=etag)


def _write(endpoint, method, path, summary, tag, request_model, response, param, **kw):
    params = (param, IF_MATCH) if param else ()
    return Route(f"api.{endpoint}", method, path, summary, tag, response, request=request_model,
                 errors=kw.pop("errors", WRITE_ERRORS), params=params, etag=True, **kw)


MID, BID = _path_id("milestone_id"), _path_id("bottleneck_id")

ROUTES = (
    Route("api.openapi_json", "get", "/openapi.json", "This description", "description",
          Document, errors=(429,), public=True),
    _list("departments", "/departments", "Departments the token's user may see", s.Department,
          "departments"),
    _one("department", "/departments/{code}", "One department", s.Department, "departments",
         {"name": "code", "in": "path", "required": True, "schema": TEXT}, etag=False),
    _list("plans", "/plans", "Action plans", s.Plan, "plans", DEPARTMENT),
    _one("plan", "/plans/{plan_id}", "One action plan with its versions", s.PlanDetail, "plans",
         _path_id("plan_id"), etag=False),
    _list("milestones", "/milestones", "Milestones, filtered", s.Milestone, "milestones",
          DEPARTMENT,
          _q("status", _choice(MILESTONE_STATUSES), "Status."),
          _q("category", _choice(MILESTONE_CATEGORIES), "Category."),
          _q("health", _choice(rules.HEALTHS), "Health as the rules decide it today."),
          _q("due_before", DAY, "Due strictly before this date."),
          _q("due_after", DAY, "Due strictly after this date.")),
    _one("milestone", "/milestones/{milestone_id}", "One milestone (ETag: its version)",
         s.Milestone, "milestones", MID),
    Route("api.milestone_history", "get", "/milestones/{milestone_id}/history",
          "The milestone's history, newest first", "milestones", page_of(s.MilestoneUpdate),
          params=(MID,) + PAGING),
    _list("bottlenecks", "/bottlenecks", "Bottlenecks, filtered", s.Bottleneck, "bottlenecks",
          DEPARTMENT,
          _q("status", _choice(BOTTLENECK_STATUSES), "Status."),
          _q("severity", _choice(SEVERITIES), "Severity."),
          _q("category", _choice(BOTTLENECK_CATEGORIES), "Category."),
          _q("age_bucket", _choice(rules.AGE_BUCKETS), "Age bucket in days.")),
    _one("bottleneck", "/bottlenecks/{bottleneck_id}", "One bottleneck (ETag: its version)",
         s.Bottleneck, "bottlenecks", BID),
    _list("flags", "/flags", "Open flags", s.Flag, "flags", DEPARTMENT,
          _q("kind", _choice(FLAG_KINDS), "Kind of flag."),
          _q("escalation", _choice(ESCALATION_LEVELS), "Who the flag has reached.")),
    _list("services", "/services", "Public services", s.Service, "services", DEPARTMENT),
    _one("service", "/services/{service_id}", "One service (ETag: its version)", s.Service,
         "services", _path_id("service_id")),
    _list("websites", "/websites", "Websites and apps", s.Website, "websites", DEPARTMENT),
    _one("website", "/websites/{website_id}", "One website or app (ETag: its version)",
         s.Website, "websites", _path_id("website_id")),
    _list("meetings", "/meetings", "Review meetings, newest first", s.Meeting, "meetings"),
    _one("meeting", "/meetings/{meeting_id}", "One meeting with agenda and decisions",
         s.MeetingDetail, "meetings", _path_id("meeting_id"), etag=False),
    _list("action_items", "/action-items", "Action items of meetings", s.ActionItem, "meetings",
          DEPARTMENT, _q("status", _choice(ACTION_ITEM_STATUSES), "Status.")),
    _one("action_item", "/action-items/{item_id}", "One action item (ETag: its version)",
         s.ActionItem, "meetings", _path_id("item_id")),
    # Writes
    _write("update_milestone", "patch", "/milestones/{milestone_id}",
           "Record progress: status, percent, note; a due date with a reason", "milestones",
           s.MilestoneProgress, s.Milestone, MID,
           body_description="The changes, and the `version` read (or If-Match)."),
    _write("create_bottleneck", "post", "/bottlenecks",
           "Raise a bottleneck on a department or one of its milestones", "bottlenecks",
           s.BottleneckNew, s.Bottleneck, None, status=201, errors=CREATE_ERRORS,
           body_description="The bottleneck."),
    _write("update_bottleneck", "patch", "/bottlenecks/{bottleneck_id}",
           "Change an open bottleneck's details", "bottlenecks", s.BottleneckEdit, s.Bottleneck,
           BID),
    _write("escalate_bottleneck", "post", "/bottlenecks/{bottleneck_id}/escalate",
           "Escalate an open bottleneck to the Secretary", "bottlenecks", s.BottleneckNote,
           s.Bottleneck, BID, body_required=False,
           body_description="An optional note and version."),
    _write("resolve_bottleneck", "post", "/bottlenecks/{bottleneck_id}/resolve",
           "Resolve a bottleneck with a note saying how", "bottlenecks", s.BottleneckNote,
           s.Bottleneck, BID, body_required=False,
           body_description="The note (required) and an optional version."),
    _write("update_service", "patch", "/services/{service_id}",
           "Change one of your department's services", "services", s.ServiceEdit, s.Service,
           _path_id("service_id")),
    _write("update_website", "patch", "/websites/{website_id}",
           "Change one of your department's websites or apps", "websites", s.WebsiteEdit,
           s.Website, _path_id("website_id")),
    Route("api.milestone_dependencies", "get", "/milestones/{milestone_id}/dependencies",
          "What the milestone waits for and what waits for it", "milestones", s.Dependencies,
          params=(MID,)),
    Route("api.add_milestone_dependency", "post", "/milestones/{milestone_id}/dependencies",
          "Make the milestone wait for another (finish-to-start); a cycle is refused with its "
          "members named", "milestones", s.Dependencies, request=s.DependencyNew, status=201,
          errors=CREATE_ERRORS, params=(MID,), body_description="The predecessor's code."),
    Route("api.remove_milestone_dependency", "delete",
          "/milestones/{milestone_id}/dependencies/{predecessor_id}",
          "The milestone no longer waits for that one", "milestones", s.Dependencies,
          errors=(400, 401, 403, 404, 429), params=(MID, _path_id("predecessor_id"))),
    _write("update_action_item", "patch", "/action-items/{item_id}",
           "Report action taken on one of your department's action items", "meetings",
           s.ActionItemEdit, s.ActionItem, _path_id("item_id"),
           body_description="Status, closing note (required to close), and the version."),
)

BY_ENDPOINT = {(route.endpoint, route.method): route for route in ROUTES}
PUBLIC_ENDPOINTS = frozenset(route.endpoint for route in ROUTES if route.public)


def request_model():
    """The request model of the route serving this request (what the write validates with)."""
    return BY_ENDPOINT[(request.endpoint, request.method.lower())].request


def read_body(body):
    """This request's ``body`` checked by its route's request model (422 naming each fault)."""
    return s.validate(request_model(), body)


# --- The document -------------------------------------------------------------------------


def _errors(codes):
    result = {}
    for code in codes:
        result[str(code)] = {"description": ERRORS[code], "content": {"application/json": {
            "schema": _ref("Conflict" if code == 409 else "Error")}}}
        if code == 429:
            result[str(code)]["headers"] = RETRY_AFTER
    return result


def _operation(route):
    ok = {"description": "Created" if route.status == 201 else "OK",
          "content": {"application/json": {"schema": _ref(route.response.__name__)}}}
    if route.etag:
        ok["headers"] = ETAG_HEADER
    op = {"summary": route.summary, "tags": [route.tag], "operationId": route.endpoint[4:],
          "parameters": list(route.params),
          "responses": {str(route.status): ok, **_errors(route.errors)}}
    if route.request is not None:
        op["requestBody"] = {"required": route.body_required,
                             "description": route.body_description,
                             "content": {"application/json": {"schema": _ref(route.request.__name__)}}}
    if route.public:
        op["security"] = []
    return op


class _JsonSchema(GenerateJsonSchema):
    """Plain JSON Schema: no generated titles on properties, no ``default`` (a field left out
    of an update keeps the record's value, which no default in the schema can say)."""

    def field_title_should_be_set(self, schema):
        return False

    def default_schema(self, schema):
        return self.generate_inner(schema["schema"])


@cache
def components():
    """Every model's JSON Schema, by name: request bodies, responses and errors (made once:
    the models are code)."""
    models = {s.Error, s.Conflict}
    for route in ROUTES:
        models.add(route.response)
        if route.request is not None:
            models.add(route.request)
    _, top = models_json_schema([(model, "validation") for model in sorted(models, key=_name)],
                                ref_template=REF, schema_generator=_JsonSchema)
    return dict(sorted(top["$defs"].items()))


def _name(model):
    return model.__name__


def spec():
    paths = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Roadmap Tracker API",
            "version": "1.0.0",
            "description": (
                "Read and report progress on the digital-integration roadmap. Authenticate with "
                "a personal token from your profile page: `Authorization: Bearer <token>`. "
                "The token acts with exactly its user's role and department. Updates name the "
                "version they read (`If-Match` with the ETag, or a `version` field); a stale "
                "version gets 409 with the current record. Dates are ISO 8601."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": deepcopy(components()),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
