"""Dashboards: the Secretary's (and NIC's and viewers') overview, the nodal officer's own
department, the records behind every bar and number, and the downloads of each chart's
numbers. Filters are a GET form, so every view lives in its URL and works without JavaScript.
"""
from urllib.parse import quote_plus, urlencode

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from models import Bottleneck, Department, DigitalAsset, Milestone, MilestoneUpdate, Service
from models.bottleneck import OPEN_BOTTLENECK_STATUSES, SEVERITIES
from models.milestone import MILESTONE_CATEGORIES
from models.service import DELIVERY_MODES
from tracker import clock, rules
from tracker.platform import assets
from views import charts
from tracker.queries import overview as dash
from tracker.extensions import db
from tracker.labels import label
from tracker.permissions import authorize, can, visible_department_ids
from tracker.settings import thresholds
from views.downloads import csv_response, dated, xlsx_response
from views.list_export import ListColumn, export_format, export_list
from views.sorting import Sort, column
from views.flags import flag_subject

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

PLOTLY_DIR, PLOTLY_FILE, PLOTLY_TAG = assets.plotly_bundle()
PAGE_SIZE = 50
RECORD_KINDS = ("milestones", "bottlenecks", "services", "websites")


class FilterForm(FlaskForm):
    """The dashboard's filters, read from the query string."""

    class Meta:
        csrf = False

    department = SelectField(_l("Department"), choices=[], default="")
    category = SelectField(_l("Milestone category"), choices=[], default="")
    period = SelectField(_l("Period"), choices=[], default="")
    date_from = DateField(_l("From"), name="from", validators=[Optional()])
    date_to = DateField(_l("To"), name="to", validators=[Optional()])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.date_from.data and self.date_to.data:
            if self.date_to.data < self.date_from.data:
                self.date_to.errors.append(str(_l("The end date must not be before the start date.")))
                ok = False
            elif len(dash.months_between(self.date_from.data, self.date_to.data)) > dash.MAX_PERIOD_MONTHS:
                self.date_to.errors.append(str(_l("A period can span at most five years.")))
                ok = False
        return ok


def _filter_form(departments):
    form = FilterForm(formdata=request.args)
    form.department.choices = [("", str(_l("All departments")))] + [
        (d.code, d.name) for d in departments
    ]
    form.category.choices = [("", str(_l("All categories")))] + [
        (c, label("milestone_category", c)) for c in MILESTONE_CATEGORIES
    ]
    form.period.choices = [(value, str(_l(words))) for value, words in dash.PERIODS]
    return form


def _filters(form, departments, today):
    """The valid form as ``Filters``; a nodal officer is held to their own department."""
    by_code = {d.code: d for d in departments}
    code = form.department.data or ""
    department = by_code.get(code)
    visible = visible_department_ids(current_user)
    if visible is not None:
        # A nodal officer: their own department, and no other's.
        if department is not None and department.id not in visible:
            abort(404)
        department = next((d for d in departments if d.id in visible), None)
        if department is None:
            abort(404)
    period = form.period.data or ""
    if not period and (form.date_from.data or form.date_to.data):
        period = "custom"
    start, end = dash.period_range(period, today, form.date_from.data, form.date_to.data)
    return dash.Filters(
        department=department,
        department_ids=frozenset({department.id}) if department else None,
        category=form.category.data or "",
        period=period,
        start=start,
        end=end,
        date_from=form.date_from.data if period == "custom" else None,
        date_to=form.date_to.data if period == "custom" else None,
    )


def _linker(filters, endpoint="dashboard.records"):
    """``link(**args)``: the records page for the current filters plus ``args`` (a list
    value repeats the argument); ``link(milestone=id)`` is that milestone's own page. Called
    for every bar and number, so it encodes cheaply."""
    base = url_for(endpoint)
    current = filters.args()
    milestone_page = url_for("milestones.show", milestone_id=0).rsplit("/", 1)[0] + "/"

    def link(**extra):
        if extra.keys() == {"milestone"}:
            # One milestone: its own page, where it is updated, not a list of one record.
            return f"{milestone_page}{int(extra['milestone'])}"
        args = {k: v for k, v in current.items() if k not in extra}
        args.update(extra)
        pairs = []
        for key, value in args.items():
            for item in value if isinstance(value, (list, tuple)) else (value,):
                pairs.append(f"{key}={quote_plus(str(item))}")
        return base + ("?" + "&".join(pairs) if pairs else "")

    return link


