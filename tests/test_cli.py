import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import AuditLog, Department, User
from tests import factories
from tracker import create_app
from tracker.extensions import db


def test_create_user_with_password(runner, client, auth):
    result = runner.invoke(args=["create-user", "Officer@Test.Example", "--role", "nic",
                                 "--password", "s3cret-pass", "--name", "N. Officer"])
    assert result.exit_code == 0, result.output
    assert "Created nic officer@test.example" in result.output
    user = db.session.execute(db.select(User).filter_by(email="officer@test.example")).scalar_one()
    assert user.role == "nic" and user.name == "N. Officer"
    assert auth.sign_in("officer@test.example", "s3cret-pass").status_code == 302
    assert "N. Officer" in client.get("/").get_data(as_text=True)
    assert db.session.execute(db.select(AuditLog).filter_by(action="create", entity="user")).scalar()


def test_create_user_prompts_for_password(runner):
    result = runner.invoke(args=["create-user", "p@test.example", "--role", "viewer"],
                           input="pass-word-1\npass-word-1\n")
    assert result.exit_code == 0, result.output
    user = db.session.execute(db.select(User).filter_by(email="p@test.example")).scalar_one()
    assert user.check_password("pass-word-1")


def test_create_nodal_needs_a_known_department(runner):
    result = runner.invoke(args=["create-user", "n@test.example", "--role", "nodal", "--password", "x" * 10])
    assert result.exit_code != 0
    assert "needs a department" in result.output
    result = runner.invoke(args=["create-user", "n@test.example", "--role", "nodal",
                                 "--department", "nope", "--password", "x" * 10])
    assert result.exit_code != 0
    assert "no department with code 'nope'" in result.output
    assert db.session.execute(db.select(User)).first() is None


def test_create_nodal_with_department(runner):
    factories.department("health")
    result = runner.invoke(args=["create-user", "n@test.example", "--role", "nodal",
                                 "--department", "health", "--password", "x" * 10])
    assert result.exit_code == 0, result.output
    user = db.session.execute(db.select(User)).scalar_one()
    assert user.department.code == "health"


def test_duplicate_email_refused(runner):
    factories.user("nic", email="dup@test.example")
    result = runner.invoke(args=["create-user", "dup@test.example", "--role", "nic", "--password", "x" * 10])
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_unknown_role_refused(runner):
    result = runner.invoke(args=["create-user", "r@test.example", "--role", "king", "--password", "x"])
    assert result.exit_code != 0
    assert "Invalid value for '--role'" in result.output


