"""The resources of /api/v1. Reads here; writes call the same operations as the pages."""
import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user

from models import (
    ActionItem,
    ActionPlan,
    Bottleneck,
    Department,
    DigitalAsset,
    Flag,
    Milestone,
    MilestoneUpdate,
    ReviewMeeting,
    Service,
    User,
)
from models.bottleneck import BOTTLENECK_CATEGORIES, BOTTLENECK_STATUSES, SEVERITIES
from models.flag import ESCALATION_LEVELS, FLAG_KINDS
from models.meeting import ACTION_ITEM_STATUSES
from models.milestone import MILESTONE_CATEGORIES, MILESTONE_STATUSES
from tracker import clock, rules
from tracker.extensions import db
from tracker.permissions import can_read, visible_department_ids
from tracker.settings import thresholds
from views.api.blueprint import bp
from views.api.errors import ApiError
from views.api.helpers import MAX_ID, PAGED, arg_choice, arg_date, iso, paginate, query_args
from views.api.openapi import spec


def _scope(query, column):
    """Limit a query to the departments the token's user may read."""
    visible = visible_department_ids(current_user)
    return query if visible is None else query.where(column.in_(visible))


def _department_filter(query, column):
    code = arg_choice_free("department")
    if code is None:
        return query
    # An unknown code is a filter that matches nothing, like any other value.
    return query.where(column == sa.select(Department.id).filter_by(code=code).scalar_subquery())


def arg_choice_free(name):
    value = request.args.get(name)
    return value or None


def _get_visible(model, ident):
    record = db.session.get(model, ident) if 0 < ident <= MAX_ID else None
    if record is None or not can_read(current_user, record):
        raise ApiError(404, "There is no such record, or it is not yours to see.")
    return record


def _etag(record):
    return f'W/"{record.version}"'


# --- Departments and plans --------------------------------------------------------------


def department_json(d):
    return {"id": d.id, "code": d.code, "name": d.name, "psga_covered": d.psga_covered,
            "active": d.active}


@bp.get("/departments")
@query_args(*PAGED)
def departments():
    q = _scope(sa.select(Department).order_by(Department.code), Department.id)
    return jsonify(paginate(q, lambda row: department_json(row[0])))


@bp.get("/departments/<code>")
def department(code):
    d = db.session.execute(sa.select(Department).filter_by(code=code)).scalar()
    if d is None or not can_read(current_user, d):
        raise ApiError(404, "There is no such department, or it is not yours to see.")
    return jsonify(department_json(d))


def plan_json(p, code):
    return {"id": p.id, "department": code, "title": p.title, "status": p.status,
            "version": p.current_version, "submitted_at": iso(p.submitted_at),
            "reviewed_at": iso(p.reviewed_at), "review_comment": p.review_comment}


@bp.get("/plans")
@query_args(*PAGED, "department")
def plans():
    q = _scope(
        sa.select(ActionPlan, Department.code).join(Department).order_by(ActionPlan.id),
        ActionPlan.department_id,
    )
    q = _department_filter(q, ActionPlan.department_id)
    return jsonify(paginate(q, lambda row: plan_json(*row)))


@bp.get("/plans/<int:plan_id>")
def plan(plan_id):
    p = _get_visible(ActionPlan, plan_id)
    body = plan_json(p, p.department.code)
    body["versions"] = [
        {"number": v.number, "submitted_at": iso(v.submitted_at), "outcome": v.outcome,
         "reviewed_at": iso(v.reviewed_at), "review_comment": v.review_comment}
        for v in p.versions
    ]
    return jsonify(body)


# --- Milestones ---------------------------------------------------------------------------


def milestone_json(m, code, health, slipped):
    return {
        "id": m.id, "code": m.code, "department": code, "plan_id": m.plan_id, "title": m.title,
        "description": m.description, "category": m.category, "owner": m.owner,
        "start_date": iso(m.start_date), "baseline_due": iso(m.baseline_due),
        "due_date": iso(m.due_date), "completed_on": iso(m.completed_on), "status": m.status,
        "percent_complete": m.percent_complete, "health": health, "days_slipped": slipped,
        "service_id": m.service_id, "updated_at": iso(m.updated_at), "version": m.version,
    }


def _milestone_select(today, t):
    return sa.select(
        Milestone, Department.code, rules.health_sql(today, t).label("health"),
        rules.slipped_days_sql().label("slipped"),
    ).join(Department, Milestone.department_id == Department.id)


