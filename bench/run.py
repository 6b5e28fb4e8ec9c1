"""The benchmark run: ``make bench`` (``python -m bench.run``).

For each scale: build the benchmark database (``bench.generate``), open the app on it, run
every benchmark of the registry (``bench.benchmarks``) and print one ``name value unit``
line per figure, the scale appended to the name (``home_page_latency_ms_100k``). The same
figures, with the machine they were measured on, go to ``bench/results/latest.json``.

    python -m bench.run --db sqlite --scales 1000,10000,100000
    python -m bench.run --db postgresql --database-url postgresql://127.0.0.1/bench_pg
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.generate import PASSWORD, engine_for, generate, scale_label
from bench.harness import Context, Figure, scan_and_commit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
DEFAULT_SCALES = "1000,10000,100000"


def machine():
    """What the figures were measured on."""
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["memory_gb"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    import sqlite3

    info["sqlite"] = sqlite3.sqlite_version
    return info


def database_url_for(backend, label, url=None, keep=False):
    """The database a scale is built in: given, or a fresh SQLite file per scale, or
    BENCH_DATABASE_URL (default postgresql://127.0.0.1/bench_pg), emptied and rebuilt."""
    if backend == "postgresql":
        url = url or os.environ.get("BENCH_DATABASE_URL", "postgresql://127.0.0.1/bench_pg")
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith(
            "postgresql://") else url
    if url:
        return url
    directory = ROOT / "instance" / "bench"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench_{label}.db"
    if keep:
        return f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def make_app(database_url):
    """The app on the benchmark database; CSRF and the sign-in rate limit off for the
    in-process test client only (the pages measured are GETs)."""
    from tracker import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
         "RATELIMIT_ENABLED": False, "DEBUG": False, "TESTING": False},
        config_name="development",
    )


def run_scale(milestones, args, emit, password_hash=None):
    """Generate one scale and run the selected benchmarks on it."""
    from bench.benchmarks import BENCHMARKS
    from tracker import clock
    from tracker.extensions import db
    from tracker.settings import thresholds

    label = scale_label(milestones)
    url = database_url_for(args.db, label, args.database_url, keep=args.keep_data)
    app = make_app(url)
    with app.app_context():
        today = clock.today()
    if not args.keep_data:
        loader = engine_for(url)
        counts, seconds = generate(loader, milestones, today, password_hash=password_hash)
        loader.dispose()
        emit(Figure("generate_load_s", seconds, "s"), label)
        emit(Figure("generate_rows", sum(counts.values()), "rows"), label)

    with app.app_context():
        engine = db.engine
        t = thresholds()
        db.session.remove()
    # No app context stays open while benchmarks run: each request pushes its own and
    # tears down its session, as in production.
    ctx = Context(app=app, engine=engine, database_url=url, backend=args.db,
                  milestones=milestones, label=label, today=today, runs=args.runs,
                  warmup=args.warmup, latency_runs=args.latency_runs,
                  load_seconds=args.load_seconds, load_clients=args.load_clients, thresholds=t)
    selected = [name for name in BENCHMARKS if not args.only or name in args.only]
    first = [name for name in selected if BENCHMARKS[name].before_scan]
    rest = [name for name in selected if not BENCHMARKS[name].before_scan]

    def run(names):
        for name in names:
            if name == "load" and args.load_seconds <= 0:
                continue
            for figure in BENCHMARKS[name](ctx):
                emit(figure, label)

    try:
        run(first)
        if rest:
            # The data as production has it: the flags the scheduler's scan raises.
            emit(Figure("scan_flags_raised", scan_and_commit(app, today), "count"), label)
            run(rest)
    finally:
        engine.dispose()
    return url


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Roadmap Tracker benchmarks.")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="The database to (re)build and measure; "
                        "default: instance/bench/bench_<scale>.db, or BENCH_DATABASE_URL "
                        "(postgresql://127.0.0.1/bench_pg) with --db postgresql.")
    parser.add_argument("--scales", default=DEFAULT_SCALES,
                        help="Comma-separated numbers of milestones (default %(default)s).")
    parser.add_argument("--runs", type=int, default=5, help="Timed runs per figure (median).")
    parser.add_argument("--latency-runs", type=int, default=20,
                        help="Timed runs of a page latency (median and p95).")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--load-seconds", type=float, default=30.0,
                        help="Length of the load test (0 to skip it).")
    parser.add_argument("--load-clients", type=int, default=8)
    parser.add_argument("--only", type=lambda s: set(filter(None, s.split(","))), default=set(),
                        help="Comma-separated benchmark names (default: all).")
    parser.add_argument("--keep-data", action="store_true",
                        help="Measure the database as a previous run left it at that scale "
                             "(SQLite: instance/bench/bench_<scale>.db) instead of rebuilding it.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--list", action="store_true", help="List the benchmarks and exit.")
    args = parser.parse_args(argv)
    args.scales = [int(s) for s in str(args.scales).replace("_", "").split(",") if s.strip()]
    if args.runs < 1 or args.latency_runs < 1:
        parser.error("--runs and --latency-runs must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    from bench.benchmarks import BENCHMARKS

    if args.list:
        for name, fn in BENCHMARKS.items():
            print(f"{name}: {(fn.__doc__ or '').strip().splitlines()[0]}")
        return []
    unknown = args.only - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    figures = []

    def emit(figure, label):
        named = Figure(f"{figure.name}_{label}", figure.value, figure.unit)
        figures.append(named)
        print(named.line(), flush=True)

    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash(PASSWORD)
    started = time.perf_counter()
    load_before = os.getloadavg()
    for milestones in args.scales:
        run_scale(milestones, args, emit, password_hash)
    result = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "database": args.db,
        "scales": args.scales,
        "runs": args.runs,
        "latency_runs": args.latency_runs,
        "warmup": args.warmup,
        "load_seconds": args.load_seconds,
        "seconds": round(time.perf_counter() - started, 1),
        "load_average_before": load_before,
        "machine": machine(),
        "figures": [{"name": f.name, "value": round(f.value, 3), "unit": f.unit} for f in figures],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"# written to {args.output}", file=sys.stderr)
    return figures


if __name__ == "__main__":
    main()
