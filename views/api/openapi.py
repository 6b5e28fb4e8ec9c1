"""The OpenAPI 3.1 description of /api/v1, written beside the code it describes.

``tests/api/test_openapi.py`` checks it against the routes (every route described, every
description routed) and validates real responses against its schemas.
"""
from models.bottleneck import BOTTLENECK_CATEGORIES, BOTTLENECK_STATUSES, SEVERITIES
from models.digital_asset import ASSET_KINDS, HOSTS
from models.flag import ESCALATION_LEVELS, FLAG_KINDS, FLAG_SEVERITIES
from models.meeting import ACTION_ITEM_STATUSES, AGENDA_KINDS, MEETING_STATUSES
from models.milestone import MILESTONE_CATEGORIES, MILESTONE_STATUSES, REVISION_REASONS
from models.action_plan import PLAN_STATUSES
from models.service import DELIVERY_MODES
from tracker import rules


def _s(type_, nullable=False, **kw):
    schema = {"type": [type_, "null"] if nullable else type_}
    schema.update(kw)
    return schema


def _enum(values, nullable=False):
    values = list(values)
    if nullable:
        return {"type": ["string", "null"], "enum": values + [None]}
    return {"type": "string", "enum": values}


STR, INT, BOOL = _s("string"), _s("integer"), _s("boolean")
DATE = _s("string", format="date")
DATE_N = _s("string", nullable=True, format="date")
DATETIME_N = _s("string", nullable=True, format="date-time")
STR_N, INT_N, BOOL_N = _s("string", True), _s("integer", True), _s("boolean", True)


def _obj(props, required=None):
    return {"type": "object", "properties": props,
            "required": list(required if required is not None else props),
            "additionalProperties": False}


SCHEMAS = {
    "Error": _obj({"error": _obj({"code": STR, "message": STR,
                                   "fields": {"type": "object",
                                              "additionalProperties": {"type": "string"}}})},
                  ),
    # A 409 answers with the error and the record as it is now.
    "Conflict": _obj({"error": _obj({"code": STR, "message": STR,
                                     "fields": {"type": "object",
                                                "additionalProperties": {"type": "string"}}}),
                      "current": {"type": "object"}}),
    "Department": _obj({"id": INT, "code": STR, "name": STR, "psga_covered": BOOL,
                        "active": BOOL}),
    "Plan": _obj({"id": INT, "department": STR, "title": STR, "status": _enum(PLAN_STATUSES),
                  "version": INT, "submitted_at": DATETIME_N, "reviewed_at": DATETIME_N,
                  "review_comment": STR_N}),
    "Milestone": _obj({
        "id": INT, "code": STR, "department": STR, "plan_id": INT, "title": STR,
        "description": STR, "category": _enum(MILESTONE_CATEGORIES), "owner": STR,
        "start_date": DATE_N, "baseline_due": DATE_N, "due_date": DATE, "completed_on": DATE_N,
        "status": _enum(MILESTONE_STATUSES), "percent_complete": _s("integer", minimum=0, maximum=100),
        "health": _enum(rules.HEALTHS), "days_slipped": _s("integer", minimum=0),
        "service_id": INT_N, "updated_at": DATETIME_N, "version": INT}),
    "MilestoneUpdate": _obj({
        "id": INT, "at": DATETIME_N, "by": STR_N, "status_from": STR_N, "status_to": STR_N,
        "percent_from": INT_N, "percent_to": INT_N, "due_from": DATE_N, "due_to": DATE_N,
        "reason": _enum(REVISION_REASONS, nullable=True), "note": STR}),
    "Bottleneck": _obj({
        "id": INT, "department": STR, "milestone_id": INT_N, "title": STR, "description": STR,
        "category": _enum(BOTTLENECK_CATEGORIES), "severity": _enum(SEVERITIES),
        "status": _enum(BOTTLENECK_STATUSES), "raised_on": DATE, "action_by": STR,
        "target_date": DATE_N, "escalated_at": DATETIME_N, "resolution_note": STR_N,
        "resolved_on": DATE_N, "age_days": INT, "age_bucket": _enum(rules.AGE_BUCKETS),
        "past_sla": BOOL, "version": INT}),
    "Flag": _obj({
        "id": INT, "kind": _enum(FLAG_KINDS), "subject_type": STR, "subject_id": INT,
        "department": STR_N, "severity": _enum(FLAG_SEVERITIES),
        "escalation": _enum(ESCALATION_LEVELS), "raised_at": DATETIME_N,
        "details": {"type": "object"}}),
    "Service": _obj({
        "id": INT, "department": STR, "name": STR, "psga_notified": BOOL,
        "time_limit_days": INT_N, "designated_officer": STR,
        "delivery_mode": _enum(DELIVERY_MODES), "url": STR_N, "target_date": DATE_N,
        "version": INT}),
    "Website": _obj({
        "id": INT, "department": STR, "name": STR, "kind": _enum(ASSET_KINDS), "url": STR,
        "hosted_by": _enum(HOSTS), "last_content_update": DATE_N, "audit_valid_until": DATE_N,
        "accessibility_audit_on": DATE_N, "https": BOOL, "portal_integrated": BOOL,
        "last_check_at": DATETIME_N, "last_check_ok": BOOL_N, "version": INT}),
    "Meeting": _obj({"id": INT, "title": STR, "date": DATE, "venue": STR, "chair": STR,
                     "status": _enum(MEETING_STATUSES)}),
    "DependencyMilestone": _obj({
        "id": INT, "code": STR, "title": STR, "department": STR,
        "status": _enum(MILESTONE_STATUSES), "due_date": DATE}),
    "Dependencies": _obj({
        "milestone_id": INT,
        "predecessors": {"type": "array", "items": {"$ref": "#/components/schemas/DependencyMilestone"}},
        "successors": {"type": "array", "items": {"$ref": "#/components/schemas/DependencyMilestone"}},
        "left_off": _s("integer", minimum=0)}),
    "ActionItem": _obj({
        "id": INT, "meeting_id": INT, "text": STR, "department": STR,
        "responsible_officer": STR, "due_date": DATE, "status": _enum(ACTION_ITEM_STATUSES),
        "closing_note": STR_N, "version": INT}),
}