def _describe(filters):
    parts = [filters.department.name if filters.department else str(_l("All departments"))]
    if filters.category:
        parts.append(label("milestone_category", filters.category))
    if filters.start or filters.end:
        parts.append(
            "{} – {}".format(
                filters.start.strftime("%d-%m-%Y") if filters.start else "…",
                filters.end.strftime("%d-%m-%Y") if filters.end else "…",
            )
        )
    else:
        parts.append(str(_l("all dates")))
    return " · ".join(parts)


def _prepare():
    """Departments, filter form and filters of this request; None filters on a bad form."""
    today = clock.today()
    departments = dash.departments_with_plans()
    form = _filter_form(departments)
    if not form.validate():
        return today, departments, form, None
    return today, departments, form, _filters(form, departments, today)


@bp.route("/")
@login_required
def index():
    authorize("read")
    today, departments, form, filters = _prepare()
    if filters is None:
        return render_template("dashboard/index.html", form=form, today=today, invalid=True,
                               nodal=not can(current_user, "view_all")), 400
    t = thresholds()
    names = {d.id: d.name for d in departments}
    link = _linker(filters)
    if not can(current_user, "view_all"):
        ov = dash.overview(departments, filters, today, t, sections=("health", "timeline"))
        flags, flags_total = dash.open_flags(filters)
        code = filters.department.code
        flags = [(f, *flag_subject(f, code)) for f in flags]
        soon, soon_total = dash.due_soon(filters, today, t)
        services = dash.service_totals(dash.psga_services(filters), ov.departments)
        bottlenecks = dash.bottleneck_stats(filters, today)
        timeline = charts.timeline_chart(ov, link, names)
        soon_chart = charts.timeline_chart(
            ov, link, names, name="due-soon", rows=soon, total=soon_total,
            caption=str(_l("Overdue or due in the next %(days)s days", days=dash.DUE_SOON_DAYS)),
        )
        return render_template(
            "dashboard/nodal.html", form=form, ov=ov, today=today, filters=filters,
            flags=flags, flags_total=flags_total, soon=soon_chart, soon_total=soon_total,
            timeline=timeline, services=services, bottlenecks=bottlenecks, link=link,
            description=_describe(filters), download_args=filters.args(),
        )
    ov = dash.overview(departments, filters, today, t)
    built = [charts.build(name, ov, link, names) for name in dash.SECTIONS]
    return render_template(
        "dashboard/index.html", form=form, ov=ov, today=today, filters=filters, charts=built,
        link=link, description=_describe(filters), download_args=filters.args(),
    )


@bp.route("/<any(health, timeline, bottlenecks, services, progress, scorecard):name>.<any(csv, xlsx):fmt>")
@login_required
def download(name, fmt):
    """The numbers of one chart, with the same filters, as CSV or Excel."""
    authorize("read")
    today, departments, form, filters = _prepare()
    if filters is None:
        abort(400)
    ov = dash.overview(departments, filters, today, thresholds(), sections=(name,))
    from exports import dashboard as export  # openpyxl: imported when a download asks for it

    chart = charts.build(name, ov, _linker(filters), {d.id: d.name for d in departments})
    stem = f"dashboard-{name}"
    if fmt == "csv":
        return csv_response(export.table_csv(chart.table), dated(stem, today, "csv"))
    subtitle = f"{_describe(filters)} · {_l('As of')} {today.strftime('%d-%m-%Y')}"
    return xlsx_response(export.table_xlsx(chart.table, chart.title, subtitle), dated(stem, today))


@bp.route(f"/assets/plotly-{PLOTLY_TAG}.min.js")
def plotly_js():
    """plotly.js served by the app itself (never a CDN): the partial bundle the build fetched,
    precompressed, cached for a year (its address changes with its version)."""
    return assets.send_precompressed(PLOTLY_DIR, PLOTLY_FILE, mimetype="text/javascript",
                                     max_age=365 * 24 * 3600)


# --- The records behind a bar or a number ---------------------------------------------------------


def _bad(message):
    abort(400, description=message)


def _int_arg(name):
    value = request.args.get(name)
    if value is None:
        return None
    if not value.isdigit():
        _bad(f"{name} must be a number")
    return int(value)


