"""The dashboard's charts, built with Plotly in Python, and the table of numbers behind each.

Each builder takes the ``Overview`` of ``tracker.queries.overview`` and a ``link(**args)`` callable
that returns the address of the records behind a bar or a cell, and returns a ``Chart``: the
figure (as JSON for plotly.js, each bar's address in its ``customdata``) and a ``Table`` with
the same numbers. Health, severity and delivery mode are never shown by colour alone: every
trace has a text label in the legend and on its bars and a fill pattern of its own.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import format_date
from flask_babel import gettext as _

from models.bottleneck import SEVERITIES
from models.service import DELIVERY_MODES
from tracker import rules
from tracker.labels import label as code_label
from tracker.queries.overview import CHART_HEALTHS


class _LazyGraphObjects:
    """``plotly.graph_objects``, imported on first use: a CLI command or a worker that draws no
    chart never imports Plotly (0.5-1 s of start-up)."""

    def __getattr__(self, name):
        import plotly.graph_objects as real

        return getattr(real, name)


go = _LazyGraphObjects()

# Colours with at least 3:1 contrast against white; each paired with a pattern.
HEALTH_STYLE = {
    "overdue": ("#b2182b", "x"),
    "at_risk": ("#a35200", "/"),
    "on_track": ("#2166ac", ""),
    "done": ("#1b7837", "."),
    "dropped": ("#5f5f5f", "-"),
}
SEVERITY_STYLE = {
    "critical": ("#67001f", "x"),
    "high": ("#b2182b", "\\"),
    "medium": ("#a35200", "/"),
    "low": ("#2166ac", ""),
}
MODE_STYLE = {
    "offline": ("#5f5f5f", "x"),
    "online_standalone": ("#2166ac", "/"),
    "integrated": ("#1b7837", ""),
}
FONT = {"family": "Noto Sans, system-ui, sans-serif", "size": 13, "color": "#1b1b1b"}


@dataclass
class Cell:
    value: object
    link: str | None = None
    text: str | None = None  # what the page shows, when not the value itself

    @property
    def shown(self):
        if self.text is not None:
            return self.text
        return "" if self.value is None else self.value


@dataclass
class Table:
    """Numbers of a chart. The first cell of each row is its row header."""

    caption: str
    headers: list
    rows: list = field(default_factory=list)
    numeric: list = field(default_factory=list)  # per column: right-aligned number?
    row_header: int = 0  # the column that names the row (<th scope="row">)


@dataclass
class Chart:
    name: str  # stable: element ids chart-<name>, figure-<name>, download file names
    title: str
    figure: dict
    table: Table
    note: str = ""
    # A list that says in words what the chart draws beside the bars (the timeline's
    # dependencies): (text, link) pairs under ``links_title``, and what it left out.
    links: list = field(default_factory=list)
    links_title: str = ""
    links_note: str = ""

    @property
    def figure_json(self):
        """The figure as JSON safe inside <script type="application/json">."""
        text = json.dumps(self.figure, separators=(",", ":"), default=str)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure(fig: go.Figure) -> dict:
    """The figure as plain data. Built unvalidated (validation costs more than the queries);
    ``tests/test_dashboard.py`` validates every figure against Plotly's schema."""
    return json.loads(fig.to_json(validate=False))


def _layout(title, x_title, y_title, height=420, **kw):
    layout = dict(
        template="none",
        title={"text": title, "x": 0.01, "xanchor": "left", "xref": "container",
               "y": 1, "yanchor": "top", "yref": "container", "pad": {"t": 12}},
        font=FONT,
        xaxis={"title": {"text": x_title}, "automargin": True, "gridcolor": "#e0e0e0"},
        yaxis={"title": {"text": y_title}, "automargin": True, "gridcolor": "#e0e0e0"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0,
                "traceorder": "normal"},
        margin={"l": 10, "r": 10, "t": 110, "b": 10},
        height=height,
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
    )
    for key, value in kw.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _marker(colour, pattern):
    return {
        "color": colour,
        "line": {"color": "#1b1b1b", "width": 0.5},
        # The colour fills the bar; the pattern is drawn over it in white.
        "pattern": {"shape": pattern, "fillmode": "overlay", "fgcolor": "#ffffff",
                    "fgopacity": 0.6, "size": 8, "solidity": 0.25},
    }


def _bar_height(n):
    """Tall enough for ``n`` labelled bars and no taller: the dashboard reads in one pass."""
    return max(320, 140 + 17 * n)


def _pct(value):
    return "" if value is None else f"{value:g}%"


# --- 1 Milestone health by department --------------------------------------------------------------


