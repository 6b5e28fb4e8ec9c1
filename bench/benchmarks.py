"""The registry of benchmarks. Each is one function taking the ``Context`` of a scale and
returning a list of ``Figure`` (names without the scale suffix; the harness adds it).

To add one, write a function here with the decorator, e.g.::

    @benchmark("dashboard")
    def dashboard(ctx):
        "The Secretary's dashboard through the app vs the statements it runs, bare."
        return ctx.page_vs_sql("dashboard", "/dashboard/", role="secretary")

Each path through the app is held against its limit in the same run: a page against its
statements replayed bare (``ctx.page_vs_sql``), the scan against its statements bare, an
export against a bare write-only openpyxl loop over the same rows.
Helpers for a measuring child process (``peak_memory``) live in ``bench.baseline``.
"""
from datetime import datetime

import sqlalchemy as sa

from bench.baseline import replay_workbook, roadmap_baseline, roadmap_baseline_from_url
from bench.harness import Figure, StatementRecorder, compare, percentile, replay, timed
from bench.memory import peak_memory

BENCHMARKS = {}


def benchmark(name, *, before_scan=False):
    """Register ``fn(ctx) -> [Figure]`` under ``name`` (the order of registration is the
    order they run in). Every benchmark measures the data as production has it: after a
    committed scan has raised its flags (``bench.run``); one registered ``before_scan``
    runs first, on the generated data without flags."""

    def register(fn):
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} registered twice")
        fn.before_scan = before_scan
        BENCHMARKS[name] = fn
        return fn

    return register


@benchmark("home_page")
def home_page(ctx):
    """The home page (every department's summary, ``tracker.queries.summaries``) for the Secretary,
    through the app vs the same statements bare."""
    return ctx.page_vs_sql("home_page", "/", role="secretary")


@benchmark("department_page")
def department_page(ctx):
    """The milestone list of the largest department through the app vs its statements bare:
    its first page (50 of the department's 10 to 1,000 milestones)."""
    from bench.generate import department_code

    return ctx.page_vs_sql("department_page", f"/departments/{department_code(1)}",
                           role="secretary")


@benchmark("overdue_first_page")
def overdue_first_page(ctx):
    """The first page (50 rows) of the overdue list as bare SQL, using ``rules.overdue_sql``,
    and the count of overdue milestones it would show beside it. The page itself is being
    built; when it lands, hold it against this with ``ctx.page_vs_sql``."""
    from models import Department, Milestone
    from tracker import rules

    overdue = rules.overdue_sql(ctx.today)
    page = (
        sa.select(Milestone.id, Milestone.code, Milestone.title, Milestone.due_date,
                  Milestone.status, Milestone.percent_complete, Department.name)
        .join(Department, Department.id == Milestone.department_id)
        .where(overdue)
        .order_by(Milestone.due_date, Milestone.id)
        .limit(50)
    )
    count = sa.select(sa.func.count()).select_from(Milestone).where(overdue)
    return ctx.sql("overdue_first_page", page) + ctx.sql("overdue_count", count)


@benchmark("dashboard")
def dashboard(ctx):
    """The Secretary's dashboard (``tracker/dashboard.py``) through the app (test client),
    median and p95, vs the aggregate statements it runs replayed bare on the same pool."""
    return ctx.page_vs_sql("dashboard", "/dashboard/", role="secretary")


@benchmark("dashboard_gunicorn")
def dashboard_gunicorn(ctx):
    """The Secretary's dashboard served by a real gunicorn (deploy/gunicorn.conf.py), single
    GETs one after another over loopback, vs the same statements bare, timed here."""
    from bench.load import time_gets

    client = ctx.client_as("secretary")
    ctx.get_ok(client, "/dashboard/")
    with StatementRecorder(ctx.engine) as recorder:
        ctx.get_ok(client, "/dashboard/")
    statements = recorder.statements
    samples = time_gets(ctx.database_url, "/dashboard/", ctx.latency_runs, ctx.warmup)
    bare = timed(lambda: replay(ctx.engine, statements), ctx.latency_runs, ctx.warmup)
    median = percentile(samples, 50)
    return [
        Figure("dashboard_gunicorn_latency_ms", median * 1000, "ms"),
        Figure("dashboard_gunicorn_latency_p95_ms", percentile(samples, 95) * 1000, "ms"),
        Figure("dashboard_gunicorn_bare_sql_ms", bare.median * 1000, "ms"),
        Figure("dashboard_gunicorn_ratio", median / bare.median, "x"),
    ]


@benchmark("overdue_list")
def overdue_list(ctx):
    """The overdue list's first page through the app (the dashboard's records page,
    ``/dashboard/records?health=overdue``: count and 50 rows) vs its statements bare. Served
    by the partial index ``ix_milestones_open_due``."""
    return ctx.page_vs_sql("overdue_list", "/dashboard/records?health=overdue",
                           role="secretary")


