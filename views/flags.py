"""The flags the scan raised: a filterable list, one flag's page, and each department's
open flags on its own page (counts by kind and the most severe few, ``department_flags``).

``flag_subject(flag)`` names what a flag is about and where it is acted on; every page,
the inbox and the e-mail name flags through it."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import Form, SelectField

from models import Department, Flag
from models.flag import ESCALATION_LEVELS, FLAG_KINDS, FLAG_SEVERITIES
from tracker.extensions import db
from tracker.labels import label
from tracker.links import subject_url
from tracker.permissions import authorize, visible_department_ids
from views.list_export import ListColumn, export_format, export_list
from views.sorting import Sort, column

bp = Blueprint("flags", __name__, url_prefix="/flags")

PAGE_SIZE = 100

# Where each kind of subject is shown, when that page exists: (endpoint, argument name).

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
            (k, label("flag_kind", k)) for k in FLAG_KINDS
        ]
        self.severity.choices = [("", _("All severities"))] + [
            (s, label("flag_severity", s)) for s in FLAG_SEVERITIES
        ]
        self.escalation.choices = [("", _("Anyone"))] + [
            (e, label("escalation", e)) for e in ESCALATION_LEVELS
        ]
        self.status.choices = [("open", _("Open")), ("cleared", _("Cleared")),
                               ("all", _("Open and cleared"))]


def subject_name(flag):
    """The flag's subject as people know it: "FISH-08 · Online fishing licence", a
    bottleneck's title, an action item's text, a website's or department's name (stored
    with the flag when the scan raised it). The kind of flag when nothing was stored."""
    stored = (flag.details or {}).get("label") if isinstance(flag.details, dict) else None
    return stored or label("flag_kind", flag.kind)


def flag_subject(flag, department_code=None, external=False):
    """``(name, url)`` of what ``flag`` is about: its name as people know it and the page
    where it is acted on (None when there is none). No query: the name was stored with the
    flag; pass the department's code for department-level flags (``flag.department.code``
    is loaded otherwise). ``external=True`` gives absolute addresses, for e-mail."""
    if department_code is None and flag.subject_type == "department" and flag.department_id:
        department_code = flag.department.code if flag.department is not None else None
    return subject_name(flag), subject_url(flag, department_code, external=external)


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
            ListColumn(_("Flag"), lambda r: label("flag_kind", r[0].kind),
                       width=24),
            ListColumn(_("About"), lambda r: flag_subject(r[0], r[1])[0], "wrap", 40),
            ListColumn(_("Department"), lambda r: r[2], width=26),
            ListColumn(_("Severity"), lambda r: label("flag_severity", r[0].severity),
                       width=10),
            ListColumn(_("Escalated to"),
                       lambda r: label("escalation", r[0].escalation),
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
        rows=[(flag, code, name, *flag_subject(flag, code)) for flag, code, name in rows],
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
    subject, link = flag_subject(flag, code)
    return render_template("flags/show.html", flag=flag, department_code=code,
                           department_name=name, subject=subject, subject_link=link,
                           facts=detail_facts(flag))


# What the scan stored with a flag, shown on its page: (key, words, kind of value). The ids
# it keeps for the app's own use (milestone_id, meeting_id) and the label are not shown.
DETAIL_FACTS = (
    ("due_date", _l("Due date"), "date"),
    ("predecessor", _l("Waits for"), "text"),
    ("forecast", _l("Forecast finish"), "date"),
    ("severity", _l("Severity of the bottleneck"), "severity"),
    ("raised_on", _l("Raised on"), "date"),
    ("valid_until", _l("Certificate valid until"), "date"),
    ("last_content_update", _l("Content last updated"), "date"),
    ("url", _l("Address"), "url"),
)


def detail_facts(flag):
    """``[(words, text, href)]`` of the details stored with ``flag``, in words and
    DD-MM-YYYY dates."""
    from datetime import date

    from tracker.templating import format_date

    details = flag.details if isinstance(flag.details, dict) else {}
    facts = []
    for key, words, kind in DETAIL_FACTS:
        value = details.get(key)
        if value in (None, ""):
            continue
        href = None
        if kind == "date":
            try:
                text = format_date(date.fromisoformat(str(value)[:10]))
            except ValueError:
                text = str(value)
        elif kind == "severity":
            text = label("severity", value)
        else:
            text = str(value)
            href = text if text.startswith(("https://", "http://")) else None
        facts.append((words, text, href))
    return facts


def flag_due_date(flag):
    """The due date stored with a flag about something overdue (a date), else None."""
    from datetime import date

    value = flag.details.get("due_date") if isinstance(flag.details, dict) else None
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


DEPARTMENT_FLAGS_SHOWN = 5


def department_flags(department, limit=DEPARTMENT_FLAGS_SHOWN):
    """A department's open flags for its page: ``(counts, total, most_severe)`` where
    ``counts`` is ``[(kind, n)]`` (most first) and ``most_severe`` the first ``limit`` flags
    as ``(flag, name, url)``, most severe first. Two queries, whatever the number of flags."""
    open_flags = (Flag.department_id == department.id, Flag.cleared_at.is_(None))
    counts = db.session.execute(
        sa.select(Flag.kind, sa.func.count()).where(*open_flags)
        .group_by(Flag.kind).order_by(sa.func.count().desc(), Flag.kind)
    ).all()
    worst = db.session.execute(
        sa.select(Flag).where(*open_flags)
        .order_by(SEVERITY_ORDER, ESCALATION_ORDER, Flag.raised_at.desc(), Flag.id.desc())
        .limit(limit)
    ).scalars().all()
    return ([(kind, int(n)) for kind, n in counts], sum(int(n) for _k, n in counts),
            [(f, *flag_subject(f, department.code)) for f in worst])
