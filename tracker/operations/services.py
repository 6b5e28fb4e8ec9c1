"""The service register: create, change and remove a department's public services.

``clean`` decides whether a set of values is acceptable for a service of a department; the
form view and the Excel import both call it, so a service is held to the same rules however
it arrives. Every write records an audit entry; nothing here commits.
"""
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import sqlalchemy as sa

from flask_babel import gettext as _
from flask_babel import ngettext

from models import Milestone, Service
from models.base import utcnow
from models.service import DELIVERY_MODES
from tracker import audit
from tracker.extensions import db
from tracker.operations.errors import ValidationError, check
from tracker.operations.versioning import check_version, flush_versioned

FIELDS = (
    "name",
    "psga_notified",
    "time_limit_days",
    "designated_officer",
    "delivery_mode",
    "url",
    "target_date",
)
MAX_TIME_LIMIT_DAYS = 365


def is_web_address(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def clean(values: dict, department_id: int, service: Service | None = None,
          milestone_code: str | None = None):
    """``(cleaned values, milestone or None)`` or ``ValidationError`` with every error.

    ``values`` holds the FIELDS already typed (str, bool, int, date or None);
    ``milestone_code`` names the milestone of the same department that brings the service
    online ('' or None for none).
    """
    errors = {}
    out = {}
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Enter the name of the service.")]
    elif len(name) > 300:
        errors["name"] = [_("The name is longer than %(max)d characters.", max=300)]
    else:
        clash = db.session.execute(
            sa.select(Service.id).where(
                Service.department_id == department_id,
                sa.func.lower(Service.name) == name.lower(),
                Service.id != (service.id if service is not None else -1),
            )
        ).first()
        if clash:
            errors["name"] = [_("This department already has a service with this name.")]
    out["name"] = name

    notified = bool(values.get("psga_notified"))
    out["psga_notified"] = notified
    limit = values.get("time_limit_days")
    if limit in ("", None):
        limit = None
        if notified:
            errors["time_limit_days"] = [_("A PSGA-notified service needs its time limit in days.")]
    elif not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_TIME_LIMIT_DAYS:
        errors["time_limit_days"] = [_("Enter a whole number of days from 1 to %(max)d.",
                                         max=MAX_TIME_LIMIT_DAYS)]
    out["time_limit_days"] = limit

    officer = (values.get("designated_officer") or "").strip()
    if len(officer) > 200:
        errors["designated_officer"] = [_("The designated officer is longer than %(max)d characters.",
                                            max=200)]
    out["designated_officer"] = officer

    mode = values.get("delivery_mode") or "offline"
    if mode not in DELIVERY_MODES:
        errors["delivery_mode"] = [_("Choose offline, online (standalone) or integrated.")]
    out["delivery_mode"] = mode

    url = (values.get("url") or "").strip() or None
    if url is not None and (len(url) > 500 or not is_web_address(url)):
        errors["url"] = [_("Enter a web address starting with http:// or https://.")]
    elif url is None and mode in ("online_standalone", "integrated"):
        errors["url"] = [_("A service delivered online needs its web address.")]
    out["url"] = url

    target = values.get("target_date")
    if target is not None and not isinstance(target, date):
        errors["target_date"] = [_("Enter the target date as DD-MM-YYYY.")]
    out["target_date"] = target

    milestone = None
    code = (milestone_code or "").strip()
    if code:
        milestone = db.session.execute(
            sa.select(Milestone).where(
                Milestone.department_id == department_id, Milestone.code == code
            )
        ).scalar()
        if milestone is None:
            errors["milestone"] = [_("The department has no milestone with code %(code)s.",
                                             code=code)]
        elif milestone.service_id is not None and (
            service is None or milestone.service_id != service.id
        ):
            errors["milestone"] = [_("Milestone %(code)s already brings another service online.",
                                             code=code)]
    check(errors)
    return out, milestone


def linked_milestone(service: Service) -> Milestone | None:
    """The milestone that brings the service online (the first when several were linked)."""
    return min(service.milestones, key=lambda m: m.id, default=None)


def _link(service: Service, milestone: Milestone | None):
    """Make ``milestone`` the one that brings ``service`` online; unlink any other."""
    changes = {}
    for m in list(service.milestones):
        if milestone is None or m.id != milestone.id:
            m.service_id = None
            changes.setdefault("milestone", [m.code, None])
    if milestone is not None and milestone.service_id != service.id:
        milestone.service = service
        before = changes.get("milestone", [None, None])[0]
        changes["milestone"] = [before, milestone.code]
    return changes


def create(department, user, *, values: dict, milestone_code=None) -> Service:
    cleaned, milestone = clean(values, department.id, milestone_code=milestone_code)
    service = Service(department=department, updated_at=utcnow(), **cleaned)
    db.session.add(service)
    db.session.flush()
    changes = audit.snapshot(service, FIELDS)
    changes["department"] = department.code
    changes.update(_link(service, milestone))
    db.session.flush()
    audit.record("create", "service", service.id, changes, user=user)
    return service


def update(service: Service, user, *, expected_version: int | None, values: dict,
           milestone_code=None) -> dict:
    """Change a service. ``expected_version`` is the version the user read: a later one in
    the database is a ``ConflictError`` (as is a concurrent save caught at flush)."""
    check_version(service, expected_version)
    cleaned, milestone = clean(values, service.department_id, service, milestone_code)
    before = audit.snapshot(service, FIELDS)
    for key, value in cleaned.items():
        setattr(service, key, value)
    changes = audit.diff(before, audit.snapshot(service, FIELDS))
    changes.update(_link(service, milestone))
    if not changes:
        return {}
    service.updated_at = utcnow()
    flush_versioned(service, expected_version)
    audit.record("update", "service", service.id, changes, user=user)
    return changes


def delete(service: Service, user, *, expected_version: int | None = None):
    check_version(service, expected_version)
    snapshot = audit.snapshot(service, FIELDS)
    for m in list(service.milestones):
        m.service_id = None
    service_id = service.id
    db.session.delete(service)
    flush_versioned(service, expected_version)
    audit.record("delete", "service", service_id, snapshot, user=user)


# --- Import from the register's workbook ----------------------------------------------

# The workbook's layout that the checks below report against (exports/services.py writes and
# reads the workbook by the same names): its sheet, and the column each field comes from.
SHEET = "Services"
FIELD_COLUMNS = {
    "name": "Service",
    "psga_notified": "PSGA-notified",
    "time_limit_days": "Time limit (days)",
    "designated_officer": "Designated officer",
    "delivery_mode": "Delivery mode",
    "url": "Web address",
    "target_date": "Target date",
    "milestone": "Milestone code",
}


@dataclass
class ImportError_:
    """One thing wrong with an uploaded register, by sheet, row and column."""
    sheet: str
    row: int | None
    column: str | None
    message: str


class ImportPlan:
    """What an import would do: ``changes`` (one per row: 'create', 'update' or
    'unchanged', with the fields that change) or ``errors`` by sheet, row and column."""

    def __init__(self):
        self.changes = []
        self.errors = []

    @property
    def ok(self):
        return not self.errors

    def counts(self):
        result = {"create": 0, "update": 0, "unchanged": 0}
        for change in self.changes:
            result[change["kind"]] += 1
        return result


def check_import(rows, parse_errors, user):
    """Check parsed rows (``exports.services.read_services``) against the database and the
    user's rights, without changing anything."""
    from models import Department
    from tracker.permissions import can, can_read

    plan = ImportPlan()
    plan.errors.extend(parse_errors)
    codes = {r.department_code for r in rows if r.department_code}
    departments = {
        d.code: d
        for d in db.session.execute(
            sa.select(Department).where(Department.code.in_(codes), Department.active.is_(True))
        ).scalars()
    }
    ids = {r.service_id for r in rows if r.service_id is not None}
    existing = {
        s.id: s
        for s in db.session.execute(sa.select(Service).where(Service.id.in_(ids))).scalars()
    } if ids else {}
    seen_ids, seen_names = {}, {}

    def err(row, column, message):
        plan.errors.append(ImportError_(SHEET, row.row, column, message))

    # Rows of departments the user may not change get one message, not one per row.
    foreign = {code: d for code, d in departments.items() if not can(user, "edit_service", d)}
    if foreign:
        skipped = [r for r in rows if r.department_code in foreign]
        names = sorted(d.name for d in foreign.values())
        shown = ", ".join(names[:3]) + (_(" and %(num)d more", num=len(names) - 3)
                                        if len(names) > 3 else "")
        plan.errors.append(ImportError_(SHEET, skipped[0].row, "Department code", ngettext(
            "%(num)d row is a service of another department (%(names)s), which you may not "
            "change. Download your own department's register (Services, choose your "
            "department, Excel) and upload that.",
            "%(num)d rows are services of other departments (%(names)s), which you may not "
            "change. Download your own department's register (Services, choose your "
            "department, Excel) and upload that.", len(skipped), names=shown)))
        rows = [r for r in rows if r.department_code not in foreign]

    for row in rows:
        dept = departments.get(row.department_code)
        if row.department_code and dept is None:
            err(row, "Department code", _("No active department has the code '%(code)s'.",
                                               code=row.department_code))
            continue
        if dept is None:
            continue
        service = None
        if row.service_id is not None:
            service = existing.get(row.service_id)
            if service is None or not can_read(user, service):
                err(row, "ID", _("No service has the ID %(id)s.", id=row.service_id))
                continue
            if service.department_id != dept.id:
                err(row, "Department code",
                    _("A service cannot move to another department; add it there as a new row."))
                continue
            if row.service_id in seen_ids:
                err(row, "ID", _("The service with ID %(id)s is also on row %(row)s.",
                                  id=row.service_id, row=seen_ids[row.service_id]))
                continue
            seen_ids[row.service_id] = row.row
        if not can(user, "edit_service", service or dept):
            err(row, "Department code", _("You may not change the services of this department."))
            continue
        key = (dept.id, (row.values.get("name") or "").strip().lower())
        if key[1] and key in seen_names:
            err(row, "Service", _("The same service is also on row %(row)s.", row=seen_names[key]))
            continue
        seen_names[key] = row.row
        if service is not None and row.version is not None and row.version != service.version:
            err(row, "Version",
                _("Changed in the tracker since this workbook was exported (version "
                  "%(read)s, now %(now)s); export again and redo this row.",
                  read=row.version, now=service.version))
            continue
        if service is None and row.service_id is None:
            # A row without an ID that names an existing service updates it.
            service = db.session.execute(
                sa.select(Service).where(Service.department_id == dept.id,
                                         sa.func.lower(Service.name) == key[1])
            ).scalar()
        try:
            cleaned, milestone = clean(row.values, dept.id, service, row.milestone_code)
        except ValidationError as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    err(row, FIELD_COLUMNS.get(name, name), message)
            continue
        if service is None:
            plan.changes.append({"kind": "create", "row": row.row, "department": dept.code,
                                 "name": cleaned["name"], "fields": cleaned,
                                 "milestone_code": row.milestone_code})
            continue
        before = audit.snapshot(service, FIELDS)
        after = {**before, **{k: audit._plain(v) for k, v in cleaned.items()}}
        fields = audit.diff(before, after)
        current_code = linked_milestone(service).code if service.milestones else ""
        if (row.milestone_code or "") != (current_code or ""):
            fields["milestone"] = [current_code or None, row.milestone_code or None]
        plan.changes.append({"kind": "update" if fields else "unchanged", "row": row.row,
                             "department": dept.code, "name": cleaned["name"],
                             "service_id": service.id, "fields": fields,
                             "milestone_code": row.milestone_code})
    plan.errors.sort(key=lambda e: (e.row or 0, e.column or ""))
    return plan


def apply_import(rows, parse_errors, user):
    """Plan again (the database may have moved since the preview) and, when every row is
    acceptable, apply them all. Returns the plan; the caller commits or rolls back."""
    from models import Department

    plan = check_import(rows, parse_errors, user)
    if not plan.ok:
        return plan
    by_row = {r.row: r for r in rows}
    departments = {
        d.code: d for d in db.session.execute(sa.select(Department)).scalars()
    }
    for change in plan.changes:
        row = by_row[change["row"]]
        if change["kind"] == "create":
            create(departments[change["department"]], user, values=row.values,
                   milestone_code=row.milestone_code)
        elif change["kind"] == "update":
            service = db.session.get(Service, change["service_id"])
            update(service, user, expected_version=row.version, values=row.values,
                   milestone_code=row.milestone_code)
    audit.record("import", "service", None, plan.counts(), user=user)
    return plan
