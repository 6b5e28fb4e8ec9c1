"""Writes of /api/v1: the same operations, permissions and audit log as the pages.

An update names the version it read, by ``If-Match: W/"<version>"`` (the ETag of the read)
or a ``version`` field; without either it is refused (428), and a stale one gets 409 with
the current record.
"""
import re
from datetime import date

from flask import request, url_for
from flask_login import current_user

from models import Bottleneck, Department, Milestone
from tracker import clock
from tracker.extensions import db
from tracker.operations import bottlenecks as bottleneck_ops
from tracker.operations.milestones import record_milestone_update
from tracker.permissions import authorize
from tracker.text import hidden_character
from views.api import ApiError, bp
from views.api.helpers import json_body
from views.api.resources import _get_visible, record_response
from views.unit_of_work import unit_of_work

_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def expected_version(body):
    """The version the client read: If-Match or the body's ``version``."""
    header = request.headers.get("If-Match")
    if header:
        match = _ETAG.match(header.strip())
        if not match:
            raise ApiError(412, "If-Match must be the ETag of the record you read.")
        return int(match.group(1))
    version = body.get("version")
    if version is None:
        raise ApiError(428, "Name the version you read: If-Match header or a 'version' field.",
                       {"version": "Required."})
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(422, "Validation failed.", {"version": "Must be a whole number."})
    return version


class Fields:
    """Typed reading of a JSON body, collecting every error before answering 422."""

    MULTILINE = {"note", "description", "closing_note", "reason"}

    def __init__(self, body, allowed):
        self.body = body
        self.errors = {}
        for name in set(body) - set(allowed) - {"version"}:
            self.errors[name] = "Unknown field."

    def text(self, name, required=False, max_length=None):
        value = self.body.get(name)
        if value is None:
            if required:
                self.errors[name] = "Required."
            return None
        if not isinstance(value, str):
            self.errors[name] = "Must be text."
            return None
        if max_length and len(value) > max_length:
            self.errors[name] = f"Use at most {max_length} characters."
        hidden = hidden_character(value, multiline=name in self.MULTILINE)
        if hidden:
            self.errors[name] = f"Contains a hidden control character ({hidden}); remove it."
        return value

    def integer(self, name):
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.errors[name] = "Must be a whole number."
            return None
        return value

    def day(self, name):
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.errors[name] = "Must be a date as text, YYYY-MM-DD."
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
        self.errors[name] = "Use a date as YYYY-MM-DD."
        return None

    def check(self):
        if self.errors:
            raise ApiError(422, "Validation failed.", self.errors)


def write(model):
    """The API's unit of work: commit, or roll back and answer 422 with each field's
    messages, or 409 with the current record (of ``model``) in ``current``."""

    def invalid(error):
        fields = {("record" if k == "_" else k): " ".join(v) for k, v in error.errors.items()}
        raise ApiError(422, "Validation failed.", fields)

    def conflict(error):
        current = db.session.get(model, error.record_id)
        body = record_response(current).get_json()
        raise ApiError(409, "The record changed since the version you read; "
                            "the current one is in 'current'.", extra={"current": body})

    return unit_of_work(invalid=invalid, conflict=conflict)


@bp.patch("/milestones/<int:milestone_id>")
def update_milestone(milestone_id):
    milestone = _get_visible(Milestone, milestone_id)
    authorize("update_milestone", milestone)
    body = json_body()
    version = expected_version(body)
    f = Fields(body, {"status", "percent_complete", "note", "due_date", "reason", "completed_on"})
    status = f.text("status")
    percent = f.integer("percent_complete")
    note = f.text("note", max_length=5000)
    due_date = f.day("due_date")
    reason = f.text("reason")
    completed_on = f.day("completed_on")
    f.check()
    with write(Milestone):
        record_milestone_update(
            milestone, current_user, expected_version=version,
            status=status if status is not None else milestone.status,
            percent_complete=percent if percent is not None else milestone.percent_complete,
            note=note or "", due_date=due_date, reason=reason, completed_on=completed_on,
            today=clock.today(),
        )
    return record_response(milestone)


BOTTLENECK_FIELDS = {"department", "milestone_id", "title", "description", "category",
                     "severity", "action_by", "target_date"}


@bp.post("/bottlenecks")
def create_bottleneck():
    body = json_body()
    f = Fields(body, BOTTLENECK_FIELDS)
    code = f.text("department", required=True)
    milestone_id = f.integer("milestone_id")
    values = {
        "title": f.text("title", required=True, max_length=300),
        "description": f.text("description", max_length=10000) or "",
        "category": f.text("category", required=True),
        "severity": f.text("severity", required=True),
        "action_by": f.text("action_by", max_length=200) or "",
        "target_date": f.day("target_date"),
    }
    f.check()
    department = db.session.execute(db.select(Department).filter_by(code=code)).scalar()
    if department is None:
        raise ApiError(422, "Validation failed.", {"department": "No department has this code."})
    milestone = None
    if milestone_id is not None:
        milestone = _get_visible(Milestone, milestone_id)
    authorize("raise_bottleneck", department)
    with write(Bottleneck):
        bottleneck = bottleneck_ops.raise_bottleneck(department, current_user,
                                                     milestone=milestone, today=clock.today(),
                                                     **values)
    response = record_response(bottleneck, status=201)
    response.headers["Location"] = url_for("api.bottleneck", bottleneck_id=bottleneck.id)
    return response