def test_commands_have_help(runner):
    for command in (["create-user"], ["seed-demo"], ["db", "upgrade"], ["serve"]):
        result = runner.invoke(args=command + ["--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_seed_demo_twice_gives_the_same_counts(runner):
    from tracker import demo

    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = demo.counts()
    assert counts["departments"] >= 30
    assert counts["milestones"] == 400
    assert counts["services"] >= 140
    assert counts["bottlenecks"] == 60
    assert counts["review_meetings"] == 2
    assert "secretary@ladakh.example" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert demo.counts() == counts


def test_seed_demo_shows_a_mix_of_health(runner, app):
    from tracker import clock
    from tracker.queries import summaries as summary_queries
    from tracker.settings import thresholds

    runner.invoke(args=["seed-demo"])
    summaries = summary_queries.department_summaries(clock.today(), thresholds())
    totals = {}
    for s in summaries:
        for health, n in s.counts.items():
            totals[health] = totals.get(health, 0) + n
    for health in ("done", "on_track", "at_risk", "overdue"):
        assert totals[health] >= 10, totals
    statuses = {s.plan_status for s in summaries}
    assert {"approved", "submitted", "returned", "draft", "missing"} <= statuses


def test_seed_demo_if_empty_skips_a_loaded_database(runner):
    factories.department("x")
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "nothing to do" in result.output
    assert db.session.execute(db.select(db.func.count(Department.id))).scalar() == 1


# --- Start-up: a command imports only what it uses (issue 18) ------------------------------

ROOT = Path(__file__).resolve().parent.parent
# What building the app (every page, job and CLI command) must not import: the charts'
# Plotly, the workbooks' openpyxl, Flask-Migrate's Alembic (only `flask db` needs them), the
# scheduler's APScheduler (the scheduler and `jobs` commands), the API's pydantic models and
# the test tools. The views, and the pydantic models with the API's, load on the first
# request (or URL built); the OpenAPI document on the first request for it.
NOT_ON_FIRST_REQUEST = ("plotly", "openpyxl", "alembic", "flask_migrate", "apscheduler")
HEAVY_PACKAGES = NOT_ON_FIRST_REQUEST + ("pydantic", "schemathesis", "hypothesis", "playwright")


def _modules_after(code, tmp_path):
    """Every module a fresh interpreter holds after running ``code`` from the project root."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split()
    return set(out)


def test_building_the_app_imports_no_view_chart_workbook_migration_or_api_code(tmp_path):
    # What `flask jobs run NAME` and the scheduler load: the app, the job table, the scan.
    loaded = _modules_after("from tracker import create_app\napp = create_app()\n"
                            "import jobs.scheduler, jobs.scan, jobs.digest", tmp_path)
    assert "jobs.scheduler" in loaded
    assert sorted(m for m in loaded if m == "views" or m.startswith("views.")) == []
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY_PACKAGES)
    assert heavy == [], heavy


def test_the_first_request_loads_the_views_and_the_api_models_not_the_rest(tmp_path):
    loaded = _modules_after(
        "from tracker import create_app\napp = create_app()\n"
        "assert app.test_client().get('/sign-in').status_code == 200\n"
        "assert app.test_client().get('/api/v1/milestones').status_code == 401\n"
        "import sys\n"
        "assert sys.modules['views.api.openapi'].components.cache_info().currsize == 0",
        tmp_path)
    assert {"views.dashboard", "views.services", "views.charts", "views.api.schemas",
            "pydantic"} <= loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in NOT_ON_FIRST_REQUEST)
    assert heavy == [], heavy


def test_the_wsgi_entry_point_loads_the_views_before_the_first_request(tmp_path):
    loaded = _modules_after("import tracker.wsgi", tmp_path)
    assert {"views.dashboard", "views.api.schemas"} <= loaded


def test_db_command_is_listed_and_loads_flask_migrate_when_run(app, runner):
    listing = runner.invoke(args=["--help"])
    assert "db" in listing.output and "Perform database migrations." in listing.output
    result = runner.invoke(args=["db", "--help"])
    assert result.exit_code == 0, result.output
    assert "upgrade" in result.output and "downgrade" in result.output
    assert "migrate" in app.extensions


def test_db_upgrade_through_the_cli_builds_the_schema(tmp_path):
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cli.db'}"})
    result = fresh.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"milestones", "flags", "alembic_version"} <= tables


def test_backup_does_not_import_the_cli_module(tmp_path):
    """The dependency runs one way: ``tracker.cli`` registers backup's commands."""
    code = ("import sys, tracker.platform.backup\n"
            "print('tracker.cli' in sys.modules)")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False"]


def test_backup_and_restore_are_commands(runner):
    listing = runner.invoke(args=["--help"])
    assert "backup" in listing.output and "restore" in listing.output


@pytest.mark.commits
def test_requests_that_arrive_while_the_views_load_wait_for_them(tmp_path, monkeypatch):
    """The first request loads the views; one arriving meanwhile (another thread of the
    worker) waits for the whole URL map instead of routing against half of it."""
    import threading
    import time

    import tracker

    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'views.db'}"})
    loading = threading.Event()
    real = tracker.register_blueprints

    def slow_register(app):
        loading.set()
        time.sleep(0.3)
        real(app)

    monkeypatch.setattr(tracker, "register_blueprints", slow_register)
    answers = {}

    def visit(name, path):
        answers[name] = fresh.test_client().get(path).status_code

    first = threading.Thread(target=visit, args=("first", "/sign-in"))
    first.start()
    assert loading.wait(5)
    second = threading.Thread(target=visit, args=("second", "/api/v1/milestones"))
    second.start()
    first.join(10)
    second.join(10)
    assert answers == {"first": 200, "second": 401}
    assert fresh.url_map.is_endpoint_expecting("milestones.show", "milestone_id")
