"""The scheduler: exactly one of several runs the jobs (the database lease), a standby
takes over when the holder stops or its lease expires, missed runs are run once, and a
failing job never stops the scheduler. Explicit ``now`` values instead of waiting."""
import logging
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from jobs import scheduler as sched
from jobs.scheduler import JOBS, Job, Lease, Scheduler, missed_since
from models import Flag, JobRun, SchedulerLease
from tests import factories
from tracker.extensions import db

T0 = datetime(2026, 11, 20, 2, 30)  # 08:00 in Kolkata
RUNS = []


def count_run(today, now):
    RUNS.append((today, now))
    return {"runs": len(RUNS)}


def explode(today, now):
    raise RuntimeError("the job broke")


def _every_minute(config, tz):
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(minutes=1, timezone=tz)


COUNT = Job("count", f"{__name__}:count_run", "Count the runs", _every_minute)
BROKEN = Job("broken", f"{__name__}:explode", "Always fails", _every_minute)


@pytest.fixture(autouse=True)
def reset_runs():
    RUNS.clear()


@pytest.fixture
def two(app):
    lease = app.config["SCHEDULER_LEASE_SECONDS"]
    a = Scheduler(app, jobs=[COUNT, BROKEN], holder="scheduler-a")
    b = Scheduler(app, jobs=[COUNT, BROKEN], holder="scheduler-b")
    return a, b, lease


def test_two_schedulers_run_a_job_once_not_twice(two):
    a, b, _ = two
    assert a.run("count", now=T0) == {"runs": 1}
    assert b.run("count", now=T0) is None  # a holds the lease: b stands by
    assert b.run("count", now=T0 + timedelta(seconds=20)) is None
    assert a.run("count", now=T0 + timedelta(seconds=30)) == {"runs": 2}
    assert len(RUNS) == 2
    holder = db.session.execute(sa.select(SchedulerLease.holder)).scalar_one()
    assert holder == "scheduler-a"


def test_after_the_holder_stops_the_second_runs_it(two):
    a, b, _ = two
    a.run("count", now=T0)
    a.lease.release()  # what shutdown() does
    assert b.run("count", now=T0 + timedelta(seconds=6)) == {"runs": 2}
    assert a.run("count", now=T0 + timedelta(seconds=7)) is None  # now a stands by
    assert [now for _, now in RUNS] == [T0, T0 + timedelta(seconds=6)]


def test_a_stopped_scheduler_never_takes_the_lease_again(two):
    a, b, _ = two
    a.run("count", now=T0)
    a.shutdown()
    assert a.heartbeat(T0 + timedelta(seconds=1)) == []
    assert a.run("count", now=T0 + timedelta(seconds=2)) is None
    assert b.run("count", now=T0 + timedelta(seconds=3)) == {"runs": 2}


def test_when_the_holder_dies_the_lease_expires_and_another_takes_over(two):
    a, b, lease = two
    a.run("count", now=T0)
    # a dies without releasing: b waits until the lease expires.
    assert b.run("count", now=T0 + timedelta(seconds=lease)) is None
    assert b.run("count", now=T0 + timedelta(seconds=lease + 1)) == {"runs": 2}
    assert len(RUNS) == 2