@bp.get("/milestones")
@query_args(*PAGED, "department", "status", "category", "health", "due_before", "due_after")
def milestones():
    today, t = clock.today(), thresholds()
    q = _scope(_milestone_select(today, t).order_by(Milestone.id), Milestone.department_id)
    q = _department_filter(q, Milestone.department_id)
    status = arg_choice("status", MILESTONE_STATUSES)
    if status:
        q = q.where(Milestone.status == status)
    category = arg_choice("category", MILESTONE_CATEGORIES)
    if category:
        q = q.where(Milestone.category == category)
    health = arg_choice("health", rules.HEALTHS)
    if health:
        q = q.where(rules.health_filter_sql(health, today, t))
    due_before, due_after = arg_date("due_before"), arg_date("due_after")
    if due_before:
        q = q.where(Milestone.due_date < due_before)
    if due_after:
        q = q.where(Milestone.due_date > due_after)
    return jsonify(paginate(q, lambda row: milestone_json(*row)))


@bp.get("/milestones/<int:milestone_id>")
def milestone(milestone_id):
    return record_response(_get_visible(Milestone, milestone_id))


def update_json(u, user_name):
    return {"id": u.id, "at": iso(u.at), "by": user_name, "status_from": u.status_from,
            "status_to": u.status_to, "percent_from": u.percent_from, "percent_to": u.percent_to,
            "due_from": iso(u.due_from), "due_to": iso(u.due_to), "reason": u.reason,
            "note": u.note}


@bp.get("/milestones/<int:milestone_id>/history")
@query_args(*PAGED)
def milestone_history(milestone_id):
    m = _get_visible(Milestone, milestone_id)
    q = (sa.select(MilestoneUpdate, User.name)
         .outerjoin(User, MilestoneUpdate.user_id == User.id)
         .where(MilestoneUpdate.milestone_id == m.id)
         .order_by(MilestoneUpdate.at.desc(), MilestoneUpdate.id.desc()))
    return jsonify(paginate(q, lambda row: update_json(*row)))


# --- Bottlenecks --------------------------------------------------------------------------


def bottleneck_json(b, code, age, bucket, past_sla):
    return {
        "id": b.id, "department": code, "milestone_id": b.milestone_id, "title": b.title,
        "description": b.description, "category": b.category, "severity": b.severity,
        "status": b.status, "raised_on": iso(b.raised_on), "action_by": b.action_by,
        "target_date": iso(b.target_date), "escalated_at": iso(b.escalated_at),
        "resolution_note": b.resolution_note, "resolved_on": iso(b.resolved_on),
        "age_days": age, "age_bucket": bucket, "past_sla": bool(past_sla), "version": b.version,
    }


def _bottleneck_select(today, t):
    return sa.select(
        Bottleneck, Department.code, rules.bottleneck_age_sql(today).label("age"),
        rules.age_bucket_sql(today).label("bucket"),
        sa.case((rules.past_sla_sql(today, t), True), else_=False).label("past_sla"),
    ).join(Department, Bottleneck.department_id == Department.id)


@bp.get("/bottlenecks")
@query_args(*PAGED, "department", "status", "severity", "category", "age_bucket")
def bottlenecks():
    today, t = clock.today(), thresholds()
    q = _scope(_bottleneck_select(today, t).order_by(Bottleneck.id), Bottleneck.department_id)
    q = _department_filter(q, Bottleneck.department_id)
    for name, choices, column in (("status", BOTTLENECK_STATUSES, Bottleneck.status),
                                  ("severity", SEVERITIES, Bottleneck.severity),
                                  ("category", BOTTLENECK_CATEGORIES, Bottleneck.category)):
        value = arg_choice(name, choices)
        if value:
            q = q.where(column == value)
    bucket = arg_choice("age_bucket", rules.AGE_BUCKETS)
    if bucket:
        q = q.where(rules.age_bucket_sql(today) == bucket)
    return jsonify(paginate(q, lambda row: bottleneck_json(*row)))


@bp.get("/bottlenecks/<int:bottleneck_id>")
def bottleneck(bottleneck_id):
    return record_response(_get_visible(Bottleneck, bottleneck_id))


# --- Flags, services, websites ------------------------------------------------------------


@bp.get("/flags")
@query_args(*PAGED, "department", "kind", "escalation")
def flags():
    q = _scope(
        sa.select(Flag, Department.code).outerjoin(Department, Flag.department_id == Department.id)
        .where(Flag.cleared_at.is_(None)).order_by(Flag.id),
        Flag.department_id,
    )
    q = _department_filter(q, Flag.department_id)
    kind = arg_choice("kind", FLAG_KINDS)
    if kind:
        q = q.where(Flag.kind == kind)
    escalation = arg_choice("escalation", ESCALATION_LEVELS)
    if escalation:
        q = q.where(Flag.escalation == escalation)

    def serialize(row):
        f, code = row
        return {"id": f.id, "kind": f.kind, "subject_type": f.subject_type,
                "subject_id": f.subject_id, "department": code, "severity": f.severity,
                "escalation": f.escalation, "raised_at": iso(f.raised_at), "details": f.details}

    return jsonify(paginate(q, serialize))