@benchmark("flag_scan", before_scan=True)
def flag_scan(ctx):
    """The flag scan (``jobs.scan.scan``: clear, escalate and raise per rule) vs the same
    statements replayed bare. Runs before the committed scan, and every run starts from the
    generated data and is rolled back, so each is the scan of a day on which every flag is
    raised afresh."""
    from jobs.scan import scan

    now = datetime.combine(ctx.today, datetime.min.time()).replace(hour=6)
    result = {}

    def run_scan():
        with ctx.app.app_context():
            with ctx.engine.connect() as conn:
                tx = conn.begin()
                try:
                    result["scan"] = scan(ctx.today, now, ctx.thresholds, connection=conn)
                finally:
                    tx.rollback()

    with StatementRecorder(ctx.engine) as recorder:
        run_scan()
    statements = recorder.statements
    timings = compare({"scan": run_scan, "bare": lambda: replay(ctx.engine, statements)},
                      ctx.runs, ctx.warmup)
    app, bare = timings["scan"], timings["bare"]
    return [
        Figure("flag_scan_s", app.median, "s"),
        Figure("flag_scan_bare_sql_s", bare.median, "s"),
        Figure("flag_scan_ratio", app.median / bare.median, "x"),
        Figure("flag_scan_statements", len(statements), "count"),
        Figure("flag_scan_flags_raised", result["scan"].raised, "count"),
    ]


def _export_vs_baseline(ctx, name, export, baseline, export_target, export_args,
                        baseline_target, baseline_args):
    """An export timed alternately with its bare limit in this process, and the peak memory
    of each measured in a fresh process."""
    timings = compare({"export": export, "bare": baseline}, ctx.runs, ctx.warmup)
    memory = peak_memory(export_target, ctx.database_url, *export_args)
    bare_memory = peak_memory(baseline_target, ctx.database_url, *baseline_args)
    app, bare = timings["export"], timings["bare"]
    return [
        Figure(f"{name}_s", app.median, "s"),
        Figure(f"{name}_bare_openpyxl_s", bare.median, "s"),
        Figure(f"{name}_ratio", app.median / bare.median, "x"),
        Figure(f"{name}_peak_rss_mb", memory["peak_rss_mb"], "MB"),
        Figure(f"{name}_peak_delta_mb", memory["peak_delta_mb"], "MB"),
        Figure(f"{name}_bare_openpyxl_peak_delta_mb", bare_memory["peak_delta_mb"], "MB"),
    ]


@benchmark("roadmap_export")
def roadmap_export(ctx):
    """The roadmap workbook (``exports.roadmap``: every milestone, 15 columns, labels,
    styles) vs a bare write-only openpyxl loop over the same statement's rows and cells:
    wall time, and peak memory in a fresh process."""
    from bench import baseline
    from exports.roadmap import COLUMNS, roadmap_query

    generated = datetime(2026, 1, 1)

    def export():
        with ctx.app.app_context():
            baseline.roadmap_export(ctx.today, generated)

    statement = roadmap_query(ctx.today, ctx.thresholds)
    header = [c.header for c in COLUMNS]
    return _export_vs_baseline(
        ctx, "roadmap_export", export,
        lambda: baseline.export_baseline(ctx.engine, statement, header),
        "bench.baseline:roadmap_export_from_url", (ctx.today,),
        "bench.baseline:roadmap_export_baseline_from_url", (ctx.today, ctx.thresholds))


@benchmark("minutes_export")
def minutes_export(ctx):
    """The minutes workbook of the latest meeting (``exports.minutes``: minutes, decisions,
    ATR, every overdue milestone) vs its statements replayed bare into a write-only loop:
    wall time, and peak memory in a fresh process."""
    from bench import baseline

    generated = datetime(2026, 1, 1)
    meeting_id = baseline.latest_meeting_id(ctx.engine)

    def export():
        with ctx.app.app_context():
            baseline.minutes_export(meeting_id, ctx.today, generated)

    export()
    with StatementRecorder(ctx.engine) as recorder:
        export()
    statements = recorder.statements
    figures = _export_vs_baseline(
        ctx, "minutes_export", export, lambda: baseline.replay_workbook(ctx.engine, statements),
        "bench.baseline:minutes_export_from_url", (ctx.today,),
        "bench.baseline:replay_workbook_from_url", (statements,))
    return figures


