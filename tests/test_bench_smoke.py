"""The benchmarks run, once, at a tiny scale, so they cannot rot. Nothing here measures or
asserts speed (that is ``make bench``): only that the generator loads data the models accept
and that every benchmark, the load test included, produces its figures without errors.

On PostgreSQL the generator and benchmarks use the test database (the COPY path); the
``database_url`` fixture empties it after each test.

Marked ``bench_smoke``: deselected by default (pyproject's addopts), run once per CI run by
``make bench-smoke`` (``pytest -m bench_smoke``), on PostgreSQL when TEST_DATABASE_URL is
set, else on SQLite.
"""
import json
import os
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from bench import generate, load, run
from bench.benchmarks import BENCHMARKS
from models import Department, Milestone, MilestoneUpdate, User

pytestmark = pytest.mark.bench_smoke

SMOKE_MILESTONES = 200


@pytest.fixture
def bench_url(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'bench.db'}"
    return database_url


@pytest.fixture
def generated(bench_url):
    engine = generate.engine_for(bench_url)
    today = date(2026, 11, 29)
    counts, _ = generate.generate(engine, SMOKE_MILESTONES, today)
    yield engine, counts, today
    engine.dispose()


def test_generator_loads_every_table_at_its_scale(generated):
    engine, counts, _ = generated
    expected = generate.counts_for(SMOKE_MILESTONES)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Milestone)) == SMOKE_MILESTONES
        assert conn.scalar(sa.select(sa.func.count()).select_from(MilestoneUpdate)) == (
            expected["milestone_updates"])
        assert conn.scalar(sa.select(sa.func.count()).select_from(Department)) == (
            expected["departments"])
        nodal = conn.execute(
            sa.select(User.department_id, sa.func.count()).where(User.role == "nodal")
            .group_by(User.department_id)
        ).all()
    assert len(nodal) == expected["departments"] and {n for _, n in nodal} == {1}
    for table in ("bottlenecks", "services", "digital_assets", "review_meetings", "action_items"):
        key = {"digital_assets": "websites", "review_meetings": "meetings"}.get(table, table)
        assert counts[table] == expected[key]


def test_generated_history_ends_where_each_milestone_stands(generated):
    engine, _, today = generated
    with engine.connect() as conn:
        milestones = {m.id: m for m in conn.execute(sa.select(Milestone))}
        last = {}
        for u in conn.execute(sa.select(MilestoneUpdate).where(
                MilestoneUpdate.percent_to.is_not(None)).order_by(MilestoneUpdate.id)):
            last[u.milestone_id] = u
    assert milestones and last
    for milestone_id, update in last.items():
        m = milestones[milestone_id]
        assert (update.percent_to, update.status_to) == (m.percent_complete, m.status)
    dates = [m.due_date for m in milestones.values()]
    assert min(dates) < today - timedelta(days=300) and max(dates) > today + timedelta(days=300)


def test_the_scale_counts_are_proportional_with_departments_held():
    assert generate.counts_for(100_000) == generate.BASE
    small = generate.counts_for(10_000)
    assert small["milestone_updates"] == 30_000 and small["departments"] == 100
    assert generate.scale_label(100_000) == "100k" and generate.scale_label(200) == "200"


