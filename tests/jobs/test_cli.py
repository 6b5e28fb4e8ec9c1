"""``flask jobs list``, ``flask jobs run NAME`` and ``flask scheduler``."""
from datetime import date, timedelta

import sqlalchemy as sa

from models import Flag, JobRun
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
    assert "scan: 1 flags raised, 0 flags cleared, 0 flags escalated" in result.output
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
    assert "digest: 1 notifications, 0 mails sent, 0 mails failed, mail: not configured" in result.output


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
