"""The work lists of the home page: what each person must do, named, worst first.

Each list is one statement: its first ``limit`` rows and, through ``count(*) OVER ()``, how
many there are in all, so a home page runs the same few queries whatever the data size.
The conditions are the rules of ``tracker.rules``; every function takes ``today``.
"""
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from models import (
    ActionItem,
    ActionPlan,
    AgendaItem,
    Bottleneck,
    Department,
    Flag,
    Milestone,
    ReviewMeeting,
    User,
)
from models.bottleneck import OPEN_BOTTLENECK_STATUSES
from tracker import rules
from tracker.extensions import db
from tracker.settings import Thresholds

# How many rows each list shows before "all N".
LIMIT = 10
DUE_SOON_DAYS = 30


@dataclass
class WorkList:
    """The first rows of a list and how many there are in all."""

    rows: list = field(default_factory=list)
    total: int = 0

    @property
    def more(self):
        return self.total > len(self.rows)

    def __bool__(self):
        return self.total > 0


def _listed(query, limit):
    """Run ``query`` with its total as the last column: ``WorkList`` of the other columns."""
    rows = db.session.execute(query.add_columns(sa.func.count().over()).limit(limit)).all()
    if not rows:
        return WorkList()
    return WorkList([tuple(r[:-1]) for r in rows], int(rows[0][-1]))


# --- A department's milestones ------------------------------------------------------------------

_MILESTONE_COLUMNS = (Milestone.id, Milestone.code, Milestone.title, Milestone.status,
                      Milestone.percent_complete, Milestone.due_date, Milestone.updated_at)


def overdue_milestones(department_id, today: date, limit=LIMIT):
    """The department's overdue milestones, most days overdue first; each row
    ``(id, code, title, status, percent, due_date, updated_at, days_overdue)``."""
    days = rules.days_between(Milestone.due_date, rules._d(today))
    return _listed(
        sa.select(*_MILESTONE_COLUMNS, days)
        .where(Milestone.department_id == department_id, rules.overdue_sql(today))
        .order_by(Milestone.due_date, Milestone.id),
        limit,
    )


def due_soon_milestones(department_id, today: date, days=DUE_SOON_DAYS, limit=LIMIT):
    """Open milestones due from today to ``days`` days ahead, earliest first; rows as
    ``overdue_milestones`` with the days left last."""
    left = rules.days_between(rules._d(today), Milestone.due_date)
    return _listed(
        sa.select(*_MILESTONE_COLUMNS, left)
        .where(Milestone.department_id == department_id, rules.due_soon_sql(today, days))
        .order_by(Milestone.due_date, Milestone.id),
        limit,
    )


def stale_milestones(department_id, today: date, t: Thresholds, limit=LIMIT):
    """Milestones in progress not updated for ``stale_days``, longest silent first."""
    return _listed(
        sa.select(*_MILESTONE_COLUMNS)
        .where(Milestone.department_id == department_id, rules.stale_sql(today, t))
        .order_by(Milestone.updated_at, Milestone.id),
        limit,
    )


def forecast_to_slip_milestones(department_id, today: date, t: Thresholds, limit=LIMIT):
    """Open milestones not yet due whose forecast (as the latest scan stored it) is later
    than their due date by more than ``forecast_margin_days``, most days late first;
    rows as ``overdue_milestones`` with the forecast and the days after the due date last."""
    forecast = rules.forecast_on_sql()
    return _listed(
        sa.select(*_MILESTONE_COLUMNS, forecast,
                  rules.days_between(Milestone.due_date, forecast).label("slip"))
        .where(Milestone.department_id == department_id, rules.forecast_to_slip_sql(today, t))
        .order_by(sa.desc("slip"), Milestone.due_date, Milestone.id),
        limit,
    )


# --- Bottlenecks ------------------------------------------------------------------------------------


def _sla_days_sql(t: Thresholds):
    return sa.case(
        *((Bottleneck.severity == severity, days) for severity, days in t.sla_by_severity.items()),
        else_=0,
    )


