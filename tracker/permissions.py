"""Who may do what, in one place.

``can(user, action, record)`` answers for every role of DESIGN.md, department scoping
included. Views use ``authorize`` (or the ``require`` decorator), which answers 404 when the
user may not even see the record and 403 when they may see it but not do this.
"""
from functools import wraps

from flask import abort
from flask_login import current_user

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
ACTIONS = SECRETARY_ACTIONS | ADMIN_ACTIONS | {"read"}


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


def can(user, action, record=None) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.active:
        return False
    if action == "read":
        return can_read(user, record)
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
    if not can(user, action, record):
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