def _choice_arg(name, allowed):
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        abort(400)
    return value


def _month_arg(name):
    value = request.args.get(name)
    if not value:
        return None
    try:
        return dash.month_range(value)
    except ValueError:
        abort(400)


def _milestone_query(filters, today, t):
    """Milestones behind a chart: the filters plus what the link names. Returns the WHERE
    clauses and labels describing the selection."""
    health = _choice_arg("health", rules.HEALTHS)
    planned = _month_arg("planned")
    done = _month_arg("done")
    milestone_id = _int_arg("milestone")
    dates = not (planned or done or request.args.get("due_soon") or request.args.get("upcoming"))
    conds = dash.milestone_scope(filters, dates=dates)
    labels = []
    if health:
        conds.append(rules.health_filter_sql(health, today, t))
        labels.append(label("health", health))
    if milestone_id is not None:
        conds.append(Milestone.id == milestone_id)
    if planned:
        planned_on = sa.func.coalesce(Milestone.baseline_due, Milestone.due_date)
        conds += [Milestone.status != "dropped", planned_on >= planned[0], planned_on < planned[1]]
        labels.append(str(_l("planned for %(month)s", month=planned[0].strftime("%b %Y"))))
    if done:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(t.timezone)
        conds.append(
            sa.select(MilestoneUpdate.id)
            .where(
                MilestoneUpdate.milestone_id == Milestone.id,
                MilestoneUpdate.status_to == "completed",
                MilestoneUpdate.at >= clock.local_midnight_utc(done[0], tz),
                MilestoneUpdate.at < clock.local_midnight_utc(done[1], tz),
            )
            .exists()
        )
        labels.append(str(_l("done in %(month)s", month=done[0].strftime("%b %Y"))))
    flags = {
        "stale": (rules.stale_sql(today, t), _l("stale")),
        "slipped": (rules.slipped_sql(), _l("slipped")),
        "on_time": (rules.completed_on_time_sql(), _l("completed on time")),
        "due_so_far": (sa.and_(rules.due_so_far_sql(today), Milestone.status != "dropped"),
                       _l("due so far (completed or overdue)")),
        "due_soon": (dash.due_by_sql(today, dash.DUE_SOON_DAYS),
                     _l("overdue or due in the next %(days)s days", days=dash.DUE_SOON_DAYS)),
        "upcoming": (rules.due_soon_sql(today, dash.DUE_SOON_DAYS),
                     _l("due in the next %(days)s days", days=dash.DUE_SOON_DAYS)),
    }
    for name, (condition, words) in flags.items():
        if request.args.get(name):
            if request.args[name] != "1":
                abort(400)
            conds.append(condition)
            labels.append(str(words))
    query = (
        sa.select(
            Milestone, Department.name, Department.code,
            rules.health_sql(today, t).label("health"),
            rules.slipped_days_sql().label("slipped"),
        )
        .join(Department, Department.id == Milestone.department_id)
        .where(*conds)
        .order_by(Milestone.due_date, Milestone.id)
    )
    count = sa.select(sa.func.count()).select_from(Milestone).where(*conds)
    return query, count, labels


def _record_sort_columns(kind, today, t):
    """The columns each kind of record may be sorted by, its default and its tiebreak."""
    severity = sa.case({"low": 0, "medium": 1, "high": 2, "critical": 3},
                       value=Bottleneck.severity, else_=-1)
    if kind == "milestones":
        health = sa.case({h: i for i, h in enumerate(rules.HEALTHS)},
                         value=rules.health_sql(today, t), else_=len(rules.HEALTHS))
        return {
            "code": column(Milestone.code), "title": column(Milestone.title),
            "department": column(Department.name), "category": column(Milestone.category),
            "status": column(Milestone.status),
            "done": column(Milestone.percent_complete, descending_first=True),
            "baseline": column(Milestone.baseline_due), "due": column(Milestone.due_date),
            "slipped": column(rules.slipped_days_sql(), descending_first=True),
            "health": column(health),
        }, "due", (Milestone.id,)
    if kind == "bottlenecks":
        return {
            "title": column(Bottleneck.title), "department": column(Department.name),
            "category": column(Bottleneck.category),
            "severity": column(severity, descending_first=True),
            "status": column(Bottleneck.status), "raised": column(Bottleneck.raised_on),
            "age": column(rules.bottleneck_age_sql(today), descending_first=True),
            "action_by": column(Bottleneck.action_by),
        }, "raised", (Bottleneck.id,)
    if kind == "services":
        return {
            "name": column(Service.name), "department": column(Department.name, Service.name),
            "delivery": column(Service.delivery_mode),
            "time_limit": column(Service.time_limit_days),
            "target": column(Service.target_date),
        }, "department", (Service.id,)
    return {
        "name": column(DigitalAsset.name), "department": column(Department.name),
        "url": column(DigitalAsset.url), "valid_until": column(DigitalAsset.audit_valid_until),
    }, "valid_until", (DigitalAsset.id,)


