"""Action plans: drafting, submission, review, approval and revision.

Lifecycle: ``draft → submitted → approved | returned``; a returned plan is edited and
submitted again. Each submission is a ``PlanVersion`` with a snapshot of its milestones,
so every version stays readable with who submitted and reviewed it and when.

Approval freezes ``baseline_due`` of every milestone that has none yet. An approved plan
that needs changes is *revised*: ``revise_plan`` takes it back to ``draft`` (the approved
version and every baseline stay); milestones can then be added, edited, reordered or
removed (only those never approved) and the plan is submitted as the next version. A
baselined milestone's due date is never moved by plan editing: that is a revision with a
reason, recorded from the milestone's page (``operations.milestones``).
"""
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from models import ActionPlan, Bottleneck, Milestone, MilestoneUpdate, PlanVersion, Service
from models.base import utcnow
from models.milestone import MILESTONE_CATEGORIES
from tracker import audit
from tracker.extensions import db
from tracker.operations.errors import ValidationError, check
from tracker.operations.versioning import check_version, flush_versioned
from tracker.permissions import state_allows

MILESTONE_FIELDS = ("code", "title", "description", "category", "owner", "start_date",
                    "due_date", "service_id")
PLAN_AUDITED = ("status", "current_version", "title", "review_comment")


def _require_state(plan, action, message):
    """Refuse with ``message`` unless the plan's state admits ``action`` (permissions.py)."""
    if not state_allows(action, plan):
        raise ValidationError({"_": [message]})


def _touch(plan):
    plan.updated_at = utcnow()


def create_plan(department, user, *, title=None):
    """Start the department's (one) action plan as a draft."""
    existing = db.session.execute(
        sa.select(ActionPlan.id).where(ActionPlan.department_id == department.id)
    ).first()
    if existing:
        raise ValidationError({"_": [_("This department already has an action plan.")]})
    title = (title or "").strip() or f"Action plan for digital integration: {department.name}"
    plan = ActionPlan(department=department, title=title[:200], status="draft",
                      created_by_id=user.id)
    db.session.add(plan)
    db.session.flush()
    audit.record("create", "action_plan", plan.id,
                 {"department": [None, department.code], "status": [None, "draft"]}, user=user)
    return plan


# --- Milestones of a plan ------------------------------------------------------------------


def _validate_milestone(plan, values, milestone=None):
    errors = {name: [] for name in MILESTONE_FIELDS}
    code = (values.get("code") or "").strip()
    title = (values.get("title") or "").strip()
    if not code:
        errors["code"].append(_("Enter a code, e.g. HEALTH-01."))
    elif len(code) > 40:
        errors["code"].append(_("Use at most 40 characters."))
    else:
        taken = db.session.execute(
            sa.select(Milestone.id).where(
                Milestone.department_id == plan.department_id,
                sa.func.lower(Milestone.code) == code.lower(),
                Milestone.id != (milestone.id if milestone is not None else -1),
            )
        ).first()
        if taken:
            errors["code"].append(_("Another milestone of this department has this code."))
    if not title:
        errors["title"].append(_("Enter the milestone's title."))
    elif len(title) > 300:
        errors["title"].append(_("Use at most 300 characters."))
    if values.get("category") not in MILESTONE_CATEGORIES:
        errors["category"].append(_("Choose a category from the list."))
    if len(values.get("owner") or "") > 200:
        errors["owner"].append(_("Use at most 200 characters."))
    due, start = values.get("due_date"), values.get("start_date")
    if not isinstance(due, date):
        errors["due_date"].append(_("Enter the due date."))
    elif isinstance(start, date) and due < start:
        errors["due_date"].append(_("The due date cannot be before the start date."))
    if (milestone is not None and milestone.baseline_due is not None
            and isinstance(due, date) and due != milestone.due_date):
        errors["due_date"].append(
            _("This milestone has an approved baseline: revise its due date from the "
            "milestone's page, with a reason."))
    service_id = values.get("service_id")
    if service_id is not None:
        owner = db.session.execute(
            sa.select(Service.department_id).where(Service.id == service_id)
        ).scalar()
        if owner != plan.department_id:
            errors["service_id"].append(_("Choose a service of this department."))
    check(errors)
    return {**values, "code": code, "title": title,
            "description": (values.get("description") or "").strip(),
            "owner": (values.get("owner") or "").strip()}