def test_the_holder_renews_its_lease(two):
    a, b, lease = two
    for step in range(5):  # a keeps renewing: b never gets in
        now = T0 + timedelta(seconds=step * lease // 2)
        a.heartbeat(now)
        assert a.lease.current_holder(now) == "scheduler-a"
        assert b.run("count", now=now + timedelta(seconds=1)) is None
    assert RUNS == []


def test_lease_row_is_taken_atomically(app):
    first, second = Lease("one", 60), Lease("two", 60)
    assert first.acquire(T0) is True
    assert second.acquire(T0) is False
    assert first.acquire(T0 + timedelta(seconds=30)) is True  # renewal
    assert second.acquire(T0 + timedelta(seconds=89)) is False
    assert second.acquire(T0 + timedelta(seconds=91)) is True
    assert first.current_holder(T0 + timedelta(seconds=92)) == "two"


def test_a_failing_job_is_logged_recorded_and_the_scheduler_goes_on(two, caplog):
    a, _, _ = two
    with caplog.at_level(logging.ERROR, logger="jobs.scheduler"):
        assert a.run("broken", now=T0) is None
    assert "job broken failed" in caplog.text
    run = db.session.get(JobRun, "broken")
    assert run.ok is False and "the job broke" in run.error
    db.session.rollback()  # end the read (SQLite: BEGIN IMMEDIATE holds the write lock)
    assert a.run("count", now=T0 + timedelta(seconds=1)) == {"runs": 1}
    assert db.session.get(JobRun, "count").summary == {"runs": 1}


def test_taking_the_lease_runs_missed_jobs_once(app):
    # The digest last ran yesterday at 08:00 Kolkata; the scheduler was down since.
    yesterday = T0 - timedelta(days=1)
    db.session.add_all([
        JobRun(job_id="digest", started_at=yesterday, ok=True),
        JobRun(job_id="plan-reminder", started_at=yesterday, ok=True),
        JobRun(job_id="mail", started_at=T0 - timedelta(minutes=5), ok=True),
    ])
    db.session.commit()
    s = Scheduler(app, holder="late")
    # 08:30 in Kolkata, the 20th (a Friday): the digest was missed; the Monday reminder not.
    due = s.heartbeat(T0 + timedelta(minutes=30))
    assert due == ["scan", "digest", "mail"]
    # Later heartbeats by the same holder schedule nothing more.
    assert s.heartbeat(T0 + timedelta(minutes=31)) == []


def test_missed_runs_of_a_daily_job_coalesce(app):
    from zoneinfo import ZoneInfo

    digest = sched.job_by_id("digest")
    trigger = digest.make_trigger(app.config)
    last = T0 - timedelta(days=5)
    assert missed_since(digest, trigger, last, T0) is True  # five missed: one run
    assert missed_since(digest, trigger, T0, T0 + timedelta(hours=23)) is False
    assert missed_since(digest, trigger, None, T0) is False
    assert trigger.timezone == ZoneInfo("Asia/Kolkata")


def test_the_scheduler_runs_the_real_scan_under_the_lease(app):
    plan = factories.plan(status="approved")
    factories.milestone(plan=plan, today=date(2026, 11, 20),
                        due_date=date(2026, 11, 10), start_date=None)
    s = Scheduler(app, holder="only")
    summary = s.run("scan", now=T0, today=date(2026, 11, 20))
    assert summary["flags raised"] == 1
    assert db.session.execute(sa.select(sa.func.count(Flag.id))).scalar() == 1


def test_apscheduler_coalesces_and_never_drops_late_runs(app):
    s = Scheduler(app, holder="x")
    aps = s.build()
    assert aps._job_defaults["coalesce"] is True
    assert aps._job_defaults["misfire_grace_time"] is None
    ids = {job.id for job in aps.get_jobs()}
    assert ids == {"lease-heartbeat"} | {job.id for job in JOBS}


def test_start_in_process_starts_once(app, monkeypatch):
    monkeypatch.setattr(sched, "JOBS", ())
    assert sched.start_in_process(app) is False  # SCHEDULER_ENABLED is off in tests
    app.config["SCHEDULER_ENABLED"] = True
    try:
        assert sched.start_in_process(app) is True
        assert sched.start_in_process(app) is False  # a second call (or reloader) does nothing
    finally:
        sched.stop_in_process(wait=True)
    assert sched._in_process is None


def test_the_job_table_has_stable_ids():
    ids = [job.id for job in JOBS]
    assert {"scan", "digest", "plan-reminder", "mail"} <= set(ids)
    assert len(ids) == len(set(ids))
    for job in JOBS:
        assert callable(job.function())