def open_bottlenecks(department_id, today: date, t: Thresholds, limit=LIMIT):
    """The department's open bottlenecks, oldest first; rows ``(bottleneck, milestone code,
    age in days, past its time limit)``."""
    age = rules.bottleneck_age_sql(today)
    return _listed(
        sa.select(Bottleneck, Milestone.code, age, rules.past_sla_sql(today, t))
        .outerjoin(Milestone, Milestone.id == Bottleneck.milestone_id)
        .where(Bottleneck.department_id == department_id,
               Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES))
        .order_by(Bottleneck.raised_on, Bottleneck.id),
        limit,
    )


def bottlenecks_past_sla(today: date, t: Thresholds, limit=LIMIT):
    """Open bottlenecks past their time limit, furthest past it first; rows ``(bottleneck,
    department code, department name, age, days past the limit)``."""
    age = rules.bottleneck_age_sql(today)
    over = age - _sla_days_sql(t)
    return _listed(
        sa.select(Bottleneck, Department.code, Department.name, age, over)
        .join(Department, Department.id == Bottleneck.department_id)
        .where(rules.past_sla_sql(today, t))
        .order_by(over.desc(), Bottleneck.id),
        limit,
    )


# --- Action items -----------------------------------------------------------------------------------


def open_action_items(department_id, today: date, limit=LIMIT):
    """The department's open action items, earliest due first; rows ``(item, meeting title,
    meeting date, days overdue)``."""
    return _listed(
        sa.select(ActionItem, ReviewMeeting.title, ReviewMeeting.meeting_date,
                  rules.action_item_days_overdue_sql(today))
        .join(ReviewMeeting, ReviewMeeting.id == ActionItem.meeting_id)
        .where(ActionItem.department_id == department_id, ActionItem.status == "open")
        .order_by(ActionItem.due_date, ActionItem.id),
        limit,
    )


# --- Action plans -----------------------------------------------------------------------------------


def department_plan(department_id):
    """The department's plan (or None) with who submitted and reviewed it: one query."""
    submitter, reviewer = aliased(User), aliased(User)
    row = db.session.execute(
        sa.select(ActionPlan, submitter.name, reviewer.name)
        .outerjoin(submitter, submitter.id == ActionPlan.submitted_by_id)
        .outerjoin(reviewer, reviewer.id == ActionPlan.reviewed_by_id)
        .where(ActionPlan.department_id == department_id)
    ).first()
    return tuple(row) if row is not None else (None, None, None)


def plan_next_step(plan) -> str:
    """What a department's plan needs next: 'start' (none yet), 'submit' (a draft never
    submitted), 'resubmit_revision' (an approved plan being revised), 'resubmit' (returned
    with comments), 'await_review' (submitted), 'nothing' (approved)."""
    if plan is None:
        return "start"
    if plan.status == "draft":
        return "submit" if plan.current_version == 0 else "resubmit_revision"
    if plan.status == "returned":
        return "resubmit"
    if plan.status == "submitted":
        return "await_review"
    return "nothing"


def _milestone_count(plan=ActionPlan):
    return (
        sa.select(sa.func.count(Milestone.id))
        .where(Milestone.plan_id == plan.id)
        .correlate(plan)
        .scalar_subquery()
    )


def plans_awaiting_review(limit=LIMIT):
    """Submitted plans, longest waiting first; rows ``(plan, department code, department
    name, submitted by, milestones)``."""
    return _listed(
        sa.select(ActionPlan, Department.code, Department.name, User.name, _milestone_count())
        .join(Department, Department.id == ActionPlan.department_id)
        .outerjoin(User, User.id == ActionPlan.submitted_by_id)
        .where(ActionPlan.status == "submitted", Department.active.is_(True))
        .order_by(ActionPlan.submitted_at, ActionPlan.id),
        limit,
    )


def to_resubmit_sql():
    """Returned with comments, or an approved plan being revised (a draft of a new version)."""
    return sa.or_(
        ActionPlan.status == "returned",
        sa.and_(ActionPlan.status == "draft", ActionPlan.current_version > 0),
    )


def plans_to_resubmit(limit=LIMIT):
    """Plans NIC must edit and (re)submit: returned ones first (longest ago first), then
    revisions; rows ``(plan, department code, department name, milestones)``."""
    return _listed(
        sa.select(ActionPlan, Department.code, Department.name, _milestone_count())
        .join(Department, Department.id == ActionPlan.department_id)
        .where(to_resubmit_sql(), Department.active.is_(True))
        .order_by((ActionPlan.status != "returned"), ActionPlan.reviewed_at,
                  ActionPlan.updated_at, ActionPlan.id),
        limit,
    )