def _extend(base, **props):
    return _obj({**SCHEMAS[base]["properties"], **props})


SCHEMAS["PlanDetail"] = _extend("Plan", versions={"type": "array", "items": _obj({
    "number": INT, "submitted_at": DATETIME_N,
    "outcome": _enum(("approved", "returned"), nullable=True),
    "reviewed_at": DATETIME_N, "review_comment": STR_N})})
SCHEMAS["MeetingDetail"] = _extend(
    "Meeting",
    agenda={"type": "array", "items": _obj({"position": INT, "kind": _enum(AGENDA_KINDS),
                                            "title": STR, "minutes": STR})},
    action_items={"type": "array", "items": {"$ref": "#/components/schemas/ActionItem"}},
)


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _page(name):
    return _obj({"items": {"type": "array", "items": _ref(name)}, "page": INT, "per_page": INT,
                 "total": INT})


ERRORS = {
    "400": "The request is malformed: invalid JSON, or a NUL character in a parameter.",
    "401": "No token, or a bad or revoked one.",
    "403": "The token's user may not do this.",
    "404": "No such record, or not the token user's to see.",
    "409": "The record changed since the version named; `current` holds the current record.",
    "412": "If-Match is not an ETag of this API.",
    "413": "The request is too large.",
    "415": "The body is not JSON.",
    "422": "Validation failed; `fields` names each problem.",
    "428": "The update does not name the version it read.",
    "429": "Too many requests.",
}


ETAG_HEADER = {"ETag": {"description": 'The record\'s version as a weak ETag, `W/"<version>"`: '
                                       "send it back in If-Match to update the record.",
                        "schema": _s("string", pattern='^W/"[0-9]+"$')}}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": _s("integer", minimum=1)}}


def _errors(*codes):
    result = {}
    for code in codes:
        result[code] = {"description": ERRORS[code], "content": {"application/json": {
            "schema": _ref("Conflict" if code == "409" else "Error")}}}
        if code == "429":
            result[code]["headers"] = RETRY_AFTER
    return result


