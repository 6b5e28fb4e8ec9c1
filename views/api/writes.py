"""Writes of /api/v1: the same operations, permissions and audit log as the pages.

An update names the version it read, by ``If-Match: W/"<version>"`` (the ETag of the read)
or a ``version`` field; without either it is refused (428), and a stale one gets 409 with
the current record.
"""
import re

from flask import jsonify, request, url_for
from flask_login import current_user

from models import Bottleneck, Department, Milestone
from tracker import clock
from tracker.extensions import db
from tracker.operations import bottlenecks as bottleneck_ops
from tracker.operations import dependencies as dependency_ops
from tracker.operations.milestones import record_milestone_update
from tracker.permissions import authorize
from views.api.blueprint import bp
from views.api.errors import ApiError
from views.api.helpers import json_body
from views.api.openapi import read_body, request_model
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
    sent = read_body(body).sent()
    with write(Milestone):
        record_milestone_update(
            milestone, current_user, expected_version=version,
            status=sent.get("status") or milestone.status,
            percent_complete=(sent["percent_complete"] if sent.get("percent_complete") is not None
                              else milestone.percent_complete),
            note=sent.get("note") or "", due_date=sent.get("due_date"),
            reason=sent.get("reason"), completed_on=sent.get("completed_on"),
            today=clock.today(),
        )
    return record_response(milestone)


@bp.post("/bottlenecks")
def create_bottleneck():
    body = json_body()
    values = read_body(body).sent()
    code, milestone_id = values.pop("department"), values.pop("milestone_id", None)
    values.update(description=values.get("description") or "",
                  action_by=values.get("action_by") or "")
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
    values = read_body(body).sent()
    with write(Bottleneck):
        bottleneck_ops.edit_bottleneck(bottleneck, current_user, expected_version=version,
                                       today=clock.today(), **values)
    return record_response(bottleneck)


def _bottleneck_action(bottleneck_id, action, apply):
    bottleneck = _get_visible(Bottleneck, bottleneck_id)
    authorize(action, bottleneck)
    body = json_body() if request.get_data() else {}
    checked = read_body(body)
    version = expected_version(body) if "If-Match" in request.headers else checked.version
    with write(Bottleneck):
        apply(bottleneck, checked.note or "", version)
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


def _register_update(model, ident, action, operation, **extra):
    record = _get_visible(model, ident)
    authorize(action, record)
    body = json_body()
    version = expected_version(body)
    values = {name: getattr(record, name) for name in request_model().model_fields
              if name != "version"}
    values.update(read_body(body).sent())
    with write(model):
        operation(record, current_user, expected_version=version, values=values, **extra)
    return record_response(record)


@bp.patch("/services/<int:service_id>")
def update_service(service_id):
    from models import Service
    from tracker.operations import services as service_ops

    service = _get_visible(Service, service_id)
    linked = service_ops.linked_milestone(service)
    return _register_update(Service, service_id, "edit_service",
                            service_ops.update, milestone_code=linked.code if linked else None)


@bp.patch("/websites/<int:website_id>")
def update_website(website_id):
    from models import DigitalAsset
    from tracker.operations import websites as website_ops

    return _register_update(DigitalAsset, website_id, "edit_asset",
                            website_ops.update)


@bp.patch("/action-items/<int:item_id>")
def update_action_item(item_id):
    from models import ActionItem
    from tracker.operations import meetings as meeting_ops

    item = _get_visible(ActionItem, item_id)
    authorize("update_action_item", item)
    body = json_body()
    version = expected_version(body)
    sent = read_body(body).sent()
    status = sent.get("status") or item.status
    with write(ActionItem):
        meeting_ops.update_action_item(item, current_user, status=status,
                                       closing_note=sent.get("closing_note", item.closing_note),
                                       expected_version=version)
    return record_response(item)


# --- Dependencies between milestones --------------------------------------------------------


def _dependency_json(m, department_name):
    return {"id": m.id, "code": m.code, "title": m.title, "department": department_name,
            "status": m.status, "due_date": m.due_date.isoformat()}


def _dependencies_body(milestone):
    preds, succs, left_off = dependency_ops.neighbours(milestone.id)
    return {"milestone_id": milestone.id,
            "predecessors": [_dependency_json(*row) for row in preds],
            "successors": [_dependency_json(*row) for row in succs],
            "left_off": left_off}


@bp.get("/milestones/<int:milestone_id>/dependencies")
def milestone_dependencies(milestone_id):
    """What the milestone waits for and what waits for it (finish-to-start)."""
    return jsonify(_dependencies_body(_get_visible(Milestone, milestone_id)))


@bp.post("/milestones/<int:milestone_id>/dependencies")
def add_milestone_dependency(milestone_id):
    """The milestone waits for another, named by ``predecessor`` (its code, or
    ``DEPARTMENT:CODE``). A cycle is refused (422) with its members named in order."""
    milestone = _get_visible(Milestone, milestone_id)
    authorize("update_milestone", milestone)
    code = read_body(json_body()).predecessor
    with write(Milestone):
        predecessor = dependency_ops.resolve_code(code, milestone)
        dependency_ops.add_dependency(milestone, current_user, predecessor=predecessor)
    response = jsonify(_dependencies_body(milestone))
    response.status_code = 201
    return response


@bp.delete("/milestones/<int:milestone_id>/dependencies/<int:predecessor_id>")
def remove_milestone_dependency(milestone_id, predecessor_id):
    milestone = _get_visible(Milestone, milestone_id)
    authorize("update_milestone", milestone)
    with write(Milestone):
        if dependency_ops.remove_dependency(milestone, current_user,
                                            predecessor_id=predecessor_id) is None:
            raise ApiError(404, "The milestone does not wait for that milestone.")
    return jsonify(_dependencies_body(milestone))