def test_every_benchmark_produces_its_figures_once(bench_url, tmp_path, capsys):
    output = tmp_path / "latest.json"
    backend = "sqlite" if bench_url.startswith("sqlite") else "postgresql"
    run.main(["--db", backend, "--database-url", bench_url, "--scales", str(SMOKE_MILESTONES),
              "--runs", "1", "--latency-runs", "1", "--warmup", "0", "--load-seconds", "2",
              "--load-clients", "2", "--output", str(output)])
    result = json.loads(output.read_text())
    figures = {f["name"]: f for f in result["figures"]}
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == list(figures)
    for name in ("generate_load_s_200", "home_page_latency_ms_200", "home_page_bare_sql_ms_200",
                 "home_page_ratio_200", "department_page_latency_p95_ms_200",
                 "overdue_first_page_bare_sql_ms_200", "openpyxl_write_only_s_200",
                 "openpyxl_write_only_peak_rss_mb_200", "load_requests_per_s_200",
                 "load_p95_ms_200"):
        assert name in figures, name
    assert figures["load_errors_200"]["value"] == 0
    assert figures["load_requests_200"]["value"] > 0
    assert 0 < figures["overdue_first_page_rows_200"]["value"] <= 50
    assert figures["openpyxl_write_only_cells_200"]["value"] == SMOKE_MILESTONES * 12
    assert result["database"] == backend and result["machine"]["cpus"] == os.cpu_count()
    for name in ("dashboard_latency_ms_200", "dashboard_bare_sql_ms_200",
                 "dashboard_gunicorn_latency_p95_ms_200", "overdue_list_latency_ms_200",
                 "flag_scan_s_200", "flag_scan_bare_sql_s_200", "roadmap_export_ratio_200",
                 "roadmap_export_peak_delta_mb_200", "minutes_export_s_200",
                 "minutes_export_bare_openpyxl_peak_delta_mb_200", "plan_import_s_200",
                 "load_update_milestone_p95_ms_200"):
        assert name in figures, name
    assert figures["flag_scan_flags_raised_200"]["value"] > 0
    # The pages are measured on the data as production has it: after a committed scan (the
    # flag scan itself runs before it, on data where every flag is raised afresh).
    names = list(figures)
    assert figures["scan_flags_raised_200"]["value"] > 0
    assert (names.index("flag_scan_s_200") < names.index("scan_flags_raised_200")
            < names.index("home_page_latency_ms_200"))
    assert figures["plan_import_rows_200"]["value"] == 5000
    assert figures["plan_import_created_200"]["value"] + figures[
        "plan_import_updated_200"]["value"] == 5000
    assert figures["load_updates_200"]["value"] > 0
    assert figures["load_lost_updates_200"]["value"] == 0
    assert set(BENCHMARKS) == {"home_page", "department_page", "dashboard", "dashboard_gunicorn",
                               "overdue_list", "overdue_first_page", "flag_scan",
                               "roadmap_export", "minutes_export", "plan_import",
                               "openpyxl_baseline", "load", "list_export", "cli_start",
                               "page_weight", "forecast_backtest"}
    assert figures["list_export_rows_200"]["value"] >= 0 and "list_export_ratio_200" in figures
    # The forecasts' backtest: both data sets forecast, and the forecast beats the naive one.
    for data in ("generated", "demo"):
        assert figures[f"forecast_{data}_milestones_200"]["value"] > 0
        assert (figures[f"forecast_{data}_mae_days_200"]["value"]
                < figures[f"forecast_{data}_naive_mae_days_200"]["value"]), data


def test_lost_updates_counts_missing_history_and_broken_chains(generated):
    engine, _, _ = generated
    with engine.connect() as conn:
        first, second = conn.execute(
            sa.select(MilestoneUpdate.milestone_id).distinct()
            .order_by(MilestoneUpdate.milestone_id).limit(2)
        ).scalars()
        n_first = conn.scalar(sa.select(sa.func.count()).where(
            MilestoneUpdate.milestone_id == first, MilestoneUpdate.percent_to.is_not(None)))
    ledger = load.Ledger()
    for _ in range(n_first):
        ledger.acknowledge(first)
    since = generate._at(date(2000, 1, 1))
    assert load.lost_updates(engine, ledger, since) == 0
    ledger.acknowledge(first)  # the server said yes, but no history row shows it
    assert load.lost_updates(engine, ledger, since) == 1
    with engine.begin() as conn:  # a second writer overwrote without seeing the first
        conn.execute(sa.insert(MilestoneUpdate), [
            {"milestone_id": second, "percent_from": 1, "percent_to": 2,
             "status_from": "in_progress", "status_to": "in_progress", "note": ""}])
    ledger.acknowledge(second)
    assert load.lost_updates(engine, load.Ledger(), since) == 0
    assert load.lost_updates(engine, ledger, since) >= 2


def test_hidden_fields_reads_the_csrf_token_and_version():
    html = ('<form><input type="hidden" name="csrf_token" value="abc.def">'
            '<input id="v" type="hidden" name="version" value="3"><input name="note"></form>')
    assert load.hidden_fields(html) == {"csrf_token": "abc.def", "version": "3"}


def test_the_production_entry_point_trusts_the_configured_proxies_only(monkeypatch):
    import importlib

    from werkzeug.middleware.proxy_fix import ProxyFix

    import config

    monkeypatch.setenv("TRACKER_ENV", "development")
    monkeypatch.setattr(config.DevelopmentConfig, "TRUSTED_PROXIES", 1)  # TRUSTED_PROXIES=1
    import tracker.wsgi

    wsgi = importlib.reload(tracker.wsgi)
    assert isinstance(wsgi.app.wsgi_app, ProxyFix) and wsgi.app.wsgi_app.x_for == 1
    monkeypatch.setattr(config.DevelopmentConfig, "TRUSTED_PROXIES", 0)
    wsgi = importlib.reload(tracker.wsgi)
    assert not isinstance(wsgi.app.wsgi_app, ProxyFix)