def departments_without_plan(limit=LIMIT):
    """Active departments with no plan ever submitted (none, or a first draft), by name;
    rows ``(department code, department name, plan state, milestones in the draft)``.
    (The plan is joined under another name: the rule's own subquery correlates on
    ``ActionPlan``.)"""
    plan = aliased(ActionPlan)
    return _listed(
        sa.select(Department.code, Department.name,
                  sa.func.coalesce(sa.cast(plan.status, sa.String), "missing"),
                  sa.func.coalesce(_milestone_count(plan), 0))
        .outerjoin(plan, plan.department_id == Department.id)
        .where(rules.no_submitted_plan_sql())
        .order_by(Department.name),
        limit,
    )


PLAN_LIST_STATES = ("submitted", "to_resubmit", "no_plan", "approved", "")


def plan_list_condition(state, plan=ActionPlan):
    """The condition of the plan list for ``state`` (see ``PLAN_LIST_STATES``) over
    ``plan``, an alias of ActionPlan outer-joined to Department."""
    if state == "submitted":
        return plan.status == "submitted"
    if state == "to_resubmit":
        return sa.or_(plan.status == "returned",
                      sa.and_(plan.status == "draft", plan.current_version > 0))
    if state == "no_plan":
        return rules.no_submitted_plan_sql()
    if state == "approved":
        return plan.status == "approved"
    return sa.true()


def plan_list(state, limit, offset=0, department_ids=None):
    """Active departments (of ``department_ids``, None for all) and their plans for the plan
    list page, by name: ``WorkList`` of ``(department code, department name, plan or None,
    milestones)``."""
    plan = aliased(ActionPlan)
    scope = [Department.id.in_(sorted(department_ids))] if department_ids is not None else []
    rows = db.session.execute(
        sa.select(Department.code, Department.name, plan,
                  sa.func.coalesce(_milestone_count(plan), 0), sa.func.count().over())
        .outerjoin(plan, plan.department_id == Department.id)
        .where(Department.active.is_(True), plan_list_condition(state, plan), *scope)
        .order_by(Department.name)
        .limit(limit).offset(offset)
    ).all()
    if not rows:
        return WorkList()
    return WorkList([tuple(r[:-1]) for r in rows], int(rows[0][-1]))


FLAG_SEVERITY_ORDER = sa.case({"critical": 0, "warning": 1, "info": 2}, value=Flag.severity,
                              else_=3)


# --- Flags --------------------------------------------------------------------------------------------


def escalated_flags(level, limit=LIMIT):
    """Open flags escalated to ``level`` ('nic', 'secretary'), most severe, then oldest,
    then longest overdue first; rows ``(flag, department code, department name)``."""
    return _listed(
        sa.select(Flag, Department.code, Department.name)
        .outerjoin(Department, Department.id == Flag.department_id)
        .where(Flag.cleared_at.is_(None), Flag.escalation == level)
        .order_by(FLAG_SEVERITY_ORDER, Flag.raised_at,
                  # the most overdue first (an ISO date, as stored with the flag)
                  sa.func.coalesce(Flag.details["due_date"].as_string(), "9999-12-31"), Flag.id),
        limit,
    )


# --- Meetings -----------------------------------------------------------------------------------------


def next_meeting(today: date):
    """``(meeting, agenda items)`` of the next planned review meeting (today or later), or
    ``(None, 0)``: one query."""
    items = (
        sa.select(sa.func.count(AgendaItem.id))
        .where(AgendaItem.meeting_id == ReviewMeeting.id)
        .correlate(ReviewMeeting)
        .scalar_subquery()
    )
    row = db.session.execute(
        sa.select(ReviewMeeting, items)
        .where(ReviewMeeting.status == "planned", ReviewMeeting.meeting_date >= rules._d(today))
        .order_by(ReviewMeeting.meeting_date, ReviewMeeting.id)
        .limit(1)
    ).first()
    return (row[0], int(row[1])) if row is not None else (None, 0)