def health_chart(ov, link) -> Chart:
    title = _("Milestone health by department, worst first")
    depts = ov.health_ranked
    names = [d.name for d in depts]
    traces = []
    for h in CHART_HEALTHS:
        colour, pattern = HEALTH_STYLE[h]
        counts = [ov.stats[d.id].counts[h] if d.id in ov.stats else 0 for d in depts]
        traces.append(go.Bar(
            _validate=False,
            name=code_label("health", h),
            y=names,
            x=counts,
            orientation="h",
            marker=_marker(colour, pattern),
            text=[str(n) if n else "" for n in counts],
            textposition="inside",
            insidetextanchor="middle",
            customdata=[link(department=d.code, health=h) for d in depts],
            hovertemplate="%{y}<br>" + code_label("health", h) + ": %{x}<extra></extra>",
        ))
    fig = go.Figure(_validate=False, data=traces, layout=_layout(title, _("Milestones"), _("Department"), _bar_height(len(depts)),
                barmode="stack", yaxis={"autorange": "reversed", "type": "category"})
    )
    headers = [_("Department")] + [code_label("health", h) for h in CHART_HEALTHS] + [
        code_label("health", "dropped"), _("Total")]
    rows = []
    empty = {h: 0 for h in rules.HEALTHS}
    for d in depts:
        counts = ov.stats[d.id].counts if d.id in ov.stats else empty
        row = [Cell(d.name, link(department=d.code))]
        row += [Cell(counts[h], link(department=d.code, health=h))
                for h in CHART_HEALTHS + ("dropped",)]
        row.append(Cell(sum(counts.values()), link(department=d.code)))
        rows.append(row)
    table = Table(_("Milestones by health and department (worst first)"), headers, rows,
                  [False] + [True] * (len(headers) - 1))
    return Chart("health", title, _figure(fig), table)


# --- 2 Timeline --------------------------------------------------------------------------------------