def _bottleneck_query(filters, today):
    severity = _choice_arg("severity", SEVERITIES)
    ages = request.args.getlist("age")
    if any(a not in rules.AGE_BUCKETS for a in ages):
        abort(400)
    conds = [Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES), *dash.bottleneck_scope(filters)]
    labels = [str(_l("open"))]
    if severity:
        conds.append(Bottleneck.severity == severity)
        labels.append(label("severity", severity))
    if ages:
        conds.append(rules.age_bucket_sql(today).in_(ages))
        labels.append(", ".join(label("age_bucket", a) for a in ages))
    query = (
        sa.select(Bottleneck, Department.name, Department.code,
                  rules.bottleneck_age_sql(today).label("age"),
                  rules.past_sla_sql(today, thresholds()).label("past_sla"))
        .join(Department, Department.id == Bottleneck.department_id)
        .where(*conds)
        .order_by(Bottleneck.raised_on, Bottleneck.id)
    )
    count = sa.select(sa.func.count()).select_from(Bottleneck).where(*conds)
    return query, count, labels


def _service_query(filters):
    modes = request.args.getlist("mode")
    if any(m not in DELIVERY_MODES for m in modes):
        abort(400)
    conds = [Service.psga_notified.is_(True), *dash.register_scope(filters, Service.department_id)]
    labels = [str(_l("PSGA-notified"))]
    if modes:
        conds.append(Service.delivery_mode.in_(modes))
        labels.append(", ".join(label("delivery_mode", m) for m in modes))
    query = (
        sa.select(Service, Department.name, Department.code)
        .join(Department, Department.id == Service.department_id)
        .where(*conds)
        .order_by(Department.name, Service.name)
    )
    count = sa.select(sa.func.count()).select_from(Service).where(*conds)
    return query, count, labels


def _website_query(filters, today, t):
    certificate = _choice_arg("certificate", ("expired", "expiring"))
    conds = list(dash.register_scope(filters, DigitalAsset.department_id))
    labels = []
    if certificate == "expired":
        conds.append(rules.certificate_expired_sql(today))
        labels.append(str(_l("audit certificate expired")))
    elif certificate == "expiring":
        conds.append(rules.certificate_expiring_sql(today, t))
        labels.append(str(_l("audit certificate expiring")))
    query = (
        sa.select(DigitalAsset, Department.name, Department.code,
                  rules.certificate_state_sql(DigitalAsset.audit_valid_until, today, t).label("certificate"))
        .join(Department, Department.id == DigitalAsset.department_id)
        .where(*conds)
        .order_by(DigitalAsset.audit_valid_until, DigitalAsset.id)
    )
    count = sa.select(sa.func.count()).select_from(DigitalAsset).where(*conds)
    return query, count, labels