@benchmark("plan_import")
def plan_import(ctx):
    """An action-plan import of 5,000 rows (``exports.plan_import.read_plan`` then
    ``tracker.operations.imports.apply_plan``, flushed): half update existing milestones,
    half create new ones. Each run is rolled back so every run imports the same workbook."""
    from bench.baseline import plan_workbook
    from bench.generate import staff_email
    from exports.plan_import import read_plan
    from models import User
    from tracker.extensions import db
    from tracker.operations import imports

    data, n_rows = plan_workbook(ctx.engine, 5000)
    counts = {}

    def run():
        with ctx.app.test_request_context():
            try:
                user = db.session.execute(
                    sa.select(User).where(User.email == staff_email("nic"))).scalar_one()
                rows, problems = read_plan(data, imports.active_department_codes())
                if problems:
                    raise RuntimeError(f"plan import refused: {problems[:3]}")
                counts.update(imports.apply_plan(rows, user, filename="bench.xlsx"))
                db.session.flush()
            finally:
                db.session.rollback()
                db.session.remove()

    # At most 3 runs and no warm-up: one run is a minute on the loaded bench machine.
    timing = timed(run, min(ctx.runs, 3), warmup=0)
    return [
        Figure("plan_import_s", timing.median, "s"),
        Figure("plan_import_rows", n_rows, "rows"),
        Figure("plan_import_created", counts.get("created", 0), "count"),
        Figure("plan_import_updated", counts.get("updated", 0), "count"),
    ]


@benchmark("openpyxl_baseline")
def openpyxl_baseline(ctx):
    """The limit of the Excel exports: a bare write-only openpyxl loop over every milestone
    (12 cells a row), wall time and peak memory (measured in a fresh process)."""
    size = [0]

    def run():
        size[0] = len(roadmap_baseline(ctx.engine))

    # No warm-up run: at 100k one run takes many seconds and nothing in it is cached.
    timing = timed(run, ctx.runs, warmup=0)
    memory = peak_memory("bench.baseline:roadmap_baseline_from_url", ctx.database_url)
    return [
        Figure("openpyxl_write_only_s", timing.median, "s"),
        Figure("openpyxl_write_only_cells", ctx.milestones * 12, "count"),
        Figure("openpyxl_write_only_bytes_mb", size[0] / 2**20, "MB"),
        Figure("openpyxl_write_only_peak_rss_mb", memory["peak_rss_mb"], "MB"),
        Figure("openpyxl_write_only_peak_delta_mb", memory["peak_delta_mb"], "MB"),
    ]


@benchmark("load")
def load(ctx):
    """gunicorn with 2 workers on loopback, ``ctx.load_clients`` clients for
    ``ctx.load_seconds``: requests per second, p95 latency, errors."""
    from bench.load import run_load

    return run_load(ctx.database_url, seconds=ctx.load_seconds, clients=ctx.load_clients)


@benchmark("cli_start")
def cli_start(ctx):
    """``flask --app tracker jobs list`` as a fresh process (median of 5) against
    ``python -c "import flask"`` in the same run (bench.cli_start)."""
    from bench import cli_start as cli

    return cli.measure(runs=max(ctx.runs, 5), database_url=ctx.database_url)


@benchmark("page_weight")
def page_weight(ctx):
    """Bytes over the wire and time to load on a 750/250 kbit/s, 100 ms link (Chromium, CDP),
    first and repeat visit, as the Secretary, on the scanned data (bench.page_weight)."""
    from bench import page_weight as pw
    from bench.generate import PASSWORD, department_code, staff_email

    return pw.run_on_app(ctx.app, ctx.engine, ctx.today, staff_email("secretary"), PASSWORD,
                         department_code(1), scan=False)
@benchmark("list_export")
def list_export(ctx):
    """"Export this list" on the overdue list as xlsx (``bench.list_export``) vs its statements
    replayed bare into a write-only openpyxl loop: wall time, and peak memory in a fresh
    process. Target: ratio at most 1.3, peak memory flat from 1k to 100k."""
    from bench import list_export as lx

    client = ctx.client_as("secretary")
    statements = lx.record_statements(ctx, client)
    figures = _export_vs_baseline(
        ctx, "list_export", lambda: lx.download(client),
        lambda: replay_workbook(ctx.engine, statements),
        "bench.list_export:download_from_url", (),
        "bench.list_export:replay_from_url", (statements,))
    with ctx.engine.connect() as conn:
        from models import Milestone
        from tracker import rules

        overdue = conn.scalar(sa.select(sa.func.count(Milestone.id))
                              .where(rules.overdue_sql(ctx.today)))
    return figures + [Figure("list_export_rows", overdue, "rows")]


_BACKTEST = {}


@benchmark("forecast_backtest")
def forecast_backtest(ctx):
    """The forecasts' backtest (``bench.forecast_backtest``): milestones completed in the
    last 180 days forecast from the data as it stood half-way through their planned time, on
    generated departments with known slip habits and on the demo roadmap, against the naive
    "finishes on its due date". Independent of the scale: computed once per run."""
    from bench import forecast_backtest as backtest

    if ctx.today not in _BACKTEST:
        _BACKTEST[ctx.today] = backtest.figures(ctx.today, ctx.thresholds.forecast_margin_days)
    return list(_BACKTEST[ctx.today])
