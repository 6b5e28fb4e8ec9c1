"""``flask jobs list``, ``flask jobs run NAME`` and ``flask scheduler``."""
import logging
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from jobs.scheduler import Scheduler, job_by_id, run_job
from models import Flag, JobRun
from models.base import utcnow
from tests import factories
from tracker.extensions import db


def last_run(job_id):
    return db.session.execute(sa.select(JobRun).where(JobRun.job_id == job_id)
                              .order_by(JobRun.id.desc()).limit(1)).scalar()


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
    assert last_run("scan").ok is False


def test_scheduler_command_has_help(runner):
    result = runner.invoke(args=["scheduler", "--help"])
    assert result.exit_code == 0
    assert "scheduler lock" in result.output


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


@pytest.mark.commits  # the scheduler's run in a thread
def test_a_run_by_hand_is_refused_while_the_scheduler_runs_the_job(app, runner, monkeypatch):
    calls, started, release = _slow_digest(monkeypatch)
    scheduler = Scheduler(app, holder="host-a:4242:aa")
    thread = threading.Thread(target=scheduler.run, args=("digest",))
    thread.start()
    try:
        assert started.wait(30), "the scheduler's digest did not start"
        result = runner.invoke(args=["jobs", "run", "digest"])
    finally:
        release.set()
        thread.join(30)
    assert result.exit_code == 1, result.output
    assert "digest is already running (host host-a, process 4242 since " in result.output
    assert "not started again" in result.output and "--force" in result.output
    assert len(calls) == 1
    run = last_run("digest")
    assert run.ok is True and run.holder == "host-a:4242:aa"
    db.session.rollback()
    # Once the scheduler's run is over, a run by hand goes ahead.
    again = runner.invoke(args=["jobs", "run", "digest"])
    assert again.exit_code == 0, again.output
    assert len(calls) == 2
    scheduler.shutdown()


@pytest.mark.commits  # the run by hand in a thread
def test_the_scheduler_skips_a_job_being_run_by_hand(app, monkeypatch, caplog):
    calls, started, release = _slow_digest(monkeypatch)

    def by_hand():
        with app.app_context():
            run_job(job_by_id("digest"), date(2026, 11, 20), utcnow(),
                    holder="cli:host-c:77:cc")

    thread = threading.Thread(target=by_hand)
    thread.start()
    try:
        assert started.wait(30), "the digest by hand did not start"
        scheduler = Scheduler(app, holder="host-a:1:aa")
        with caplog.at_level(logging.WARNING, logger="jobs.scheduler"):
            assert scheduler.run("digest") is None
        scheduler.shutdown()
    finally:
        release.set()
        thread.join(30)
    assert len(calls) == 1
    assert "job digest skipped: digest is already running (host host-c, process 77" in caplog.text
    run = last_run("digest")
    assert run.ok is True and run.holder == "cli:host-c:77:cc"


def test_a_run_whose_process_died_does_not_block_the_job(app, runner):
    # Recorded as under way a minute ago, but nobody holds the job's lock: its process died.
    db.session.add(JobRun(job_id="plan-reminder", holder="host-k:31337:kk",
                          started_at=utcnow() - timedelta(minutes=1), outcome="running"))
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "plan-reminder"])
    assert result.exit_code == 0, result.output
    runs = db.session.execute(sa.select(JobRun.holder, JobRun.outcome, JobRun.covers_day)
                              .order_by(JobRun.id)).all()
    assert runs[0][:2] == ("host-k:31337:kk", "abandoned")
    assert runs[1][0].startswith("cli:") and runs[1][1] == "ok" and runs[1][2] is not None


def test_a_live_run_blocks_until_force_or_unlock(app, runner):
    from jobs.scheduler import job_lock

    held = job_lock("plan-reminder")
    assert held.acquire("host-b:555:bb")
    db.session.add(JobRun(job_id="plan-reminder", holder="host-b:555:bb",
                          started_at=utcnow() - timedelta(minutes=1), outcome="running"))
    db.session.commit()
    try:
        refused = runner.invoke(args=["jobs", "run", "plan-reminder"])
        assert refused.exit_code == 1
        assert "plan-reminder is already running (host host-b, process 555 since " in refused.output
        assert "blocks until that run ends or its process stops" in refused.output
        assert last_run("plan-reminder").outcome == "running"
        db.session.rollback()
        unlocked = runner.invoke(args=["jobs", "unlock", "plan-reminder"])
        if db.engine.dialect.name == "postgresql":
            # The database session holding the advisory lock is ended: the job is free.
            assert unlocked.exit_code == 0, unlocked.output
            assert "ended the database session of host host-b, process 555" in unlocked.output
        else:
            # Another live process's file lock: named, not broken.
            assert unlocked.exit_code == 1
            assert "host host-b, process 555" in unlocked.output
            assert "stop that process" in unlocked.output
    finally:
        held.release()
    if db.engine.dialect.name == "sqlite":
        # Once the holder is gone, unlock marks its run abandoned and the job is free.
        db.session.rollback()
        unlocked = runner.invoke(args=["jobs", "unlock", "plan-reminder"])
        assert unlocked.exit_code == 0, unlocked.output
        assert "host host-b, process 555" in unlocked.output and "abandoned" in unlocked.output
    db.session.rollback()
    assert last_run("plan-reminder").outcome == "abandoned"


def test_force_ends_a_hung_database_session_on_postgresql(app, runner):
    import pytest

    from jobs.scheduler import job_lock

    if db.engine.dialect.name != "postgresql":
        pytest.skip("an advisory lock of a hung session is PostgreSQL's")
    held = job_lock("plan-reminder")
    assert held.acquire("host-h:66:hh")
    db.session.add(JobRun(job_id="plan-reminder", holder="host-h:66:hh",
                          started_at=utcnow() - timedelta(minutes=1), outcome="running"))
    db.session.commit()
    forced = runner.invoke(args=["jobs", "run", "plan-reminder", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "ended the database session of host host-h, process 66" in forced.output
    assert "plan-reminder: " in forced.output
    assert not held.alive()
    db.session.rollback()
    assert [r.outcome for r in db.session.execute(
        sa.select(JobRun).order_by(JobRun.id)).scalars()] == ["abandoned", "ok"]


def test_force_ends_only_this_databases_holder_not_a_namesake_in_another_database(app, runner):
    """Advisory locks are per database: a staging copy on the same server running the same
    job holds a lock of the same name, and ``--force`` here must not end its session."""
    from sqlalchemy.engine import make_url

    from jobs.locks import AdvisoryLock
    from jobs.scheduler import job_lock

    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    other_url = make_url(db.engine.url).set(database="postgres")
    namesake = AdvisoryLock(other_url, "job:plan-reminder")
    assert namesake.acquire("staging:7:ss")
    held = job_lock("plan-reminder")
    try:
        assert held.acquire("host-h:66:hh")
        db.session.add(JobRun(job_id="plan-reminder", holder="host-h:66:hh",
                              started_at=utcnow() - timedelta(minutes=1), outcome="running"))
        db.session.commit()
        forced = runner.invoke(args=["jobs", "run", "plan-reminder", "--force"])
        assert forced.exit_code == 0, forced.output
        assert not held.alive()
        assert namesake.alive()  # the other database's holder is left alone
    finally:
        held.release()
        namesake.release()
