"""The scheduler: exactly one of several runs the jobs (the scheduler lock), a standby
takes over when the holder stops or dies, runs of a dead holder are released at once, missed
and unfinished days are run once, every run is kept as history, and a failing job never stops
the scheduler. Explicit ``now`` values instead of waiting; the processes killed with SIGKILL
are in test_scheduler_processes.py."""
import logging
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from jobs import scheduler as sched
from jobs.scheduler import JOBS, Job, Scheduler, missed_since
from models import Flag, JobRun
from tests import factories
from tracker.extensions import db

# Scheduler threads and processes, job locks: real commits; under xdist on one worker with
# the deployment test (their timings must not compete with each other).
pytestmark = [pytest.mark.commits, pytest.mark.xdist_group("processes")]

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


def last_run(job_id):
    run = db.session.execute(sa.select(JobRun).where(JobRun.job_id == job_id)
                             .order_by(JobRun.id.desc()).limit(1)).scalar()
    return run


@pytest.fixture
def two(app):
    a = Scheduler(app, jobs=[COUNT, BROKEN], holder="host-a:101:aa")
    b = Scheduler(app, jobs=[COUNT, BROKEN], holder="host-b:202:bb")
    yield a, b
    a.shutdown()
    b.shutdown()


def test_two_schedulers_run_a_job_once_not_twice(two):
    a, b = two
    assert a.run("count", now=T0) == {"runs": 1}
    assert b.run("count", now=T0) is None  # a holds the lock: b stands by
    assert b.run("count", now=T0 + timedelta(seconds=20)) is None
    assert a.run("count", now=T0 + timedelta(seconds=30)) == {"runs": 2}
    assert len(RUNS) == 2
    assert [r.holder for r in db.session.execute(sa.select(JobRun)).scalars()] == \
        ["host-a:101:aa"] * 2  # the history keeps every run


def test_after_the_holder_stops_the_second_runs_it(two):
    a, b = two
    a.run("count", now=T0)
    a.lock.release()  # what shutdown() does, and what the holder's death does
    assert b.run("count", now=T0 + timedelta(seconds=6)) == {"runs": 2}
    a.leader = False
    assert a.run("count", now=T0 + timedelta(seconds=7)) is None  # now a stands by
    assert [now for _, now in RUNS] == [T0, T0 + timedelta(seconds=6)]


def test_a_stopped_scheduler_never_takes_the_lock_again(two):
    a, b = two
    a.run("count", now=T0)
    a.shutdown()
    assert a.heartbeat(T0 + timedelta(seconds=1)) == []
    assert a.run("count", now=T0 + timedelta(seconds=2)) is None
    assert b.run("count", now=T0 + timedelta(seconds=3)) == {"runs": 2}


def test_a_run_of_a_dead_holder_is_released_when_another_takes_over(two):
    a, b = two
    # A run recorded as under way whose process died: its job lock is free.
    db.session.add(JobRun(job_id="count", holder="host-x:999:xx",
                          started_at=T0 - timedelta(minutes=2), outcome="running"))
    db.session.commit()
    assert b.heartbeat(T0 + timedelta(seconds=1)) == [("count", None)]
    run = db.session.execute(sa.select(JobRun).where(JobRun.holder == "host-x:999:xx")).scalar()
    assert run.outcome == "abandoned" and run.finished_at == T0 + timedelta(seconds=1)
    db.session.rollback()
    assert b.run("count", now=T0 + timedelta(seconds=2)) == {"runs": 1}


def test_a_live_run_blocks_and_the_refusal_says_whose(app):
    from jobs.scheduler import JobRunning, job_lock

    held = job_lock("count")
    assert held.acquire("host-z:4242:zz")
    db.session.add(JobRun(job_id="count", holder="host-z:4242:zz",
                          started_at=T0 - timedelta(minutes=2), outcome="running"))
    db.session.commit()
    try:
        with pytest.raises(JobRunning) as refused:
            sched.run_job(COUNT, T0.date(), T0, holder="other")
        assert "host host-z, process 4242 since 20-11-2026 02:28:00 UTC" in str(refused.value)
        assert "blocks until that run ends" in str(refused.value)
        s = Scheduler(app, jobs=[COUNT], holder="host-b:1:b")
        assert s.heartbeat(T0) == [("count", None)]  # due, but the live run is left alone
        assert last_run("count").outcome == "running"
    finally:
        held.release()
        s.shutdown()
    assert RUNS == []