@bp.patch("/bottlenecks/<int:bottleneck_id>")
def update_bottleneck(bottleneck_id):
    bottleneck = _get_visible(Bottleneck, bottleneck_id)
    authorize("update_bottleneck", bottleneck)
    body = json_body()
    version = expected_version(body)
    f = Fields(body, set(bottleneck_ops.EDITABLE))
    readers = {"title": lambda n: f.text(n, max_length=300),
               "description": lambda n: f.text(n, max_length=10000),
               "category": f.text, "severity": f.text,
               "action_by": lambda n: f.text(n, max_length=200), "target_date": f.day}
    values = {name: readers[name](name) for name in bottleneck_ops.EDITABLE if name in body}
    f.check()
    with write(Bottleneck):
        bottleneck_ops.edit_bottleneck(bottleneck, current_user, expected_version=version,
                                       today=clock.today(), **values)
    return record_response(bottleneck)


def _bottleneck_action(bottleneck_id, action, apply):
    bottleneck = _get_visible(Bottleneck, bottleneck_id)
    authorize(action, bottleneck)
    body = json_body() if request.get_data() else {}
    version = body.get("version") if "If-Match" not in request.headers else expected_version(body)
    f = Fields(body, {"note"})
    note = f.text("note", max_length=5000)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        f.errors["version"] = "Must be a whole number."
    f.check()
    with write(Bottleneck):
        apply(bottleneck, note or "", version)
    return record_response(bottleneck)


@bp.post("/bottlenecks/<int:bottleneck_id>/escalate")
def escalate_bottleneck(bottleneck_id):
    return _bottleneck_action(
        bottleneck_id, "escalate_bottleneck",
        lambda b, note, version: bottleneck_ops.escalate_bottleneck(
            b, current_user, note=note, expected_version=version))


@bp.post("/bottlenecks/<int:bottleneck_id>/resolve")
def resolve_bottleneck(bottleneck_id):
    return _bottleneck_action(
        bottleneck_id, "resolve_bottleneck",
        lambda b, note, version: bottleneck_ops.resolve_bottleneck(
            b, current_user, note=note, today=clock.today(), expected_version=version))


# --- Services, websites and action items: update own -------------------------------------


def _typed(f, name, kind):
    """Read one field of a known kind (text, bool, int, date; '?' suffix: may be null)."""
    nullable = kind.endswith("?")
    kind = kind.rstrip("?")
    value = f.body.get(name)
    if value is None:
        if not nullable:
            f.errors[name] = "Required (cannot be null)."
        return None
    if kind == "bool":
        if not isinstance(value, bool):
            f.errors[name] = "Must be true or false."
        return value
    return {"text": f.text, "int": f.integer, "date": f.day}[kind](name)


SERVICE_TYPES = {"name": "text", "psga_notified": "bool", "time_limit_days": "int?",
                 "designated_officer": "text", "delivery_mode": "text", "url": "text?",
                 "target_date": "date?"}
WEBSITE_TYPES = {"name": "text", "kind": "text", "url": "text", "hosted_by": "text",
                 "last_content_update": "date?", "audit_valid_until": "date?",
                 "accessibility_audit_on": "date?", "https": "bool", "portal_integrated": "bool"}


def _register_update(model, ident, action, types, operation, **extra):
    record = _get_visible(model, ident)
    authorize(action, record)
    body = json_body()
    version = expected_version(body)
    f = Fields(body, set(types))
    values = {name: getattr(record, name) for name in types}
    values.update({name: _typed(f, name, kind) for name, kind in types.items() if name in body})
    f.check()
    with write(model):
        operation(record, current_user, expected_version=version, values=values, **extra)
    return record_response(record)


@bp.patch("/services/<int:service_id>")
def update_service(service_id):
    from models import Service
    from tracker.operations import services as service_ops

    service = _get_visible(Service, service_id)
    linked = service_ops.linked_milestone(service)
    return _register_update(Service, service_id, "edit_service", SERVICE_TYPES,
                            service_ops.update, milestone_code=linked.code if linked else None)


@bp.patch("/websites/<int:website_id>")
def update_website(website_id):
    from models import DigitalAsset
    from tracker.operations import websites as website_ops

    return _register_update(DigitalAsset, website_id, "edit_asset", WEBSITE_TYPES,
                            website_ops.update)


@bp.patch("/action-items/<int:item_id>")
def update_action_item(item_id):
    from models import ActionItem
    from models.meeting import ACTION_ITEM_STATUSES
    from tracker.operations import meetings as meeting_ops

    item = _get_visible(ActionItem, item_id)
    authorize("update_action_item", item)
    body = json_body()
    version = expected_version(body)
    f = Fields(body, {"status", "closing_note"})
    status = f.text("status") or item.status
    note = f.text("closing_note", max_length=5000)
    if status not in ACTION_ITEM_STATUSES:
        f.errors["status"] = f"Use one of: {', '.join(ACTION_ITEM_STATUSES)}."
    f.check()
    with write(ActionItem):
        meeting_ops.update_action_item(item, current_user, status=status,
                                       closing_note=note if "closing_note" in body else item.closing_note,
                                       expected_version=version)
    return record_response(item)