def _json(schema, description="OK", etag=False):
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if etag:
        response["headers"] = ETAG_HEADER
    return response


def _q(name, schema, description):
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


PAGING = [
    _q("page", _s("integer", minimum=1, maximum=1_000_000), "Page number, from 1."),
    _q("per_page", _s("integer", minimum=1, maximum=200), "Items per page (default 50)."),
]
# Text parameters never carry a NUL character (refused with 400: no database stores one).
TEXT = _s("string", pattern="^[^\\x00]*$")
DEPARTMENT_Q = _q("department", TEXT, "Department code.")


def _path_id(name):
    return {"name": name, "in": "path", "required": True,
            "schema": _s("integer", minimum=1, maximum=2**31 - 1)}


def _list(summary, schema_name, tag, extra_params=()):
    return {"get": {"summary": summary, "tags": [tag],
                    "parameters": PAGING + list(extra_params),
                    "responses": {"200": _json(_page(schema_name)), **_errors("400", "401", "422", "429")}}}


def _read(summary, schema_name, tag, param):
    etag = "ETag" in summary
    return {"get": {"summary": summary, "tags": [tag], "parameters": [param],
                    "responses": {"200": _json(_ref(schema_name), etag=etag),
                                  **_errors("400", "401", "404", "422", "429")}}}


def paths():
    return {
        "/departments": _list("Departments the token's user may see", "Department", "departments"),
        "/departments/{code}": _read("One department", "Department", "departments",
                                     {"name": "code", "in": "path", "required": True,
                                      "schema": TEXT}),
        "/plans": _list("Action plans", "Plan", "plans", [DEPARTMENT_Q]),
        "/plans/{plan_id}": _read("One action plan with its versions", "PlanDetail", "plans",
                                  _path_id("plan_id")),
        "/milestones": _list("Milestones, filtered", "Milestone", "milestones", [
            DEPARTMENT_Q,
            _q("status", _enum(MILESTONE_STATUSES), "Status."),
            _q("category", _enum(MILESTONE_CATEGORIES), "Category."),
            _q("health", _enum(rules.HEALTHS), "Health as the rules decide it today."),
            _q("due_before", _s("string", format="date"), "Due strictly before this date."),
            _q("due_after", _s("string", format="date"), "Due strictly after this date."),
        ]),
        "/milestones/{milestone_id}": _read("One milestone (ETag: its version)", "Milestone",
                                            "milestones", _path_id("milestone_id")),
        "/milestones/{milestone_id}/history": {"get": {
            "summary": "The milestone's history, newest first", "tags": ["milestones"],
            "parameters": [_path_id("milestone_id")] + PAGING,
            "responses": {"200": _json(_page("MilestoneUpdate")),
                          **_errors("400", "401", "404", "422", "429")}}},
        "/bottlenecks": _list("Bottlenecks, filtered", "Bottleneck", "bottlenecks", [
            DEPARTMENT_Q,
            _q("status", _enum(BOTTLENECK_STATUSES), "Status."),
            _q("severity", _enum(SEVERITIES), "Severity."),
            _q("category", _enum(BOTTLENECK_CATEGORIES), "Category."),
            _q("age_bucket", _enum(rules.AGE_BUCKETS), "Age bucket in days."),
        ]),
        "/bottlenecks/{bottleneck_id}": _read("One bottleneck (ETag: its version)", "Bottleneck", "bottlenecks",
                                              _path_id("bottleneck_id")),
        "/flags": _list("Open flags", "Flag", "flags", [
            DEPARTMENT_Q,
            _q("kind", _enum(FLAG_KINDS), "Kind of flag."),
            _q("escalation", _enum(ESCALATION_LEVELS), "Who the flag has reached."),
        ]),
        "/services": _list("Public services", "Service", "services", [DEPARTMENT_Q]),
        "/services/{service_id}": _read("One service (ETag: its version)", "Service", "services",
                                        _path_id("service_id")),
        "/websites/{website_id}": _read("One website or app (ETag: its version)", "Website",
                                        "websites", _path_id("website_id")),
        "/websites": _list("Websites and apps", "Website", "websites", [DEPARTMENT_Q]),
        "/meetings": _list("Review meetings, newest first", "Meeting", "meetings"),
        "/meetings/{meeting_id}": _read("One meeting with agenda and decisions", "MeetingDetail",
                                        "meetings", _path_id("meeting_id")),
        "/action-items": _list("Action items of meetings", "ActionItem", "meetings", [
            DEPARTMENT_Q, _q("status", _enum(ACTION_ITEM_STATUSES), "Status.")]),
        "/action-items/{item_id}": _read("One action item (ETag: its version)", "ActionItem", "meetings",
                                         _path_id("item_id")),
    }


