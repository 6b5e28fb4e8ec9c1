"""``flask jobs list``, ``flask jobs run NAME`` and ``flask scheduler``."""
import logging
import threading
from datetime import date, timedelta

import sqlalchemy as sa

from jobs.scheduler import Scheduler, job_by_id, run_job
from models import Flag, JobRun
from models.base import utcnow
from tests import factories
from tracker.extensions import db


def test_jobs_list_names_every_job(runner):
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    for job_id in ("scan", "digest", "plan-reminder", "mail"):
        assert job_id in result.output
    assert "last run: never" in result.output


def test_jobs_run_scan_prints_what_it_did(runner):
    plan = factories.plan(status="approved")
    factories.milestone(plan=plan, today=date(2026, 11, 20), due_date=date(2026, 11, 1),
                        start_date=None)
    result = runner.invoke(args=["jobs", "run", "scan", "--today", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert ("scan: 1 flags raised, 0 flags cleared, 0 flags escalated, 0 inbox notifications"
            in result.output)
    assert db.session.execute(sa.select(Flag.kind)).scalar_one() == "milestone_overdue"
    again = runner.invoke(args=["jobs", "run", "scan", "--today", "2026-11-20"])
    assert "scan: 0 flags raised" in again.output
    listed = runner.invoke(args=["jobs", "list"])
    assert "0 flags raised" in listed.output


def test_jobs_run_digest_prints_mails(runner):
    dept = factories.department("health")
    factories.user("nodal", department=dept)
    plan = factories.plan(department=dept, status="approved")
    factories.milestone(plan=plan, today=date(2026, 11, 20),
                        due_date=date(2026, 11, 1), start_date=None)
    runner.invoke(args=["jobs", "run", "scan", "--today", "2026-11-20"])
    result = runner.invoke(args=["jobs", "run", "digest", "--today", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "digest: 0 digests, mail: not configured" in result.output


def test_jobs_run_unknown_name(runner):
    result = runner.invoke(args=["jobs", "run", "nope"])
    assert result.exit_code != 0
    assert "no job 'nope'" in result.output and "scan" in result.output


def test_jobs_run_reports_a_failure(runner, monkeypatch):
    from jobs import scan

    def broken(today, now):
        raise RuntimeError("no database")

    monkeypatch.setattr(scan, "run", broken)
    result = runner.invoke(args=["jobs", "run", "scan"])
    assert result.exit_code == 1
    assert "scan failed: RuntimeError: no database" in result.output
    assert db.session.get(JobRun, "scan").ok is False


def test_scheduler_command_has_help(runner):
    result = runner.invoke(args=["scheduler", "--help"])
    assert result.exit_code == 0
    assert "lease" in result.output


# --- One run of a job at a time: a run by hand and the scheduler -------------------------------


def _slow_digest(monkeypatch):
    """Replace the digest by one that waits to be released; returns (calls, started, release)."""
    from jobs import digest

    calls, started, release = [], threading.Event(), threading.Event()

    def slow(today, now):
        calls.append(now)
        started.set()
        release.wait(30)
        return {"notifications": 0}

    monkeypatch.setattr(digest, "run", slow)
    return calls, started, release


def test_a_run_by_hand_is_refused_while_the_scheduler_runs_the_job(app, runner, monkeypatch):
    calls, started, release = _slow_digest(monkeypatch)
    scheduler = Scheduler(app, holder="scheduler-a")
    thread = threading.Thread(target=scheduler.run, args=("digest",))
    thread.start()
    try:
        assert started.wait(30), "the scheduler's digest did not start"
        result = runner.invoke(args=["jobs", "run", "digest"])
    finally:
        release.set()
        thread.join(30)
    assert result.exit_code == 1, result.output
    assert "digest is already running (scheduler-a since " in result.output
    assert "not started again" in result.output
    assert len(calls) == 1
    run = db.session.get(JobRun, "digest")
    assert run.ok is True and run.holder == "scheduler-a"
    db.session.rollback()
    # Once the scheduler's run is over, a run by hand goes ahead.
    again = runner.invoke(args=["jobs", "run", "digest"])
    assert again.exit_code == 0, again.output
    assert len(calls) == 2


def test_the_scheduler_skips_a_job_being_run_by_hand(app, monkeypatch, caplog):
    calls, started, release = _slow_digest(monkeypatch)

    def by_hand():
        with app.app_context():
            run_job(job_by_id("digest"), date(2026, 11, 20), utcnow(), holder="cli:test")

    thread = threading.Thread(target=by_hand)
    thread.start()
    try:
        assert started.wait(30), "the digest by hand did not start"
        with caplog.at_level(logging.WARNING, logger="jobs.scheduler"):
            assert Scheduler(app, holder="scheduler-a").run("digest") is None
    finally:
        release.set()
        thread.join(30)
    assert len(calls) == 1
    assert "job digest skipped: digest is already running (cli:test" in caplog.text
    run = db.session.get(JobRun, "digest")
    assert run.ok is True and run.holder == "cli:test"


def test_a_run_that_died_long_ago_does_not_block_the_job(app, runner):
    stale = app.config["JOB_RUN_STALE_MINUTES"]
    db.session.add(JobRun(job_id="plan-reminder", holder="killed",
                          started_at=utcnow() - timedelta(minutes=stale + 1), ok=None))
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "plan-reminder"])
    assert result.exit_code == 0, result.output
    run = db.session.get(JobRun, "plan-reminder")
    assert run.ok is True and run.holder.startswith("cli:")
    db.session.rollback()
    # A run under way (started a minute ago, not finished) blocks it, and is left as it was.
    db.session.execute(sa.update(JobRun).values(ok=None, holder="scheduler-b",
                                                started_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    refused = runner.invoke(args=["jobs", "run", "plan-reminder"])
    assert refused.exit_code == 1
    assert "plan-reminder is already running (scheduler-b since " in refused.output
    assert db.session.get(JobRun, "plan-reminder").holder == "scheduler-b"