def test_a_failing_job_is_logged_recorded_and_the_scheduler_goes_on(two, caplog):
    a, _ = two
    with caplog.at_level(logging.ERROR, logger="jobs.scheduler"):
        assert a.run("broken", now=T0) is None
    assert "job broken failed" in caplog.text
    run = last_run("broken")
    assert run.ok is False and run.outcome == "failed" and "the job broke" in run.error
    db.session.rollback()  # end the read (SQLite: BEGIN IMMEDIATE holds the write lock)
    assert a.run("count", now=T0 + timedelta(seconds=1)) == {"runs": 1}
    assert last_run("count").summary == {"runs": 1}


def test_history_is_kept_for_the_setting_days(two, app):
    a, _ = two
    app.config["JOB_RUN_HISTORY_DAYS"] = 30
    db.session.add_all([
        JobRun(job_id="count", started_at=T0 - timedelta(days=31), outcome="ok"),
        JobRun(job_id="count", started_at=T0 - timedelta(days=29), outcome="ok"),
        JobRun(job_id="broken", started_at=T0 - timedelta(days=40), outcome="failed"),
    ])
    db.session.commit()
    a.run("count", now=T0)
    kept = db.session.execute(sa.select(JobRun.job_id, JobRun.started_at)
                              .order_by(JobRun.started_at)).all()
    # The 31-day-old run is gone; the only run of 'broken' stays (each job's latest).
    assert kept == [("broken", T0 - timedelta(days=40)), ("count", T0 - timedelta(days=29)),
                    ("count", T0)]


def test_taking_the_lock_runs_missed_jobs_once(app):
    # The digest last ran yesterday at 08:00 Kolkata; the scheduler was down since.
    yesterday = T0 - timedelta(days=1)
    db.session.add_all([
        JobRun(job_id="digest", started_at=yesterday, ok=True, covers_day=date(2026, 11, 19)),
        JobRun(job_id="plan-reminder", started_at=yesterday, ok=True,
               covers_day=date(2026, 11, 16)),
        JobRun(job_id="mail", started_at=T0 - timedelta(minutes=5), ok=True),
    ])
    db.session.commit()
    s = Scheduler(app, holder="late")
    try:
        # 08:30 in Kolkata, the 20th (a Friday): the digest was missed; the Monday reminder not.
        due = s.heartbeat(T0 + timedelta(minutes=30))
        assert due == [("scan", None), ("digest", date(2026, 11, 20)), ("mail", None)]
        # Later heartbeats by the same holder schedule nothing more.
        assert s.heartbeat(T0 + timedelta(minutes=31)) == []
    finally:
        s.shutdown()


@pytest.mark.parametrize("outcomes, due", [
    (["abandoned"], True),               # its process died: run again
    (["abandoned", "abandoned"], True),  # died twice: still owed
    (["failed"], True),                  # failed with an error: once more
    (["failed", "failed"], False),       # ...and not again
    (["abandoned", "ok"], False),        # done
    ([], True),                          # missed
])
def test_a_day_without_a_good_run_is_run_again_once(app, outcomes, due):
    day = date(2026, 11, 20)
    db.session.add(JobRun(job_id="digest", started_at=T0 - timedelta(days=1), ok=True,
                          covers_day=day - timedelta(days=1)))
    for i, outcome in enumerate(outcomes):
        db.session.add(JobRun(job_id="digest", started_at=T0 + timedelta(seconds=i),
                              outcome=outcome, covers_day=day))
    db.session.commit()
    s = Scheduler(app, holder="next")
    try:
        got = s.heartbeat(T0 + timedelta(minutes=5))
    finally:
        s.shutdown()
    assert (("digest", day) in got) is due


def test_missed_runs_of_a_daily_job_coalesce(app):
    from zoneinfo import ZoneInfo

    digest = sched.job_by_id("digest")
    trigger = digest.make_trigger(app.config)
    last = T0 - timedelta(days=5)
    assert missed_since(digest, trigger, last, T0) is True  # five missed: one run
    assert missed_since(digest, trigger, T0, T0 + timedelta(hours=23)) is False
    assert missed_since(digest, trigger, None, T0) is False
    assert trigger.timezone == ZoneInfo("Asia/Kolkata")
    tz = ZoneInfo("Asia/Kolkata")
    assert sched.last_fire_day(trigger, T0, tz) == date(2026, 11, 20)
    assert sched.last_fire_day(trigger, T0 - timedelta(minutes=1), tz) == date(2026, 11, 19)


def test_the_scheduler_runs_the_real_scan_under_the_lease(app):
    plan = factories.plan(status="approved")
    factories.milestone(plan=plan, today=date(2026, 11, 20),
                        due_date=date(2026, 11, 10), start_date=None)
    s = Scheduler(app, holder="only")
    summary = s.run("scan", now=T0, today=date(2026, 11, 20))
    s.shutdown()
    assert summary["flags raised"] == 1
    assert db.session.execute(sa.select(sa.func.count(Flag.id))).scalar() == 1