@bp.route("/records")
@login_required
def records():
    """The records behind a bar or a number of the dashboard, paged: three queries."""
    authorize("read")
    kind = request.args.get("kind", "milestones")
    if kind not in RECORD_KINDS:
        abort(400)
    today, departments, form, filters = _prepare()
    if filters is None:
        abort(400)
    t = thresholds()
    page = _int_arg("page") or 1
    if kind == "milestones":
        query, count, labels = _milestone_query(filters, today, t)
    elif kind == "bottlenecks":
        query, count, labels = _bottleneck_query(filters, today)
    elif kind == "services":
        query, count, labels = _service_query(filters)
    else:
        query, count, labels = _website_query(filters, today, t)
    fmt = export_format()
    if fmt:
        titles = {"milestones": _("Milestones"), "bottlenecks": _("Bottlenecks"),
                  "services": _("Services"), "websites": _("Websites and apps")}
        title = titles[kind] + (": " + ", ".join(labels) if labels else "")
        return export_list(fmt, kind, titles[kind], f"{title}. {_describe(filters)}",
                           RECORD_COLUMNS[kind](), query)
    total = db.session.execute(count).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        abort(404)
    filters_args = request.args.to_dict(flat=False)
    filters_args.pop("page", None)
    filters_args.pop("sort", None)
    columns, default, tiebreak = _record_sort_columns(kind, today, t)
    sort = Sort.from_args(
        request.args, columns, default,
        lambda value: url_for("dashboard.records") + "?" + urlencode(
            {**filters_args, **({} if value == default else {"sort": value})}, doseq=True),
        tiebreak=tiebreak)
    rows = db.session.execute(
        query.order_by(None).order_by(*sort.order_by())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    args = {**filters_args, **({} if sort.is_default else {"sort": sort.value})}

    def page_url(n):
        return url_for("dashboard.records") + "?" + urlencode({**args, "page": n}, doseq=True)

    back = url_for("dashboard.index") + (
        "?" + urlencode(filters.args()) if filters.args() else "")
    return render_template(
        "dashboard/records.html", kind=kind, rows=rows, total=total, page=page, pages=pages,
        page_url=page_url, labels=labels, description=_describe(filters), back=back,
        today=today, first=(page - 1) * PAGE_SIZE + 1, sort=sort,
        certificate_days=t.certificate_warning_days,
    )


# The records behind the dashboard as a file: rows of the ``_*_query`` functions above.
RECORD_COLUMNS = {
    "milestones": lambda: [
        ListColumn(_("Code"), lambda r: r[0].code, width=10),
        ListColumn(_("Milestone"), lambda r: r[0].title, "wrap", 36),
        ListColumn(_("Department"), lambda r: r[1], width=24),
        ListColumn(_("Category"), lambda r: label("milestone_category", r[0].category), width=16),
        ListColumn(_("Status"), lambda r: label("milestone_status", r[0].status), width=12),
        ListColumn(_("Done (%)"), lambda r: r[0].percent_complete, "number", 8),
        ListColumn(_("Baseline due"), lambda r: r[0].baseline_due, "date", 11),
        ListColumn(_("Due"), lambda r: r[0].due_date, "date", 11),
        ListColumn(_("Days slipped"), lambda r: r[4], "number", 8),
        ListColumn(_("Health"), lambda r: label("health", r[3]), width=10),
    ],
    "bottlenecks": lambda: [
        ListColumn(_("Bottleneck"), lambda r: r[0].title, "wrap", 36),
        ListColumn(_("Department"), lambda r: r[1], width=24),
        ListColumn(_("Category"), lambda r: label("bottleneck_category", r[0].category), width=16),
        ListColumn(_("Severity"), lambda r: label("severity", r[0].severity), width=10),
        ListColumn(_("Status"), lambda r: label("bottleneck_status", r[0].status), width=11),
        ListColumn(_("Raised"), lambda r: r[0].raised_on, "date", 11),
        ListColumn(_("Age (days)"), lambda r: r[3], "number", 8),
        ListColumn(_("Past SLA"), lambda r: _("Yes") if r[4] else _("No"), width=8),
        ListColumn(_("Action by"), lambda r: r[0].action_by or None, width=22),
    ],
    "services": lambda: [
        ListColumn(_("Service"), lambda r: r[0].name, "wrap", 36),
        ListColumn(_("Department"), lambda r: r[1], width=24),
        ListColumn(_("Delivery"), lambda r: label("delivery_mode", r[0].delivery_mode), width=18),
        ListColumn(_("PSGA time limit (days)"), lambda r: r[0].time_limit_days, "number", 10),
        ListColumn(_("Target date"), lambda r: r[0].target_date, "date", 11),
    ],
    "websites": lambda: [
        ListColumn(_("Website or app"), lambda r: r[0].name, "wrap", 30),
        ListColumn(_("Department"), lambda r: r[1], width=24),
        ListColumn(_("Address"), lambda r: r[0].url, width=34),
        ListColumn(_("Security audit valid until"), lambda r: r[0].audit_valid_until, "date", 12),
        ListColumn(_("Certificate"), lambda r: label(
            "website_certificate", r[3], days=thresholds().certificate_warning_days), width=12),
    ],
}