def add_milestone(plan, user, *, code, title, category, due_date, start_date=None,
                  description="", owner="", service_id=None):
    """Add a milestone at the end of a draft or returned plan."""
    _require_state(plan, "edit_plan",
                    _("Milestones can be added only while the plan is a draft or returned."))
    values = _validate_milestone(plan, dict(
        code=code, title=title, category=category, due_date=due_date, start_date=start_date,
        description=description, owner=owner, service_id=service_id))
    last = db.session.execute(
        sa.select(sa.func.max(Milestone.position)).where(Milestone.plan_id == plan.id)
    ).scalar()
    milestone = Milestone(plan_id=plan.id, department_id=plan.department_id,
                          position=(last + 1) if last is not None else 0,
                          status="not_started", percent_complete=0,
                          updated_by_id=user.id, **values)
    db.session.add(milestone)
    _touch(plan)
    db.session.flush()
    audit.record("create", "milestone", milestone.id,
                 {k: [None, v] for k, v in audit.snapshot(milestone, MILESTONE_FIELDS).items()},
                 user=user)
    return milestone


def edit_milestone(milestone, user, *, expected_version, code, title, category, due_date,
                   start_date=None, description="", owner="", service_id=None):
    """Change a milestone's details while its plan is a draft or returned."""
    plan = milestone.plan
    _require_state(plan, "edit_plan",
                    _("Milestones can be edited only while the plan is a draft or returned."))
    check_version(milestone, expected_version)
    values = _validate_milestone(plan, dict(
        code=code, title=title, category=category, due_date=due_date, start_date=start_date,
        description=description, owner=owner, service_id=service_id), milestone)
    before = audit.snapshot(milestone, MILESTONE_FIELDS)
    for name, value in values.items():
        setattr(milestone, name, value)
    milestone.updated_at = utcnow()
    milestone.updated_by_id = user.id
    _touch(plan)
    flush_versioned(milestone, expected_version)
    audit.record("edit", "milestone", milestone.id,
                 audit.diff(before, audit.snapshot(milestone, MILESTONE_FIELDS)), user=user)
    return milestone


def move_milestone(milestone, user, *, offset):
    """Move a milestone up (``offset=-1``) or down (``+1``) in its plan's order."""
    plan = milestone.plan
    _require_state(plan, "edit_plan",
                    _("Milestones can be reordered only while the plan is a draft or returned."))
    if offset not in (-1, 1):
        raise ValidationError({"offset": [_("Move one place up or down.")]})
    ordered = db.session.execute(
        sa.select(Milestone).where(Milestone.plan_id == plan.id)
        .order_by(Milestone.position, Milestone.id)
    ).scalars().all()
    index = next(i for i, m in enumerate(ordered) if m.id == milestone.id)
    target = index + offset
    if not 0 <= target < len(ordered):
        return milestone  # already first or last: nothing to do, nothing recorded
    ordered[index], ordered[target] = ordered[target], ordered[index]
    before = {m.id: m.position for m in ordered}
    for position, m in enumerate(ordered):
        if m.position != position:
            m.position = position
    _touch(plan)
    db.session.flush()
    audit.record("reorder", "action_plan", plan.id,
                 {"order": [[m_id for m_id, _ in sorted(before.items(), key=lambda kv: kv[1])],
                            [m.id for m in ordered]]}, user=user)
    return milestone


def remove_milestone(milestone, user):
    """Remove a milestone that was never part of an approved plan and has no history."""
    plan = milestone.plan
    _require_state(plan, "edit_plan",
                    _("Milestones can be removed only while the plan is a draft or returned."))
    if milestone.baseline_due is not None:
        raise ValidationError({"_": [
            _("This milestone is part of the approved plan: record it as dropped instead.")]})
    has_history = db.session.execute(
        sa.select(MilestoneUpdate.id).where(MilestoneUpdate.milestone_id == milestone.id).limit(1)
    ).first() or db.session.execute(
        sa.select(Bottleneck.id).where(Bottleneck.milestone_id == milestone.id).limit(1)
    ).first()
    if has_history:
        raise ValidationError({"_": [
            _("This milestone has recorded progress or bottlenecks: record it as dropped instead.")]})
    before = audit.snapshot(milestone, MILESTONE_FIELDS)
    milestone_id = milestone.id
    db.session.delete(milestone)
    _touch(plan)
    db.session.flush()
    audit.record("remove", "milestone", milestone_id, {k: [v, None] for k, v in before.items()},
                 user=user)


# --- Lifecycle -----------------------------------------------------------------------------


