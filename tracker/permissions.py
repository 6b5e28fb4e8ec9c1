"""Who may do what, and when, in one place.

``can(user, action, record)`` answers for every role of DESIGN.md, department scoping
included, and for the record's state: a plan is submitted only while a draft or returned, a
meeting marked held only while planned and dated today or earlier, and so on
(``STATE_RULES``). Templates and views ask ``can``; operations refuse what the state does not
allow by asking ``state_allows`` (the same table), so the rule is written once.

Views use ``authorize`` (or the ``require`` decorator) as their gate, which answers 404 when
the user may not even see the record and 403 when their role or department may not do this.
It does not look at the state: a request on a record whose state has moved on (someone else
approved the plan meanwhile) reaches the operation, which refuses it with words.
"""
from datetime import date
from functools import wraps

from flask import abort
from flask_login import current_user

from models.bottleneck import OPEN_BOTTLENECK_STATUSES

# Actions on department content that a nodal officer may take in their own department.
DEPARTMENT_WRITES = frozenset(
    {
        "edit_plan",
        "submit_plan",
        "update_milestone",
        "raise_bottleneck",
        "update_bottleneck",
        "resolve_bottleneck",
        "edit_service",
        "edit_asset",
        "update_action_item",
    }
)
# What NIC may do on any department, beyond the department writes.
NIC_ACTIONS = DEPARTMENT_WRITES | {
    "escalate_bottleneck",
    "import_plan",
    "manage_meetings",
    "export",
    "view_all",
}
SECRETARY_ACTIONS = NIC_ACTIONS | {
    "review_plan",
    "chair_meeting",
    "finalise_minutes",
    "view_audit",
}
ADMIN_ACTIONS = frozenset(
    {"manage_users", "manage_departments", "manage_settings", "view_audit", "view_all",
     "view_jobs"}
)
VIEWER_ACTIONS = frozenset({"view_all"})

# Actions that exist only in some state of a record: who may take them is decided by the role
# action on the right; when, by ``STATE_RULES``.
ROLE_OF = {
    "revise_plan": "edit_plan",
    "edit_bottleneck": "update_bottleneck",
    "edit_meeting": "manage_meetings",
    "edit_agenda": "manage_meetings",
    "mark_meeting_held": "chair_meeting",
    "record_minutes": "chair_meeting",
    "amend_minutes": "finalise_minutes",
    "attach_signed_minutes": "finalise_minutes",
}
ACTIONS = SECRETARY_ACTIONS | ADMIN_ACTIONS | frozenset(ROLE_OF) | {"read"}

PLAN_EDITABLE = ("draft", "returned")


def _plan_editable(plan, today):
    return plan.status in PLAN_EDITABLE


def _meeting_in(*statuses):
    return lambda meeting, today: meeting.status in statuses


# (action, kind of record) -> predicate(record, today). An action on a record of a kind not
# listed (or on no record) has no state condition.
STATE_RULES = {
    ("edit_plan", "ActionPlan"): _plan_editable,
    ("edit_plan", "Milestone"): lambda m, today: m.plan is None or _plan_editable(m.plan, today),
    ("submit_plan", "ActionPlan"): _plan_editable,
    ("review_plan", "ActionPlan"): lambda plan, today: plan.status == "submitted",
    ("revise_plan", "ActionPlan"): lambda plan, today: plan.status == "approved",
    ("escalate_bottleneck", "Bottleneck"): lambda b, today: b.status == "open",
    ("resolve_bottleneck", "Bottleneck"): lambda b, today: b.status in OPEN_BOTTLENECK_STATUSES,
    ("edit_bottleneck", "Bottleneck"): lambda b, today: b.status in OPEN_BOTTLENECK_STATUSES,
    ("edit_meeting", "ReviewMeeting"): _meeting_in("planned", "held"),
    ("edit_agenda", "ReviewMeeting"): _meeting_in("planned"),
    ("mark_meeting_held", "ReviewMeeting"):
        lambda meeting, today: meeting.status == "planned" and meeting.meeting_date <= today,
    ("record_minutes", "ReviewMeeting"): _meeting_in("held"),
    ("finalise_minutes", "ReviewMeeting"): _meeting_in("held"),
    ("amend_minutes", "ReviewMeeting"): _meeting_in("minutes_final"),
    ("attach_signed_minutes", "ReviewMeeting"): _meeting_in("minutes_final"),
}


def state_allows(action, record, today: date | None = None) -> bool:
    """Whether ``record``'s state admits ``action`` (role aside). ``today`` defaults to the
    configured calendar's today, for the rules that compare dates."""
    rule = STATE_RULES.get((action, type(record).__name__)) if record is not None else None
    if rule is None:
        return True
    if today is None:
        from tracker.clock import today as clock_today

        today = clock_today()
    return bool(rule(record, today))


def department_of(record):
    """The department id a record belongs to (None for records of no department)."""
    if record is None:
        return None
    if hasattr(record, "department_id"):
        return record.department_id
    if record.__class__.__name__ == "Department":
        return record.id
    return None


def can_read(user, record=None) -> bool:
    """Everyone signed in reads everything, except a nodal officer: own department only."""
    if user is None or not user.is_authenticated:
        return False
    if user.role != "nodal":
        return True
    dept = department_of(record)
    return dept is None or dept == user.department_id


def can(user, action, record=None, today: date | None = None) -> bool:
    """May ``user`` take ``action`` on ``record`` now: role, department and state."""
    return may(user, action, record) and state_allows(action, record, today)


def may(user, action, record=None) -> bool:
    """Role and department only, whatever the record's state (the gate of ``authorize``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.active:
        return False
    if action == "read":
        return can_read(user, record)
    action = ROLE_OF.get(action, action)
    role = user.role
    if role == "secretary":
        return action in SECRETARY_ACTIONS
    if role == "nic":
        return action in NIC_ACTIONS
    if role == "admin":
        return action in ADMIN_ACTIONS
    if role == "viewer":
        return action in VIEWER_ACTIONS
    if role == "nodal":
        dept = department_of(record)
        return action in DEPARTMENT_WRITES and dept is not None and dept == user.department_id
    return False


def authorize(action, record=None, user=None):
    """Abort with 404 when the record is not the user's to see, 403 when the action is not
    theirs to take. Returns the record, for chaining."""
    user = user or current_user
    if record is not None and not can_read(user, record):
        abort(404)
    if not may(user, action, record):
        abort(403)
    return record


def require(action):
    """Decorator for routes whose action does not depend on a record."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            authorize(action)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def visible_department_ids(user):
    """None for 'every department'; else the set of department ids the user may read."""
    if user.role == "nodal":
        return {user.department_id}
    return None


def acting_department_ids(user, action):
    """Where ``user`` may take a department ``action``: None for every department, else the
    set of department ids (empty when nowhere). Used for forms that pick a department and
    for imports, which are checked row by row with ``can`` as well."""
    if user is None or not user.is_authenticated:
        return set()
    if user.role == "nodal":
        return {user.department_id} if can(user, action, user.department) else set()
    return None if can(user, action) else set()
