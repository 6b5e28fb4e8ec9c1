"""The flags the scan raised: a filterable list, one flag's page, and each department's
open flags on its own page (``department_open_flags`` in templates)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError
from wtforms import Form, SelectField

from models import Department, Flag
from models.flag import ESCALATION_LEVELS, FLAG_KINDS, FLAG_SEVERITIES
from tracker import rules
from tracker.extensions import db
from tracker.permissions import authorize, visible_department_ids
from views.list_export import ListColumn, export_format, export_list
from views.sorting import Sort, column

bp = Blueprint("flags", __name__, url_prefix="/flags")

PAGE_SIZE = 100

# Where each kind of subject is shown, when that page exists: (endpoint, argument name).
SUBJECT_ENDPOINTS = {
    "milestone": ("milestones.show", "milestone_id"),
    "bottleneck": ("bottlenecks.show", "bottleneck_id"),
    "action_item": ("meetings.action_item", "item_id"),
    "digital_asset": ("websites.show", "asset_id"),
}

SEVERITY_ORDER = sa.case({"critical": 0, "warning": 1, "info": 2}, value=Flag.severity, else_=3)
ESCALATION_ORDER = sa.case({"secretary": 0, "nic": 1, "department": 2},
                           value=Flag.escalation, else_=3)
# The columns the list may be sorted by (``?sort=-raised``); most severe first by default.
SORT_COLUMNS = {
    "kind": column(Flag.kind),
    "department": column(Department.name),
    "severity": column(-SEVERITY_ORDER, -ESCALATION_ORDER, descending_first=True),
    "escalation": column(-ESCALATION_ORDER, descending_first=True),
    "raised": column(Flag.raised_at, descending_first=True),
    "cleared": column(Flag.cleared_at, descending_first=True),
}


class FlagFilterForm(Form):
    department = SelectField(_l("Department"), choices=[], default="")
    kind = SelectField(_l("Kind"), default="")
    severity = SelectField(_l("Severity"), default="")
    escalation = SelectField(_l("Escalated to"), default="")
    status = SelectField(_l("Status"), default="open")

    def __init__(self, formdata, departments):
        super().__init__(formdata)
        self.department.choices = [("", _("All departments"))] + [
            (d.code, d.name) for d in departments
        ]
        self.kind.choices = [("", _("All kinds"))] + [
            (k, _(rules.FLAG_KIND_LABELS[k])) for k in FLAG_KINDS
        ]
        self.severity.choices = [("", _("All severities"))] + [
            (s, _(rules.FLAG_SEVERITY_LABELS[s])) for s in FLAG_SEVERITIES
        ]
        self.escalation.choices = [("", _("Anyone"))] + [
            (e, _(rules.ESCALATION_LABELS[e])) for e in ESCALATION_LEVELS
        ]
        self.status.choices = [("open", _("Open")), ("cleared", _("Cleared")),
                               ("all", _("Open and cleared"))]


def subject_url(flag, department_code=None):
    """The page of the flag's subject when the app has one; else its department's page."""
    if flag.subject_type == "department" and department_code:
        return url_for("departments.show", code=department_code)
    endpoint = SUBJECT_ENDPOINTS.get(flag.subject_type)
    if endpoint is not None:
        try:
            return url_for(endpoint[0], **{endpoint[1]: flag.subject_id})
        except BuildError:
            pass
    if department_code:
        return url_for("departments.show", code=department_code)
    return None


def _visible(query):
    allowed = visible_department_ids(current_user)
    if allowed is not None:
        query = query.where(Flag.department_id.in_(allowed))
    return query


@bp.route("/")
@login_required
def index():
    authorize("read")
    dept_query = sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
    allowed = visible_department_ids(current_user)
    if allowed is not None:
        dept_query = dept_query.where(Department.id.in_(allowed))
    departments = db.session.execute(dept_query).scalars().all()
    form = FlagFilterForm(request.args, departments)
    form.validate()
    conditions = []
    if form.department.data and not form.department.errors:
        conditions.append(Department.code == form.department.data)
    for name, column in (("kind", Flag.kind), ("severity", Flag.severity),
                         ("escalation", Flag.escalation)):
        field = getattr(form, name)
        if field.data and not field.errors:
            conditions.append(column == field.data)
    status = form.status.data if not form.status.errors else "open"
    if status == "open":
        conditions.append(Flag.cleared_at.is_(None))
    elif status == "cleared":
        conditions.append(Flag.cleared_at.is_not(None))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    filters = {k: v for k, v in request.args.items() if k not in ("page", "sort")}
    sort = Sort.from_args(request.args, SORT_COLUMNS, "-severity",
                          lambda value: url_for("flags.index", **filters, sort=value),
                          tiebreak=(Flag.raised_at.desc(), Flag.id.desc()))
    base = _visible(
        sa.select(Flag, Department.code, Department.name)
        .outerjoin(Department, Department.id == Flag.department_id)
        .where(*conditions)
    )
    fmt = export_format()
    if fmt:
        columns = [
            ListColumn(_("Flag"), lambda r: _(rules.FLAG_KIND_LABELS.get(r[0].kind, r[0].kind)),
                       width=24),
            ListColumn(_("About"), lambda r: r[0].details.get("label"), "wrap", 40),
            ListColumn(_("Department"), lambda r: r[2], width=26),
            ListColumn(_("Severity"), lambda r: _(rules.FLAG_SEVERITY_LABELS[r[0].severity]),
                       width=10),
            ListColumn(_("Escalated to"),
                       lambda r: _(rules.ESCALATION_LABELS.get(r[0].escalation, r[0].escalation)),
                       width=12),
            ListColumn(_("Raised"), lambda r: r[0].raised_at, "date", 11),
            ListColumn(_("Cleared"), lambda r: r[0].cleared_at, "date", 11),
        ]
        return export_list(fmt, "flags", _("Flags"), None, columns,
                           base.order_by(Flag.cleared_at.is_not(None), *sort.order_by()))
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(base.with_only_columns(Flag.id).subquery())
    ).scalar_one()
    rows = db.session.execute(
        base.order_by(Flag.cleared_at.is_not(None), *sort.order_by())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    args = {**filters, **({} if sort.is_default else {"sort": sort.value})}
    return render_template(
        "flags/index.html",
        sort=sort,
        form=form,
        rows=[(flag, code, name, subject_url(flag, code)) for flag, code, name in rows],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        page_args=args,
    )


@bp.route("/<int:flag_id>")
@login_required
def show(flag_id):
    row = db.session.execute(
        sa.select(Flag, Department.code, Department.name)
        .outerjoin(Department, Department.id == Flag.department_id)
        .where(Flag.id == flag_id)
    ).first()
    if row is None:
        abort(404)
    flag, code, name = row
    authorize("read", flag)
    return render_template("flags/show.html", flag=flag, department_code=code,
                           department_name=name, subject_link=subject_url(flag, code))


@bp.app_template_global()
def department_open_flags(department_id):
    """The open flags of one department, most severe first (one query)."""
    return db.session.execute(
        sa.select(Flag)
        .where(Flag.department_id == department_id, Flag.cleared_at.is_(None))
        .order_by(SEVERITY_ORDER, ESCALATION_ORDER, Flag.raised_at.desc(), Flag.id)
    ).scalars().all()


@bp.record_once
def flag_labels(state):
    state.app.jinja_env.globals.update(
        FLAG_KIND_LABELS=rules.FLAG_KIND_LABELS,
        FLAG_SEVERITY_LABELS=rules.FLAG_SEVERITY_LABELS,
        ESCALATION_LABELS=rules.ESCALATION_LABELS,
    )