def timeline_chart(ov, link, dept_names, name="timeline", rows=None, total=None, caption=None) -> Chart:
    rows = ov.timeline if rows is None else rows
    total = ov.timeline_total if total is None else total
    title = caption or _("Timeline of open milestones: baseline and current due dates")
    day = timedelta(days=1)
    ms_per_day = 86_400_000

    def label(r):
        return f"{r.code} · {dept_names.get(r.department_id, '')}"

    labels = [label(r) for r in rows]
    starts = [r.start_date or r.baseline_due or r.due_date for r in rows]
    links = [link(milestone=r.id) for r in rows]
    traces = []
    with_baseline = [i for i, r in enumerate(rows) if r.baseline_due is not None]
    traces.append(go.Bar(
            _validate=False,
        name=_("Baseline (approved) due date"),
        y=[labels[i] for i in with_baseline],
        base=[starts[i].isoformat() for i in with_baseline],
        x=[((rows[i].baseline_due - starts[i]) + day).days * ms_per_day for i in with_baseline],
        orientation="h",
        marker=_marker("#9e9e9e", "/"),
        text=[_("Baseline") for _i in with_baseline],
        textposition="inside",
        customdata=[links[i] for i in with_baseline],
        hovertext=[rows[i].baseline_due.isoformat() for i in with_baseline],
        hovertemplate="%{y}<br>" + _("Baseline due") + ": %{hovertext}<extra></extra>",
    ))
    for h in CHART_HEALTHS:
        idx = [i for i, r in enumerate(rows) if r.health == h]
        if not idx:
            continue
        colour, pattern = HEALTH_STYLE[h]
        traces.append(go.Bar(
            _validate=False,
            name=_("Current due date") + f": {code_label('health', h)}",
            y=[labels[i] for i in idx],
            base=[starts[i].isoformat() for i in idx],
            x=[((rows[i].due_date - starts[i]) + day).days * ms_per_day for i in idx],
            orientation="h",
            marker=_marker(colour, pattern),
            text=[code_label("health", h) for _i in idx],
            textposition="inside",
            customdata=[links[i] for i in idx],
            hovertext=[rows[i].due_date.isoformat() for i in idx],
            hovertemplate="%{y}<br>" + _("Current due") + ": %{hovertext}<extra></extra>",
        ))
    forecast = [i for i, r in enumerate(rows) if getattr(r, "forecast", None) is not None]
    if forecast:
        traces.append(go.Scatter(
            _validate=False,
            name=_("Forecast finish"),
            y=[labels[i] for i in forecast],
            x=[rows[i].forecast.isoformat() for i in forecast],
            mode="markers",
            marker={"symbol": "diamond", "size": 11, "color": "#1b1b1b",
                    "line": {"color": "#ffffff", "width": 1}},
            customdata=[links[i] for i in forecast],
            hovertext=[_fmt(rows[i].forecast) for i in forecast],
            hovertemplate="%{y}<br>" + _("Forecast finish") + ": %{hovertext}<extra></extra>",
        ))
    fig = go.Figure(_validate=False, data=traces, layout=_layout(title, _("Date"), _("Milestone"), _bar_height(len(rows) * 1.3),
                barmode="group",
                xaxis={"type": "date"},
                yaxis={"autorange": "reversed", "type": "category", "categoryorder": "array",
                       "categoryarray": labels},
                shapes=[{"type": "line", "x0": ov.today.isoformat(), "x1": ov.today.isoformat(),
                         "y0": 0, "y1": 1, "yref": "paper", "name": "today",
                         "line": {"color": "#1b1b1b", "width": 2, "dash": "dash"}}],
                annotations=[{"x": ov.today.isoformat(), "y": 1, "yref": "paper",
                              "yanchor": "bottom", "showarrow": False,
                              "text": _("Today") + " " + ov.today.strftime("%d-%m-%Y"),
                              "font": {"color": "#1b1b1b"}}])
    )
    headers = [_("Milestone"), _("Department"), _("Title"), _("Start"), _("Baseline due"),
               _("Current due"), _("Days slipped"), _("Done (%)"), _("Health"),
               _("Forecast finish")]
    table_rows = []
    for r, url in zip(rows, links):
        table_rows.append([
            Cell(r.code, url),
            Cell(dept_names.get(r.department_id, "")),
            Cell(r.title, url),
            Cell(r.start_date, text=_fmt(r.start_date)),
            Cell(r.baseline_due, text=_fmt(r.baseline_due)),
            Cell(r.due_date, text=_fmt(r.due_date)),
            Cell(r.slipped),
            Cell(r.percent_complete),
            Cell(r.health, text=code_label("health", r.health)),
            Cell(getattr(r, "forecast", None), text=_fmt(getattr(r, "forecast", None))),
        ])
    note = _("Showing %(shown)d of %(total)d open milestones, earliest due first. The "
             "diamond marks the forecast finish as of the latest scan.",
             shown=len(rows), total=total)
    table = Table(title, headers, table_rows,
                  [False, False, False, False, False, False, True, True, False, False])
    chart = Chart(name, title, _figure(fig), table, note)
    if name == "timeline":
        pairs = getattr(ov, "dependencies", [])
        chart.links_title = _("Dependencies of the milestones shown")
        chart.links = [
            (_("%(code)s waits for %(other)s · %(title)s", code=r.code, other=code,
               title=ptitle), link(milestone=pid))
            for r, pid, code, ptitle in pairs]
        total_deps = getattr(ov, "dependencies_total", 0)
        if total_deps > len(pairs):
            chart.links_note = _("Showing %(shown)d of %(total)d dependencies.",
                                 shown=len(pairs), total=total_deps)
    return chart


def _fmt(day):
    return day.strftime("%d-%m-%Y") if day else ""


# --- 3 Bottleneck ageing -------------------------------------------------------------------------------


def bottleneck_chart(ov, link) -> Chart:
    title = _("Open bottlenecks by age and severity")
    b = ov.bottlenecks
    buckets = list(rules.AGE_BUCKETS)
    labels = [code_label("age_bucket", x) for x in buckets]
    traces = []
    for s in reversed(SEVERITIES):
        colour, pattern = SEVERITY_STYLE[s]
        counts = [b.buckets[x][s] for x in buckets]
        traces.append(go.Bar(
            _validate=False,
            name=code_label("severity", s),
            x=labels,
            y=counts,
            marker=_marker(colour, pattern),
            text=[str(n) if n else "" for n in counts],
            textposition="inside",
            customdata=[link(kind="bottlenecks", age=x, severity=s) for x in buckets],
            hovertemplate="%{x}<br>" + code_label("severity", s) + ": %{y}<extra></extra>",
        ))
    fig = go.Figure(_validate=False, data=traces, layout=_layout(title, _("Age (days open)"), _("Open bottlenecks"), 360,
                              barmode="stack"))
    headers = [_("Age")] + [code_label("severity", s) for s in reversed(SEVERITIES)] + [_("Total")]
    rows = []
    for x, lab in zip(buckets, labels):
        row = [Cell(lab)]
        row += [Cell(b.buckets[x][s], link(kind="bottlenecks", age=x, severity=s))
                for s in reversed(SEVERITIES)]
        row.append(Cell(sum(b.buckets[x].values()), link(kind="bottlenecks", age=x)))
        rows.append(row)
    total = [Cell(_("All ages"))]
    total += [Cell(b.by_severity[s], link(kind="bottlenecks", severity=s))
              for s in reversed(SEVERITIES)]
    total.append(Cell(b.total, link(kind="bottlenecks")))
    rows.append(total)
    median = [Cell(_("Median age (days)"))]
    median += [Cell(b.median_age[s], text=_num(b.median_age[s])) for s in reversed(SEVERITIES)]
    median.append(Cell(b.overall_median_age, text=_num(b.overall_median_age)))
    rows.append(median)
    table = Table(title, headers, rows, [False] + [True] * (len(headers) - 1))
    return Chart("bottlenecks", title, _figure(fig), table)


