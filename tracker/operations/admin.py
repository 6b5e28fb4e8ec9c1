"""The administrator's operations: users, departments and the thresholds of the rules.

Each flushes and does not commit (the view commits), raises ``ValidationError`` naming the
field on bad input, and writes an audit entry; a password is never written to the audit log.
"""
import re

import sqlalchemy as sa
from flask_babel import gettext as _

from models import Department, Setting, User
from models.user import ROLES
from tracker import audit
from tracker.extensions import db
from tracker.operations.errors import check
from tracker.i18n import N_
from tracker.settings import EDITABLE, from_config

MIN_PASSWORD = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
USER_FIELDS = ("email", "name", "designation", "role", "department_id", "active")
# Each threshold's allowed range, in days.
THRESHOLD_RANGE = (1, 3650)


def _password_errors(password):
    if not password or len(password) < MIN_PASSWORD:
        return [_("Use at least %(num)d characters.", num=MIN_PASSWORD)]
    return []


def _nodal_taken(department_id, except_user_id=None):
    q = sa.select(User.name).where(User.department_id == department_id, User.role == "nodal",
                                   User.active.is_(True))
    if except_user_id is not None:
        q = q.where(User.id != except_user_id)
    return db.session.execute(q).scalar()


def _user_errors(values, user=None):
    errors = {"email": [], "name": [], "role": [], "department_id": []}
    email = values["email"]
    if not _EMAIL.match(email):
        errors["email"].append(_("Enter an e-mail address such as name@ladakh.gov.in."))
    else:
        q = sa.select(User.id).where(User.email == email)
        if user is not None:
            q = q.where(User.id != user.id)
        if db.session.execute(q).first():
            errors["email"].append(_("Another user has this e-mail address."))
    if not values["name"]:
        errors["name"].append(_("Enter the person's name."))
    if values["role"] not in ROLES:
        errors["role"].append(_("Choose a role."))
    if values["role"] == "nodal":
        if values["department_id"] is None:
            errors["department_id"].append(_("A nodal officer needs a department."))
        elif values["active"]:
            taken = _nodal_taken(values["department_id"], user.id if user else None)
            if taken:
                errors["department_id"].append(_(
                    "%(name)s is already the nodal officer of this department: deactivate or "
                    "move them first.", name=taken))
    return errors


def _user_values(email, name, designation, role, department, active=True):
    return {"email": (email or "").strip().lower(), "name": (name or "").strip(),
            "designation": (designation or "").strip(), "role": role,
            "department_id": department.id if department is not None else None,
            "active": bool(active)}


def create_user(admin, *, email, name, designation, role, department, password):
    values = _user_values(email, name, designation, role, department)
    errors = _user_errors(values)
    errors["password"] = _password_errors(password)
    check(errors)
    user = User(**values)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("create", "user", user.id, {k: [None, audit._plain(v)] for k, v in values.items()},
                 user=admin)
    return user


def update_user(user, admin, *, email, name, designation, role, department, active):
    values = _user_values(email, name, designation, role, department, active)
    errors = _user_errors(values, user)
    if user.id == admin.id and (not values["active"] or values["role"] != "admin"):
        errors.setdefault("role", []).append(_(
            "You cannot take away your own administrator role or deactivate yourself: ask "
            "another administrator."))
    check(errors)
    before = audit.snapshot(user, USER_FIELDS)
    for key, value in values.items():
        setattr(user, key, value)
    if before["active"] and not values["active"] or before["role"] != values["role"]:
        user.session_version += 1  # sign them out everywhere
    db.session.flush()
    changes = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    if changes:
        audit.record("update", "user", user.id, changes, user=admin)
    return changes


def reset_password(user, admin, *, password):
    check({"password": _password_errors(password)})
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_version += 1
    db.session.flush()
    audit.record("reset_password", "user", user.id, {}, user=admin)


DEPARTMENT_FIELDS = ("code", "name", "psga_covered", "active")


def save_department(department, admin, *, code, name, psga_covered, active):
    """Create (``department`` None) or change a department."""
    code = (code or "").strip().lower()
    name = (name or "").strip()
    errors = {"code": [], "name": []}
    if department is None:
        if not _CODE.match(code):
            errors["code"].append(_("Use 2 to 32 lower-case letters, digits, - or _, starting "
                                    "with a letter."))
        elif db.session.execute(sa.select(Department.id).filter_by(code=code)).first():
            errors["code"].append(_("Another department has this code."))
    if not name:
        errors["name"].append(_("Enter the department's name."))
    else:
        q = sa.select(Department.id).where(sa.func.lower(Department.name) == name.lower())
        if department is not None:
            q = q.where(Department.id != department.id)
        if db.session.execute(q).first():
            errors["name"].append(_("Another department has this name."))
    check(errors)
    before = audit.snapshot(department, DEPARTMENT_FIELDS) if department else None
    if department is None:
        department = Department(code=code)
        db.session.add(department)
    department.name = name
    department.psga_covered = bool(psga_covered)
    department.active = bool(active)
    db.session.flush()
    after = audit.snapshot(department, DEPARTMENT_FIELDS)
    if before is None:
        audit.record("create", "department", department.id,
                     {k: [None, v] for k, v in after.items()}, user=admin)
    else:
        changes = audit.diff(before, after)
        if changes:
            audit.record("update", "department", department.id, changes, user=admin)
    return department


def save_thresholds(admin, *, values: dict, config) -> dict:
    """Store the thresholds that differ from the configuration as ``Setting`` rows (and drop
    those set back to it). Returns the changes, as the audit log records them."""
    low, high = THRESHOLD_RANGE
    errors = {}
    for key in EDITABLE:
        value = values.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[key] = [_("Enter a whole number of days from %(low)d to %(high)d.",
                             low=low, high=high)]
    check(errors)
    defaults = from_config(config)
    stored = {s.key: s for s in db.session.execute(sa.select(Setting)).scalars()}
    changes = {}
    for key in EDITABLE:
        old = int(stored[key].value) if key in stored and stored[key].value.isdigit() else getattr(defaults, key)
        new = values[key]
        if new != old:
            changes[key] = [old, new]
        if new == getattr(defaults, key):
            if key in stored:
                db.session.delete(stored[key])
        elif key in stored:
            stored[key].value = str(new)
            stored[key].updated_by_id = admin.id
        else:
            db.session.add(Setting(key=key, value=str(new), updated_by_id=admin.id))
    db.session.flush()
    if changes:
        audit.record("update", "settings", None, changes, user=admin)
    return changes


THRESHOLD_NAMES = {
    "at_risk_window_days": N_("At risk: due within (days)"),
    "stale_days": N_("Stale: no update for (days)"),
    "sla_critical_days": N_("Time limit of a critical bottleneck (days)"),
    "sla_high_days": N_("Time limit of a high bottleneck (days)"),
    "sla_medium_days": N_("Time limit of a medium bottleneck (days)"),
    "sla_low_days": N_("Time limit of a low bottleneck (days)"),
    "certificate_warning_days": N_("Audit certificate: warn before expiry (days)"),
    "website_stale_days": N_("Website not updated for (days)"),
    "escalate_to_nic_days": N_("Escalate a flag to NIC after (days)"),
    "escalate_to_secretary_days": N_("Escalate a flag to the Secretary after (days)"),
    "accessibility_audit_valid_days": N_("An accessibility audit is valid for (days)"),
    "forecast_margin_days": N_("Forecast to slip: flag a forecast later than the due date by "
                               "more than (days)"),
}
assert set(THRESHOLD_NAMES) == set(EDITABLE), "every threshold needs its words"