def test_apscheduler_coalesces_and_never_drops_late_runs(app):
    s = Scheduler(app, holder="x")
    aps = s.build()
    assert aps._job_defaults["coalesce"] is True
    assert aps._job_defaults["misfire_grace_time"] is None
    ids = {job.id for job in aps.get_jobs()}
    assert ids == {"lock-heartbeat"} | {job.id for job in JOBS}
    assert logging.getLogger("apscheduler").level == logging.WARNING


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


# --- Real processes, killed with SIGKILL --------------------------------------------------------
#
# Two ``flask scheduler`` processes on this run's database. ``JOB_TEST_HOLD`` makes one job's
# run wait once started, so the test can kill the process holding it (by the PID the run
# records) and watch the other take over. The scan interval is 3 s, the lock poll 0.5 s.

import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from models import Notification  # noqa: E402
from models.base import utcnow  # noqa: E402
from tracker import clock  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
SCAN_SECONDS = 3
WAIT_LIMIT = 60  # generous for a loaded machine; the assertions on timing are separate


def _env(app, **extra):
    env = dict(os.environ)
    env.update(TRACKER_ENV="production", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               SECRET_KEY="scheduler-test", HEALTH_CHECKS="off", FLASK_APP="tracker",
               SCAN_INTERVAL_MINUTES=str(SCAN_SECONDS / 60), SCHEDULER_POLL_SECONDS="0.5",
               PYTHONUNBUFFERED="1")
    for name in ("MAIL_SERVER", "JOB_TEST_HOLD"):
        env.pop(name, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Processes:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.started = {}

    def start(self, name, env):
        log = open(self.tmp_path / f"{name}.log", "w")
        process = subprocess.Popen([str(FLASK), "--app", "tracker", "scheduler"], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.started[process.pid] = (name, process, log)
        return process

    def log(self, name):
        return (self.tmp_path / f"{name}.log").read_text()

    def stop_all(self):
        for name, process, log in self.started.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()


@pytest.fixture
def processes(tmp_path):
    p = Processes(tmp_path)
    yield p
    p.stop_all()


def _wait_for(predicate, what, limit=WAIT_LIMIT):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        finally:
            db.session.rollback()  # end the read: SQLite's reads hold the write lock
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}")


def _runs(job_id):
    return db.session.execute(sa.select(JobRun).where(JobRun.job_id == job_id)
                              .order_by(JobRun.id)).scalars().all()


def _kill_holder(processes, job_id):
    """SIGKILL the process recorded as holding ``job_id``'s run (one this test started)."""
    run = _wait_for(lambda: next((r for r in _runs(job_id) if r.outcome == "running"), None),
                    f"a scheduler to start {job_id}")
    pid = int(run.holder.split(":")[1])
    assert pid in processes.started, run.holder
    os.kill(pid, signal.SIGKILL)
    processes.started[pid][1].wait(10)
    return pid, time.monotonic()


def _pid_of(run):
    return int(run.holder.split(":")[1]) if run.holder else None


def _assert_quiet_apscheduler(processes):
    for name, _, _ in processes.started.values():
        text = processes.log(name)
        assert "executed successfully" not in text, text
        assert "INFO apscheduler" not in text and "Running job" not in text, text


@pytest.mark.commits
def test_killed_holder_of_a_run_is_replaced_within_one_scan_interval(app, processes):
    today = clock.today()
    plan = factories.plan(status="approved")
    late = factories.milestone(plan=plan, today=today, due_date=today - timedelta(days=2),
                               start_date=None)
    db.session.commit()
    late_id = late.id
    # The first scheduler's scans hold their run for a minute; the second's do not.
    first = processes.start("first", _env(app, JOB_TEST_HOLD="scan:60"))
    pid, killed_at = _kill_holder(processes, "scan")
    assert pid == first.pid
    processes.start("second", _env(app))
    # (Started after the kill only to know which one holds: the standby's poll is what
    # matters, and its first try is at start.)
    done = _wait_for(lambda: next((r for r in _runs("scan")
                                   if r.outcome == "ok" and _pid_of(r) != pid), None),
                     "the other scheduler to run the scan")
    assert time.monotonic() - killed_at < WAIT_LIMIT
    runs = _runs("scan")
    dead = [r for r in runs if _pid_of(r) == pid]
    assert [r.outcome for r in dead] == ["abandoned"]
    assert dead[0].finished_at <= done.started_at
    assert db.session.execute(sa.select(sa.func.count(Flag.id)).where(
        Flag.subject_id == late_id, Flag.kind == "milestone_overdue")).scalar() == 1
    second_log = processes.log("second")
    assert second_log.count("took over the jobs") == 1, second_log
    assert "released the runs of scan (host " in second_log
    _assert_quiet_apscheduler(processes)


@pytest.mark.commits
def test_takeover_within_one_scan_interval_of_a_standby_already_running(app, processes):
    """The standby is up before the kill: it runs the job within one scan interval."""
    processes.start("first", _env(app, JOB_TEST_HOLD="scan:60"))
    _wait_for(lambda: any(r.outcome == "running" for r in _runs("scan")), "the first scan")
    second = processes.start("second", _env(app))
    # The standby is up when it has logged its start; it stands by quietly.
    _wait_for(lambda: "Scheduler " in processes.log("second") or
              "starting" in processes.log("second"), "the second scheduler to start")
    time.sleep(1.5)
    assert [r.outcome for r in _runs("scan")] == ["running"]  # still blocked by the holder
    pid, killed_at = _kill_holder(processes, "scan")
    done = _wait_for(lambda: next((r for r in _runs("scan")
                                   if r.outcome == "ok" and _pid_of(r) == second.pid), None),
                     "the standby to run the scan", limit=30)
    took = time.monotonic() - killed_at
    assert took < SCAN_SECONDS, f"the standby ran the scan {took:.1f} s after the kill"
    assert "executed successfully" not in processes.log("second")
    _assert_quiet_apscheduler(processes)


class _Inbox:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.mark.commits
def test_killed_during_the_digest_the_day_is_delivered_once_after_takeover(app, processes):
    now = utcnow()
    today = clock.local_date(now)
    dept = factories.department("health")
    nodal = factories.user("nodal", department=dept)
    plan = factories.plan(department=dept, status="approved")
    factories.milestone(plan=plan, today=today, due_date=today - timedelta(days=3),
                        start_date=None)
    # The digest ran yesterday; today's is due (its hour is this hour).
    db.session.add(JobRun(job_id="digest", started_at=now - timedelta(days=1), outcome="ok",
                          finished_at=now - timedelta(days=1),
                          covers_day=today - timedelta(days=1)))
    db.session.commit()
    nodal_id = nodal.id
    hour = datetime.now(clock.zone()).hour
    inbox = _Inbox()
    try:
        mail = dict(MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port, DIGEST_HOUR=hour)
        first = processes.start("first", _env(app, JOB_TEST_HOLD="digest:60", **mail))
        pid, killed_at = _kill_holder(processes, "digest")
        assert pid == first.pid
        processes.start("second", _env(app, **mail))
        _wait_for(lambda: len(inbox.messages) >= 1, "the day's digest by e-mail")
        # A few more scan intervals (the mail job runs at each): nothing more is sent.
        time.sleep(2 * SCAN_SECONDS)
        assert len(inbox.messages) == 1
        runs = [(r.outcome, r.covers_day, _pid_of(r) == pid) for r in _runs("digest")]
        assert runs == [("ok", today - timedelta(days=1), False), ("abandoned", today, True),
                        ("ok", today, False)]
        assert db.session.execute(sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == nodal_id, Notification.digest_on == today)).scalar() == 1
        _assert_quiet_apscheduler(processes)
    finally:
        inbox.controller.stop()


