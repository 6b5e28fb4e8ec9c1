"""Bottlenecks: the filtered list (age and SLA from the rules), raising one on a department
or a milestone, escalation and resolution."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from models import Bottleneck, Department, Milestone
from models.bottleneck import BOTTLENECK_STATUSES, OPEN_BOTTLENECK_STATUSES
from models.milestone import CLOSED_STATUSES
from tracker import clock, rules
from tracker.extensions import db
from tracker.labels import label
from tracker.operations import bottlenecks as ops
from tracker.permissions import authorize, visible_department_ids
from tracker.settings import thresholds
from views.list_export import ListColumn, export_format, export_list
from views.attachments import bottleneck_context
from views.sorting import Sort, column
from views.unit_of_work import form_errors, unit_of_work
from views.workflow_forms import (
    BottleneckFilterForm,
    BottleneckForm,
    EscalateForm,
    ResolveForm,
    opts,
)

bp = Blueprint("bottlenecks", __name__)

PAGE_SIZE = 100


def sort_columns(today):
    """The columns the list may be sorted by (``?sort=age``, ``?sort=-age``)."""
    severity = sa.case({"low": 0, "medium": 1, "high": 2, "critical": 3},
                       value=Bottleneck.severity, else_=-1)
    return {
        "department": column(Department.name),
        "milestone": column(Milestone.code),
        "title": column(Bottleneck.title),
        "category": column(Bottleneck.category),
        "severity": column(severity, descending_first=True),
        "status": column(Bottleneck.status),
        "raised": column(Bottleneck.raised_on, descending_first=True),
        "age": column(rules.bottleneck_age_sql(today), descending_first=True),
    }


def load(bottleneck_id):
    bottleneck = db.session.execute(
        sa.select(Bottleneck)
        .options(joinedload(Bottleneck.department), joinedload(Bottleneck.milestone),
                 joinedload(Bottleneck.raised_by), joinedload(Bottleneck.escalated_by),
                 joinedload(Bottleneck.resolved_by))
        .where(Bottleneck.id == bottleneck_id)
    ).scalar()
    if bottleneck is None:
        abort(404)
    return bottleneck


@bp.route("/bottlenecks")
@login_required
def index():
    today = clock.today()
    t = thresholds()
    form = BottleneckFilterForm(request.args)
    visible = visible_department_ids(current_user)
    departments = db.session.execute(
        sa.select(Department.code, Department.name).where(
            Department.active.is_(True),
            *( [Department.id.in_(visible)] if visible is not None else [] ))
        .order_by(Department.name)
    ).all()
    form.department.choices = opts([("", _("Any"))] + [(d.code, d.name) for d in departments])

    age = rules.bottleneck_age_sql(today).label("age")
    bucket = rules.age_bucket_sql(today).label("age_bucket")
    past_sla = rules.past_sla_sql(today, t).label("past_sla")
    q = (
        sa.select(Bottleneck, Department.code, Department.name, Milestone.code, age, bucket,
                  past_sla)
        .join(Department, Department.id == Bottleneck.department_id)
        .outerjoin(Milestone, Milestone.id == Bottleneck.milestone_id)
    )
    if visible is not None:
        q = q.where(Bottleneck.department_id.in_(visible))
    if form.department.data:
        q = q.where(Department.code == form.department.data)
    if form.severity.data:
        q = q.where(Bottleneck.severity == form.severity.data)
    if form.category.data:
        q = q.where(Bottleneck.category == form.category.data)
    status = form.status.data
    if status == "unresolved":
        q = q.where(Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES))
    elif status in BOTTLENECK_STATUSES:
        q = q.where(Bottleneck.status == status)
    if form.sla.data == "past":
        q = q.where(rules.past_sla_sql(today, t))
    elif form.sla.data == "within":
        q = q.where(Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES),
                    sa.not_(rules.past_sla_sql(today, t)))
    if form.age.data in rules.AGE_BUCKETS:
        q = q.where(rules.age_bucket_sql(today) == form.age.data)
    filters = {k: v for k, v in request.args.items() if k not in ("page", "sort")}
    # Old addresses said sort=oldest / sort=newest.
    sort_args = {"sort": {"oldest": "-age", "newest": "age"}.get(request.args.get("sort"),
                                                                 request.args.get("sort"))}
    sort = Sort.from_args(
        sort_args, sort_columns(today), "-age",
        lambda value: url_for("bottlenecks.index", **filters, sort=value), tiebreak=(Bottleneck.id,))
    q = q.order_by(*sort.order_by())
    fmt = export_format()
    if fmt:
        return export_list(fmt, "bottlenecks", _("Bottlenecks"), None, export_columns(), q)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(q.order_by(None).subquery())).scalar()
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.session.execute(q.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    args = {**filters, **({} if sort.is_default else {"sort": sort.value})}
    return render_template(
        "bottlenecks/index.html", form=form, rows=rows, total=total, page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), args=args, today=today,
        sort=sort,
    )


def export_columns():
    """The bottleneck list's columns as a file: rows of ``index``'s query."""
    return [
        ListColumn(_("Department"), lambda r: r[2], width=28),
        ListColumn(_("Milestone"), lambda r: r[3], width=12),
        ListColumn(_("Bottleneck"), lambda r: r[0].title, "wrap", 40),
        ListColumn(_("Category"), lambda r: label("bottleneck_category", r[0].category), width=16),
        ListColumn(_("Severity"), lambda r: label("severity", r[0].severity), width=10),
        ListColumn(_("Status"), lambda r: label("bottleneck_status", r[0].status), width=11),
        ListColumn(_("Raised on"), lambda r: r[0].raised_on, "date", 11),
        ListColumn(_("Age (days)"), lambda r: r[4], "number", 9),
        ListColumn(_("Past time limit"), lambda r: _("Yes") if r[6] else _("No"), width=9),
        ListColumn(_("Who must act"), lambda r: r[0].action_by or None, width=24),
        ListColumn(_("Target date"), lambda r: r[0].target_date, "date", 11),
    ]


def render_show(bottleneck, *, escalate_form=None, resolve_form=None, evidence_form=None,
                general_errors=(), status=200):
    today = clock.today()
    t = thresholds()
    escalate_form = escalate_form or EscalateForm(formdata=None)
    resolve_form = resolve_form or ResolveForm(formdata=None)
    escalate_form.version.data = resolve_form.version.data = str(bottleneck.version)
    age = rules.bottleneck_age_days(bottleneck, today)
    return render_template(
        "bottlenecks/show.html", bottleneck=bottleneck, age=age,
        age_bucket=label("age_bucket", rules.age_bucket(age)),
        past_sla=rules.is_past_sla(bottleneck, today, t), sla_days=t.sla_days(bottleneck.severity),
        escalate_form=escalate_form, resolve_form=resolve_form,
        general_errors=list(general_errors), today=today,
        **bottleneck_context(bottleneck, evidence_form),
    ), status


@bp.route("/bottlenecks/<int:bottleneck_id>")
@login_required
def show(bottleneck_id):
    return render_show(authorize("read", load(bottleneck_id)))


def raise_form(department, milestone=None):
    form = BottleneckForm()
    if milestone is not None:
        # The milestone comes from the address: the page has no field for it.
        form.milestone_id.choices = opts([(milestone.id, f"{milestone.code}: {milestone.title}")])
        form.milestone_id.data = milestone.id
    else:
        open_milestones = db.session.execute(
            sa.select(Milestone.id, Milestone.code, Milestone.title)
            .where(Milestone.department_id == department.id,
                   Milestone.status.notin_(CLOSED_STATUSES))
            .order_by(Milestone.position, Milestone.id)
        ).all()
        form.milestone_id.choices = opts([(None, _("(the department as a whole)"))] + [
            (m.id, f"{m.code}: {m.title}") for m in open_milestones])
    return form


def raise_view(department, milestone=None):
    form = raise_form(department, milestone)

    def page(general=(), status=200):
        return render_template("bottlenecks/form.html", form=form, department=department,
                               milestone=milestone, general_errors=list(general)), status

    if request.method != "POST":
        return page()
    if not form.validate():
        return page(status=422)
    target = milestone
    if milestone is None and form.milestone_id.data is not None:
        target = db.session.get(Milestone, form.milestone_id.data)
    with unit_of_work(invalid=form_errors(form, lambda general: page(general, 422))):
        bottleneck = ops.raise_bottleneck(
            department, current_user, milestone=target,
            title=form.title.data, category=form.category.data,
            severity=form.severity.data, description=form.description.data,
            action_by=form.action_by.data, target_date=form.target_date.data,
            today=clock.today())
        bottleneck_id = bottleneck.id
    flash(_("The bottleneck was raised."), "success")
    return redirect(url_for("bottlenecks.show", bottleneck_id=bottleneck_id), 303)


@bp.route("/departments/<code>/bottlenecks/new", methods=["GET", "POST"])
@login_required
def raise_on_department(code):
    department = db.session.execute(sa.select(Department).filter_by(code=code)).scalar()
    if department is None:
        abort(404)
    authorize("raise_bottleneck", department)
    return raise_view(department)


@bp.route("/milestones/<int:milestone_id>/bottlenecks/new", methods=["GET", "POST"])
@login_required
def raise_on_milestone(milestone_id):
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        abort(404)
    authorize("raise_bottleneck", milestone)
    return raise_view(milestone.department, milestone)


def after(bottleneck_id, call, message, **forms):
    def conflict(exc):
        return render_show(load(bottleneck_id), **forms, general_errors=[
            _("Someone else changed this bottleneck since you opened it. Here it is as it is "
              "now: please check it and try again.")], status=409)

    with unit_of_work(conflict=conflict, invalid=form_errors(
            next(iter(forms.values())),
            lambda general: render_show(load(bottleneck_id), **forms, general_errors=general,
                                        status=422))):
        call()
    flash(message, "success")
    return redirect(url_for("bottlenecks.show", bottleneck_id=bottleneck_id), 303)


@bp.route("/bottlenecks/<int:bottleneck_id>/escalate", methods=["POST"])
@login_required
def escalate(bottleneck_id):
    bottleneck = authorize("escalate_bottleneck", load(bottleneck_id))
    form = EscalateForm()
    return after(
        bottleneck_id,
        lambda: ops.escalate_bottleneck(bottleneck, current_user, note=form.note.data,
                                        expected_version=form.version.data or None),
        _("The bottleneck was escalated to the Secretary."), escalate_form=form)


@bp.route("/bottlenecks/<int:bottleneck_id>/resolve", methods=["POST"])
@login_required
def resolve(bottleneck_id):
    bottleneck = authorize("resolve_bottleneck", load(bottleneck_id))
    form = ResolveForm()
    return after(
        bottleneck_id,
        lambda: ops.resolve_bottleneck(bottleneck, current_user, note=form.note.data,
                                       today=clock.today(),
                                       expected_version=form.version.data or None),
        _("The bottleneck was resolved."), resolve_form=form)