def snapshot_milestones(plan):
    rows = db.session.execute(
        sa.select(Milestone).where(Milestone.plan_id == plan.id)
        .order_by(Milestone.position, Milestone.id)
    ).scalars().all()
    return [
        audit.snapshot(m, ("id", "code", "title", "category", "owner", "start_date", "due_date",
                           "baseline_due", "position"))
        for m in rows
    ], rows


def submit_plan(plan, user, *, expected_version=None):
    """Submit a draft or returned plan for review: a new ``PlanVersion`` with its snapshot."""
    check_version(plan, expected_version)
    _require_state(plan, "submit_plan", _("Only a draft or returned plan can be submitted."))
    snapshot, rows = snapshot_milestones(plan)
    if not rows:
        raise ValidationError({"_": [_("Add at least one milestone before submitting the plan.")]})
    before = audit.snapshot(plan, PLAN_AUDITED)
    now = utcnow()
    number = plan.current_version + 1
    version = PlanVersion(plan_id=plan.id, number=number, submitted_by_id=user.id,
                          submitted_at=now, snapshot=snapshot)
    db.session.add(version)
    plan.current_version = number
    plan.status = "submitted"
    plan.submitted_by_id, plan.submitted_at = user.id, now
    plan.reviewed_by_id = plan.reviewed_at = plan.review_comment = None
    _touch(plan)
    flush_versioned(plan, expected_version)
    audit.record("submit", "action_plan", plan.id,
                 {**audit.diff(before, audit.snapshot(plan, PLAN_AUDITED)),
                  "milestones": [None, len(snapshot)]}, user=user)
    return version


def _current_version(plan):
    return db.session.execute(
        sa.select(PlanVersion).where(PlanVersion.plan_id == plan.id,
                                     PlanVersion.number == plan.current_version)
    ).scalar_one()


def _review(plan, user, outcome, comment):
    now = utcnow()
    version = _current_version(plan)
    version.outcome, version.reviewed_by_id, version.reviewed_at = outcome, user.id, now
    version.review_comment = comment
    plan.status = outcome
    plan.reviewed_by_id, plan.reviewed_at, plan.review_comment = user.id, now, comment
    _touch(plan)
    return version


def approve_plan(plan, user, *, comment="", expected_version=None):
    """Approve the submitted version. Freezes ``baseline_due`` (to the current due date) of
    every milestone that has no baseline yet; existing baselines never move."""
    check_version(plan, expected_version)
    _require_state(plan, "review_plan", _("Only a submitted plan can be approved."))
    before = audit.snapshot(plan, PLAN_AUDITED)
    version = _review(plan, user, "approved", (comment or "").strip() or None)
    frozen = {}
    for m in db.session.execute(
        sa.select(Milestone).where(Milestone.plan_id == plan.id, Milestone.baseline_due.is_(None))
    ).scalars():
        m.baseline_due = m.due_date
        frozen[m.code] = m.due_date.isoformat()
    flush_versioned(plan, expected_version)
    audit.record("approve", "action_plan", plan.id,
                 {**audit.diff(before, audit.snapshot(plan, PLAN_AUDITED)),
                  "baselines_frozen": [None, frozen]}, user=user)
    return version


def return_plan(plan, user, *, comment, expected_version=None):
    """Return the submitted version to the department with a comment (required)."""
    check_version(plan, expected_version)
    _require_state(plan, "review_plan", _("Only a submitted plan can be returned."))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": [_("Say what must change before the plan is approved.")]})
    before = audit.snapshot(plan, PLAN_AUDITED)
    version = _review(plan, user, "returned", comment)
    flush_versioned(plan, expected_version)
    audit.record("return", "action_plan", plan.id,
                 audit.diff(before, audit.snapshot(plan, PLAN_AUDITED)), user=user)
    return version


def revise_plan(plan, user, *, expected_version=None):
    """Open an approved plan for changes: back to ``draft`` as the next version. The approved
    version stays readable and the milestones keep their baselines and progress."""
    check_version(plan, expected_version)
    _require_state(plan, "revise_plan", _("Only an approved plan can be revised."))
    before = audit.snapshot(plan, PLAN_AUDITED)
    plan.status = "draft"
    _touch(plan)
    flush_versioned(plan, expected_version)
    audit.record("revise", "action_plan", plan.id,
                 audit.diff(before, audit.snapshot(plan, PLAN_AUDITED)), user=user)
    return plan