# --- The history page, for the administrator -----------------------------------------------------


def test_the_admin_sees_the_last_runs_in_words(app, as_user):
    db.session.add_all([
        JobRun(job_id="digest", holder="web-1:4242:ab", started_at=T0, finished_at=T0,
               outcome="abandoned", error="Its process stopped before the run finished.",
               covers_day=date(2026, 11, 20)),
        JobRun(job_id="digest", holder="web-2:77:cd", started_at=T0 + timedelta(seconds=5),
               finished_at=T0 + timedelta(seconds=9), outcome="ok",
               summary={"notifications": 3}, covers_day=date(2026, 11, 20)),
    ])
    db.session.commit()
    page = as_user(factories.user("admin")).get("/jobs/").get_data(as_text=True)
    assert "Daily digest to the inbox and by e-mail" in page
    assert "20-11-2026" in page and "2026-11-20" not in page
    assert "Abandoned: its process stopped" in page and "Done" in page
    assert "host web-1, process 4242" in page and "3 notifications" in page
    assert "2 runs, newest first." in page
    assert page.index("host web-2") < page.index("host web-1")  # newest first


def test_the_history_page_is_for_the_admin_only(app, as_user, client):
    for role in ("secretary", "nic", "viewer"):
        client.post("/sign-out")
        assert as_user(factories.user(role)).get("/jobs/").status_code == 403