def _num(value):
    if value is None:
        return "–"
    return f"{value:g}"


# --- 4 PSGA services by delivery mode -------------------------------------------------------------------


def services_chart(ov, link) -> Chart:
    title = _("PSGA-notified services by delivery mode and department")
    depts = [d for d in ov.departments if d.id in ov.services] or []
    depts.sort(key=lambda d: (-ov.services[d.id]["offline"], d.name))
    names = [d.name for d in depts]
    traces = []
    for mode in DELIVERY_MODES:
        colour, pattern = MODE_STYLE[mode]
        counts = [ov.services[d.id][mode] for d in depts]
        traces.append(go.Bar(
            _validate=False,
            name=code_label("delivery_mode", mode),
            y=names,
            x=counts,
            orientation="h",
            marker=_marker(colour, pattern),
            text=[str(n) if n else "" for n in counts],
            textposition="inside",
            customdata=[link(kind="services", department=d.code, mode=mode) for d in depts],
            hovertemplate="%{y}<br>" + code_label("delivery_mode", mode) + ": %{x}<extra></extra>",
        ))
    fig = go.Figure(_validate=False, data=traces, layout=_layout(title, _("PSGA-notified services"), _("Department"), _bar_height(len(depts)),
                barmode="stack", yaxis={"autorange": "reversed", "type": "category"})
    )
    headers = [_("Department")] + [code_label("delivery_mode", m) for m in DELIVERY_MODES] + [
        _("Notified"), _("Online (%)"), _("Integrated (%)")]
    rows = []
    for d in depts:
        counts = ov.services[d.id]
        notified = sum(counts.values())
        online = counts["online_standalone"] + counts["integrated"]
        row = [Cell(d.name, link(kind="services", department=d.code))]
        row += [Cell(counts[m], link(kind="services", department=d.code, mode=m))
                for m in DELIVERY_MODES]
        row.append(Cell(notified, link(kind="services", department=d.code)))
        row.append(Cell(round(100 * online / notified, 1) if notified else None))
        row.append(Cell(round(100 * counts["integrated"] / notified, 1) if notified else None))
        rows.append(row)
    st = ov.service_totals
    total = [Cell(_("All departments"))]
    total += [Cell(st["modes"][m], link(kind="services", mode=m)) for m in DELIVERY_MODES]
    total += [Cell(st["notified"], link(kind="services")), Cell(st["online_pct"]),
              Cell(st["integrated_pct"])]
    rows.append(total)
    table = Table(title, headers, rows, [False] + [True] * (len(headers) - 1))
    return Chart("services", title, _figure(fig), table,
                 _("Services are a register: only the department filter applies."))


# --- 5 Progress over time -------------------------------------------------------------------------------


def progress_chart(ov, link) -> Chart:
    title = _("Progress over time: milestones planned and actually done, by month")
    months = ov.progress
    labels = [format_date(m.month, "MMM yyyy") for m in months]
    traces = []
    traces.append(go.Bar(
            _validate=False,
        name=_("Planned to be done"),
        x=labels,
        y=[m.planned for m in months],
        marker=_marker("#5f5f5f", "/"),
        text=[str(m.planned) if m.planned else "" for m in months],
        textposition="outside",
        customdata=[link(planned=m.key) for m in months],
        hovertemplate="%{x}<br>" + _("Planned") + ": %{y}<extra></extra>",
    ))
    traces.append(go.Bar(
            _validate=False,
        name=_("Actually done"),
        x=labels,
        y=[m.done for m in months],
        marker=_marker("#1b7837", ""),
        text=[str(m.done) if m.done else "" for m in months],
        textposition="outside",
        customdata=[link(done=m.key) for m in months],
        hovertemplate="%{x}<br>" + _("Done") + ": %{y}<extra></extra>",
    ))
    fig = go.Figure(_validate=False, data=traces, layout=_layout(title, _("Month"), _("Milestones"), 360, barmode="group",
                              xaxis={"type": "category"}))
    headers = [_("Month"), _("Planned to be done"), _("Actually done"),
               _("Planned, cumulative"), _("Done, cumulative")]
    rows = [
        [Cell(lab), Cell(m.planned, link(planned=m.key)), Cell(m.done, link(done=m.key)),
         Cell(m.planned_cumulative), Cell(m.done_cumulative)]
        for m, lab in zip(months, labels)
    ]
    table = Table(title, headers, rows, [False, True, True, True, True])
    return Chart("progress", title, _figure(fig), table,
                 _("Planned: by baseline due date (else the due date), dropped milestones left "
                   "out. Done: completions recorded in the update history."))


