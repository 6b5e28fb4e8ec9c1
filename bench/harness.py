"""What every benchmark uses: figures, repeated timings, the statements a page runs and
their bare replay, and the ``Context`` a benchmark function receives.

A figure is ``name value unit``; the harness appends the scale (``_1k``, ``_100k``) to the
name. A timing is the median (and p95) of ``runs`` runs after ``warmup`` runs; when an app
path is held against its limit (``compare``) the two are run alternately in the same
process, so a busy machine slows both alike.
"""
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

_NOT_A_QUERY = re.compile(r"\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT|PRAGMA)", re.I)


@dataclass
class Figure:
    name: str
    value: float
    unit: str

    def line(self):
        value = f"{self.value:.0f}" if self.unit in ("count", "rows") else f"{self.value:.2f}"
        return f"{self.name} {value} {self.unit}"


@dataclass
class Timing:
    samples: list = field(default_factory=list)  # seconds

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def p95(self):
        """Nearest-rank 95th percentile."""
        ordered = sorted(self.samples)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def percentile(values, pct):
    """Nearest-rank percentile of a list of numbers (0 for an empty list)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, -(-pct * len(ordered) // 100) - 1)]


def timed(fn, runs, warmup=1):
    """``fn()`` run ``warmup`` times, then ``runs`` timed runs."""
    return compare({"only": fn}, runs, warmup)["only"]


def compare(fns, runs, warmup=1):
    """Each function of ``{name: fn}`` run alternately: ``warmup`` rounds, then ``runs``
    timed rounds. Returns ``{name: Timing}``."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    timings = {name: Timing() for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            timings[name].samples.append(time.perf_counter() - started)
    return timings


class StatementRecorder:
    """Records the SQL statements (with their driver parameters) run on ``engine`` inside
    the ``with`` block, so they can be replayed bare."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = []

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if not _NOT_A_QUERY.match(statement):
            if executemany:  # replayed one parameter set at a time
                self.statements.extend((statement, p) for p in parameters)
            else:
                self.statements.append((statement, parameters))

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._before)


def replay(engine, statements):
    """Run ``statements`` on a pooled DBAPI connection of ``engine`` and fetch every row:
    the database's and driver's share of a page, without the ORM, the view or the template."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            # The app's SQLite connections run in driver autocommit and start their own
            # transactions (tracker/extensions.py): open one, so replayed writes roll back.
            cursor.execute("BEGIN")
        rows = 0
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                rows += len(cursor.fetchall())
        cursor.close()
        raw.rollback()
        return rows
    finally:
        raw.close()


def scan_and_commit(app, today):
    """Raise the flags as the scheduler would, committed: the data as production has it (a
    department page lists its open flags, the home pages count them). Returns the number
    raised (0 when a scan of ``today`` already ran)."""
    from jobs.scan import scan
    from tracker.extensions import db
    from tracker.settings import thresholds

    with app.app_context():
        now = datetime.combine(today, datetime.min.time()).replace(hour=6)
        t = thresholds()
        db.session.remove()  # SQLite: one writer; the scan's connection is it
        with db.engine.begin() as conn:
            return scan(today, now, t, connection=conn).raised


@dataclass
class Context:
    """What a benchmark function gets: the app on the benchmark database and the settings
    of this run. No app context is active while a benchmark runs (each test-client request
    pushes and tears down its own, as in production); push ``ctx.app.app_context()`` to call
    app code directly."""

    app: object
    engine: object  # the app's engine (db.engine), shared with the pages measured
    database_url: str
    backend: str  # "sqlite" or "postgresql"
    milestones: int
    label: str  # "1k", "10k", "100k"
    today: object
    runs: int = 5
    warmup: int = 1
    latency_runs: int = 20
    load_seconds: float = 30.0
    load_clients: int = 8
    thresholds: object = None
    _clients: dict = field(default_factory=dict)

    def client_as(self, role="secretary"):
        """A test client signed in as the bench account of ``role`` (made by the generator)."""
        from bench.generate import PASSWORD, staff_email

        if role not in self._clients:
            client = self.app.test_client()
            response = client.post("/sign-in", data={"email": staff_email(role),
                                                     "password": PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"bench sign-in as {role} failed: {response.status_code}")
            self._clients[role] = client
        return self._clients[role]

    def get_ok(self, client, url):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        return response

    def page_vs_sql(self, name, url, role="secretary"):
        """A page through the app (test client) held against the same statements run bare.

        Figures: ``<name>_latency_ms`` (median), ``<name>_latency_p95_ms``,
        ``<name>_bare_sql_ms``, ``<name>_ratio`` (app / bare) and ``<name>_queries``."""
        client = self.client_as(role)
        self.get_ok(client, url)  # warm the caches before recording
        with StatementRecorder(self.engine) as recorder:
            self.get_ok(client, url)
        statements = recorder.statements
        timings = compare(
            {"app": lambda: self.get_ok(client, url),
             "bare": lambda: replay(self.engine, statements)},
            self.latency_runs, self.warmup,
        )
        app, bare = timings["app"], timings["bare"]
        return [
            Figure(f"{name}_latency_ms", app.median * 1000, "ms"),
            Figure(f"{name}_latency_p95_ms", app.p95 * 1000, "ms"),
            Figure(f"{name}_bare_sql_ms", bare.median * 1000, "ms"),
            Figure(f"{name}_ratio", app.median / bare.median, "x"),
            Figure(f"{name}_queries", len(statements), "count"),
        ]

    def sql(self, name, statement):
        """A bare statement on its own (no page uses it yet): median of ``runs``."""

        def run():
            with self.engine.connect() as conn:
                return len(conn.execute(statement).all())

        rows = run()
        timing = timed(run, self.runs, self.warmup)
        return [
            Figure(f"{name}_bare_sql_ms", timing.median * 1000, "ms"),
            Figure(f"{name}_rows", rows, "rows"),
        ]