def _body(schema, description):
    return {"required": True, "description": description,
            "content": {"application/json": {"schema": schema}}}


def _write(method, summary, tag, params, body, ok_status, ok_schema, errors, body_required=True):
    op = {"summary": summary, "tags": [tag], "parameters": params,
          "responses": {ok_status: _json(_ref(ok_schema), etag=True), **_errors(*errors)}}
    if body is not None:
        op["requestBody"] = body
        op["requestBody"]["required"] = body_required
    return {method: op}


IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "schema": _s("string", pattern='^(W/)?"[0-9]+"$'),
            "description": "The ETag of the record as read (or send a `version` field)."}
WRITE_ERRORS = ("400", "401", "403", "404", "409", "412", "413", "415", "422", "428", "429")
NOTE = _s("string", maxLength=5000)
VERSION = _s("integer", minimum=1)
MILESTONE_UPDATE = {"type": "object", "additionalProperties": False, "properties": {
    "version": VERSION, "status": _enum(MILESTONE_STATUSES),
    "percent_complete": _s("integer", minimum=0, maximum=100), "note": NOTE,
    "due_date": _s("string", format="date"), "reason": _enum(REVISION_REASONS),
    "completed_on": _s("string", format="date")}}
BOTTLENECK_NEW = {"type": "object", "additionalProperties": False,
                  "required": ["department", "title", "category", "severity"], "properties": {
                      "department": TEXT, "milestone_id": _s("integer", minimum=1),
                      "title": _s("string", minLength=1, maxLength=300, pattern="^[^\\x00]*$"),
                      "description": _s("string", maxLength=10000),
                      "category": _enum(BOTTLENECK_CATEGORIES), "severity": _enum(SEVERITIES),
                      "action_by": _s("string", maxLength=200),
                      "target_date": _s("string", format="date")}}
BOTTLENECK_EDIT = {"type": "object", "additionalProperties": False, "properties": {
    "version": VERSION, "title": _s("string", minLength=1, maxLength=300),
    "description": _s("string", maxLength=10000), "category": _enum(BOTTLENECK_CATEGORIES),
    "severity": _enum(SEVERITIES), "action_by": _s("string", maxLength=200),
    "target_date": _s("string", format="date")}}
BOTTLENECK_ACTION = {"type": "object", "additionalProperties": False,
                     "properties": {"version": VERSION, "note": NOTE}}


def write_paths():
    mid, bid = _path_id("milestone_id"), _path_id("bottleneck_id")
    return {
        "/milestones/{milestone_id}": _write(
            "patch", "Record progress: status, percent, note; a due date with a reason",
            "milestones", [mid, IF_MATCH],
            _body(MILESTONE_UPDATE, "The changes, and the `version` read (or If-Match)."),
            "200", "Milestone", WRITE_ERRORS),
        "/bottlenecks": _write(
            "post", "Raise a bottleneck on a department or one of its milestones",
            "bottlenecks", [], _body(BOTTLENECK_NEW, "The bottleneck."), "201", "Bottleneck",
            ("400", "401", "403", "404", "413", "415", "422", "429")),
        "/bottlenecks/{bottleneck_id}": _write(
            "patch", "Change an open bottleneck's details", "bottlenecks", [bid, IF_MATCH],
            _body(BOTTLENECK_EDIT, "The changed fields and the `version` read (or If-Match)."),
            "200", "Bottleneck", WRITE_ERRORS),
        "/bottlenecks/{bottleneck_id}/escalate": _write(
            "post", "Escalate an open bottleneck to the Secretary", "bottlenecks", [bid, IF_MATCH],
            _body(BOTTLENECK_ACTION, "An optional note and version."), "200", "Bottleneck",
            WRITE_ERRORS, body_required=False),
        "/bottlenecks/{bottleneck_id}/resolve": _write(
            "post", "Resolve a bottleneck with a note saying how", "bottlenecks", [bid, IF_MATCH],
            _body(BOTTLENECK_ACTION, "The note (required) and an optional version."), "200",
            "Bottleneck", WRITE_ERRORS, body_required=False),
    }