# --- 6 Scorecard -----------------------------------------------------------------------------------------


def scorecard_chart(ov, link) -> Chart:
    title = _("Department scorecard: on-time rate, ranked worst first")
    rows = ov.scorecard
    names = [r.department.name for r in rows]
    rates = [r.on_time_rate for r in rows]
    traces = []
    traces.append(go.Bar(
            _validate=False,
        name=_("On-time rate (%)"),
        y=names,
        x=[0 if v is None else v for v in rates],
        orientation="h",
        marker=_marker("#2166ac", ""),
        text=[_("none due") if v is None else f"{v:g}%" for v in rates],
        textposition="outside",
        customdata=[link(department=r.department.code, due_so_far="1") for r in rows],
        hovertemplate="%{y}<br>" + _("On-time rate") + ": %{text}<extra></extra>",
    ))
    forecast_rates = [r.forecast_on_time_rate for r in rows]
    traces.append(go.Bar(
        _validate=False,
        name=_("Forecast on-time rate (%)"),
        y=names,
        x=[0 if v is None else v for v in forecast_rates],
        orientation="h",
        marker=_marker("#b35806", "x"),
        text=[_("no forecast") if v is None else f"{v:g}%" for v in forecast_rates],
        textposition="outside",
        customdata=[link(department=r.department.code) for r in rows],
        hovertemplate="%{y}<br>" + _("Forecast on-time rate") + ": %{text}<extra></extra>",
    ))
    fig = go.Figure(_validate=False, data=traces, layout=_layout(title, _("Milestones due so far completed on time (%)"),
                _("Department"), _bar_height(len(rows)),
                barmode="group", xaxis={"range": [0, 110]},
                yaxis={"autorange": "reversed", "type": "category"})
    )
    headers = [_("Rank"), _("Department"), _("On-time rate (%)"),
               _("Completed on time"), _("Due so far"), _("Average slippage (days)"),
               _("Stale updates"), _("Open bottlenecks over 30 days"),
               _("Audit certificates expired"), _("Audit certificates expiring"),
               _("Forecast on time (%)"), _("Open milestones forecast")]
    table_rows = []
    for r in rows:
        code = r.department.code
        table_rows.append([
            Cell(r.rank),
            Cell(r.department.name, link(department=code)),
            Cell(r.on_time_rate, text=_pct(r.on_time_rate) or "–"),
            Cell(r.on_time, link(department=code, on_time="1")),
            Cell(r.due_so_far, link(department=code, due_so_far="1")),
            Cell(r.average_slippage, link(department=code, slipped="1")),
            Cell(r.stale, link(department=code, stale="1")),
            Cell(r.bottlenecks_over_30, link(kind="bottlenecks", department=code,
                                             age=list(("31-60", "60+")))),
            Cell(r.certificates_expired, link(kind="websites", department=code,
                                              certificate="expired")),
            Cell(r.certificates_expiring, link(kind="websites", department=code,
                                               certificate="expiring")),
            Cell(r.forecast_on_time_rate, text=_pct(r.forecast_on_time_rate) or "–"),
            Cell(r.forecast_total),
        ])
    table = Table(title, headers, table_rows, [True, False] + [True] * 10, row_header=1)
    return Chart("scorecard", title, _figure(fig), table,
                 _("On-time rate: milestones completed by their baseline due date (else due "
                   "date), of those completed or overdue. Slippage: average days the due date "
                   "moved past the baseline. Departments with nothing due yet come last. "
                   "Forecast on time: open milestones forecast (from the department's own "
                   "record, as of the latest scan) to finish by their due date."))


BUILDERS = {
    "health": health_chart,
    "bottlenecks": bottleneck_chart,
    "services": services_chart,
    "progress": progress_chart,
    "scorecard": scorecard_chart,
}


def build(name, ov, link, dept_names):
    if name == "timeline":
        return timeline_chart(ov, link, dept_names)
    return BUILDERS[name](ov, link)