def service_json(s, code):
    return {"id": s.id, "department": code, "name": s.name, "psga_notified": s.psga_notified,
            "time_limit_days": s.time_limit_days, "designated_officer": s.designated_officer,
            "delivery_mode": s.delivery_mode, "url": s.url, "target_date": iso(s.target_date),
            "version": s.version}


@bp.get("/services")
@query_args(*PAGED, "department")
def services():
    q = _scope(sa.select(Service, Department.code).join(Department).order_by(Service.id),
               Service.department_id)
    q = _department_filter(q, Service.department_id)
    return jsonify(paginate(q, lambda row: service_json(*row)))


def website_json(a, code):
    return {"id": a.id, "department": code, "name": a.name, "kind": a.kind, "url": a.url,
            "hosted_by": a.hosted_by, "last_content_update": iso(a.last_content_update),
            "audit_valid_until": iso(a.audit_valid_until),
            "accessibility_audit_on": iso(a.accessibility_audit_on), "https": a.https,
            "portal_integrated": a.portal_integrated, "last_check_at": iso(a.last_check_at),
            "last_check_ok": a.last_check_ok, "version": a.version}


@bp.get("/services/<int:service_id>")
def service(service_id):
    return record_response(_get_visible(Service, service_id))


@bp.get("/websites/<int:website_id>")
def website(website_id):
    return record_response(_get_visible(DigitalAsset, website_id))


@bp.get("/websites")
@query_args(*PAGED, "department")
def websites():
    q = _scope(sa.select(DigitalAsset, Department.code).join(Department)
               .order_by(DigitalAsset.id), DigitalAsset.department_id)
    q = _department_filter(q, DigitalAsset.department_id)
    return jsonify(paginate(q, lambda row: website_json(*row)))


# --- Meetings and action items ------------------------------------------------------------


def meeting_json(m):
    return {"id": m.id, "title": m.title, "date": iso(m.meeting_date), "venue": m.venue,
            "chair": m.chair, "status": m.status}


@bp.get("/meetings")
@query_args(*PAGED)
def meetings():
    q = sa.select(ReviewMeeting).order_by(ReviewMeeting.meeting_date.desc(), ReviewMeeting.id)
    return jsonify(paginate(q, lambda row: meeting_json(row[0])))


@bp.get("/meetings/<int:meeting_id>")
def meeting(meeting_id):
    m = db.session.get(ReviewMeeting, meeting_id) if 0 < meeting_id <= MAX_ID else None
    if m is None:
        raise ApiError(404, "There is no such meeting.")
    body = meeting_json(m)
    visible = visible_department_ids(current_user)
    body["agenda"] = [{"position": a.position, "kind": a.kind, "title": a.title,
                       "minutes": a.minutes} for a in m.agenda_items]
    body["action_items"] = [action_item_json(a, a.department.code) for a in m.action_items
                            if visible is None or a.department_id in visible]
    return jsonify(body)


def action_item_json(a, code):
    return {"id": a.id, "meeting_id": a.meeting_id, "text": a.text, "department": code,
            "responsible_officer": a.responsible_officer, "due_date": iso(a.due_date),
            "status": a.status, "closing_note": a.closing_note, "version": a.version}


@bp.get("/action-items")
@query_args(*PAGED, "department", "status")
def action_items():
    q = _scope(sa.select(ActionItem, Department.code).join(Department).order_by(ActionItem.id),
               ActionItem.department_id)
    q = _department_filter(q, ActionItem.department_id)
    status = arg_choice("status", ACTION_ITEM_STATUSES)
    if status:
        q = q.where(ActionItem.status == status)
    return jsonify(paginate(q, lambda row: action_item_json(*row)))


@bp.get("/action-items/<int:item_id>")
def action_item(item_id):
    return record_response(_get_visible(ActionItem, item_id))


# --- One record with its ETag (the reads of one record, and every write) --------------------


def _reread(select, model, serialize):
    """The body of a record read again with its computed columns (health, age, SLA)."""
    def body(record):
        today, t = clock.today(), thresholds()
        return serialize(*db.session.execute(select(today, t).where(model.id == record.id)).one())
    return body


def _with_department(serialize):
    return lambda record: serialize(record, record.department.code)


_BODIES = {
    Milestone: _reread(_milestone_select, Milestone, milestone_json),
    Bottleneck: _reread(_bottleneck_select, Bottleneck, bottleneck_json),
    Service: _with_department(service_json),
    DigitalAsset: _with_department(website_json),
    ActionItem: _with_department(action_item_json),
}


def record_response(record, status=200):
    """``record`` (a milestone, bottleneck, service, website or action item) as JSON, with
    its version as the ETag that an update names in If-Match."""
    response = jsonify(_BODIES[type(record)](record))
    response.status_code = status
    response.headers["ETag"] = _etag(record)
    return response


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(spec())