SERVICE_EDIT = {"type": "object", "additionalProperties": False, "properties": {
    "version": VERSION, "name": _s("string", minLength=1, maxLength=300),
    "psga_notified": BOOL, "time_limit_days": _s("integer", nullable=True, minimum=1, maximum=365),
    "designated_officer": _s("string", maxLength=200), "delivery_mode": _enum(DELIVERY_MODES),
    "url": _s("string", nullable=True, maxLength=500),
    "target_date": _s("string", nullable=True, format="date")}}
WEBSITE_EDIT = {"type": "object", "additionalProperties": False, "properties": {
    "version": VERSION, "name": _s("string", minLength=1, maxLength=200),
    "kind": _enum(ASSET_KINDS), "url": _s("string", minLength=1, maxLength=500),
    "hosted_by": _enum(HOSTS),
    "last_content_update": _s("string", nullable=True, format="date"),
    "audit_valid_until": _s("string", nullable=True, format="date"),
    "accessibility_audit_on": _s("string", nullable=True, format="date"),
    "https": BOOL, "portal_integrated": BOOL}}
DEPENDENCY_NEW = {"type": "object", "additionalProperties": False, "required": ["predecessor"],
                  "properties": {"predecessor": _s("string", minLength=1, maxLength=62,
                                                   pattern="^[^\\x00]*$")}}
ACTION_ITEM_EDIT = {"type": "object", "additionalProperties": False, "properties": {
    "version": VERSION, "status": _enum(ACTION_ITEM_STATUSES),
    "closing_note": _s("string", maxLength=5000)}}


def register_write_paths():
    return {
        "/services/{service_id}": _write(
            "patch", "Change one of your department's services", "services",
            [_path_id("service_id"), IF_MATCH],
            _body(SERVICE_EDIT, "The changed fields and the `version` read (or If-Match)."),
            "200", "Service", WRITE_ERRORS),
        "/websites/{website_id}": _write(
            "patch", "Change one of your department's websites or apps", "websites",
            [_path_id("website_id"), IF_MATCH],
            _body(WEBSITE_EDIT, "The changed fields and the `version` read (or If-Match)."),
            "200", "Website", WRITE_ERRORS),
        "/milestones/{milestone_id}/dependencies": {
            **_read("What the milestone waits for and what waits for it", "Dependencies",
                    "milestones", _path_id("milestone_id")),
            **_write("post", "Make the milestone wait for another (finish-to-start); a cycle "
                     "is refused with its members named", "milestones",
                     [_path_id("milestone_id")], _body(DEPENDENCY_NEW, "The predecessor's code."),
                     "201", "Dependencies", ("400", "401", "403", "404", "413", "415", "422",
                                             "429"))},
        "/milestones/{milestone_id}/dependencies/{predecessor_id}": {
            "delete": {"summary": "The milestone no longer waits for that one",
                       "tags": ["milestones"],
                       "parameters": [_path_id("milestone_id"), _path_id("predecessor_id")],
                       "responses": {"200": _json(_ref("Dependencies")),
                                     **_errors("400", "401", "403", "404", "429")}}},
        "/action-items/{item_id}": _write(
            "patch", "Report action taken on one of your department's action items", "meetings",
            [_path_id("item_id"), IF_MATCH],
            _body(ACTION_ITEM_EDIT, "Status, closing note (required to close), and the version."),
            "200", "ActionItem", WRITE_ERRORS),
    }


def all_paths():
    result = paths()
    for path, ops in {**write_paths(), **register_write_paths()}.items():
        result.setdefault(path, {}).update(ops)
    return result


def spec():
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
        "paths": all_paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
