"""The registry of benchmarks. Each is one function taking the ``Context`` of a scale and
returning a list of ``Figure`` (names without the scale suffix; the harness adds it).

To add one when its feature lands, write a function here with the decorator, e.g.::

    @benchmark("dashboard")
    def dashboard(ctx):
        "The Secretary's dashboard through the app vs the statements it runs, bare."
        return ctx.page_vs_sql("dashboard", "/dashboard", role="secretary")

    @benchmark("flag_scan")
    def flag_scan(ctx):
        from jobs import scan
        with StatementRecorder(ctx.engine) as rec:
            ...  # run the scan once, commit
        timings = compare({"scan": run_scan, "bare": lambda: replay(ctx.engine, rec.statements)},
                          ctx.runs, ctx.warmup)
        ...

    @benchmark("roadmap_export")
    def roadmap_export(ctx):
        mem = peak_memory("exports.roadmap:build_from_url", ctx.database_url)
        ...  # beside the figures of ``openpyxl_baseline`` below

Not here yet, because the features are being built: the dashboard, the overdue list page,
the flag scan, the roadmap and minutes exports, the action-plan import (5,000 rows), and the
``update_milestone`` action of the load test (``bench/load.py``).
"""
import sqlalchemy as sa

from bench.baseline import roadmap_baseline, roadmap_baseline_from_url
from bench.harness import Figure, timed
from bench.memory import peak_memory

BENCHMARKS = {}


def benchmark(name):
    """Register ``fn(ctx) -> [Figure]`` under ``name`` (the order of registration is the
    order they run in)."""

    def register(fn):
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} registered twice")
        BENCHMARKS[name] = fn
        return fn

    return register


@benchmark("home_page")
def home_page(ctx):
    """The home page (every department's summary, ``tracker.reports``) for the Secretary,
    through the app vs the same statements bare."""
    return ctx.page_vs_sql("home_page", "/", role="secretary")


@benchmark("department_page")
def department_page(ctx):
    """The milestone list of the largest department through the app vs its statements bare.
    The page is not paged: it grows with the department's milestones (1,000 at 100k)."""
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
