"""The production shape, with real processes: ``gunicorn -w 4`` serving the app beside one
``flask scheduler`` process, on this run's database.

One overdue milestone gives exactly one flag and one notification however many workers
serve; a digest missed while the scheduler was down runs once when it comes back; a restart
changes nothing. (No timing is asserted: the test polls the database until the jobs have
run, with a generous limit so a loaded machine only makes it slower.)
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import Flag, JobRun, Notification
from models.base import utcnow
from tests import factories
from tracker import clock
from tracker.extensions import db

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POLL_LIMIT_SECONDS = 180

# gunicorn and the scheduler in subprocesses: real commits, and under xdist on the worker of
# the scheduler's tests.
pytestmark = [pytest.mark.commits, pytest.mark.xdist_group("processes"),
              pytest.mark.skipif(not (BIN / "gunicorn").exists(), reason="gunicorn is not installed")]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(url):
    env = dict(os.environ)
    env.update(TRACKER_ENV="production", DATABASE_URL=url, SECRET_KEY="deployment-test",
               SCHEDULER_ENABLED="on", HEALTH_CHECKS="off", FLASK_APP="tracker",
               SESSION_COOKIE_SECURE="off", RATELIMIT_ENABLED="off")
    env.pop("MAIL_SERVER", None)
    return env


def _wait_for(predicate, what):
    deadline = time.monotonic() + POLL_LIMIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        finally:
            # End the read at once: outside a request a SQLite transaction takes the write
            # lock, and the scheduler must not wait for the test.
            db.session.rollback()
        time.sleep(0.5)
    pytest.fail(f"gave up waiting for {what}")


def _start(args, env, log):
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _count(model, *where):
    return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar()


def test_four_workers_and_one_scheduler_flag_and_notify_once(app, tmp_path):
    today = clock.today()
    dept = factories.department("health")
    nodal = factories.user("nodal", department=dept)
    plan = factories.plan(department=dept, status="approved")
    late = factories.milestone(plan=plan, today=today, due_date=today - timedelta(days=3))
    # The digest last ran two days ago: the scheduler was down when it should have run.
    db.session.add(JobRun(job_id="digest", started_at=utcnow() - timedelta(days=2),
                          finished_at=utcnow() - timedelta(days=2), ok=True, summary={}))
    db.session.commit()

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = _env(url)
    port = _free_port()
    log = open(tmp_path / "processes.log", "w")
    web = _start([str(BIN / "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{port}",
                  "tracker.wsgi:app"], env, log)
    scheduler = _start([str(BIN / "flask"), "--app", "tracker", "scheduler"], env, log)
    try:
        def flag_of_late():
            return (Flag.kind == "milestone_overdue", Flag.subject_id == late.id,
                    Flag.cleared_at.is_(None))

        _wait_for(lambda: _count(Notification, Notification.user_id == nodal.id) >= 1,
                  "the missed digest to reach the nodal officer")
        # The four web workers answer, and none of them runs jobs.
        for _ in range(12):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=30) as r:
                assert r.status == 200
        assert _count(Flag, *flag_of_late()) == 1
        assert _count(Notification, Notification.user_id == nodal.id) == 1
        db.session.rollback()

        # Restart the scheduler: the scan runs again at start and changes nothing; the digest
        # already ran today, so it is not run again.
        scans_before = db.session.execute(
            sa.select(JobRun.started_at).where(JobRun.job_id == "scan")).scalar()
        db.session.rollback()
        _stop(scheduler)
        scheduler = _start([str(BIN / "flask"), "--app", "tracker", "scheduler"], env, log)
        _wait_for(lambda: (db.session.execute(
            sa.select(JobRun.finished_at).where(JobRun.job_id == "scan")).scalar() or scans_before)
            > scans_before, "the scan at the scheduler's restart")
        assert _count(Flag, *flag_of_late()) == 1
        assert _count(Flag, Flag.subject_id == late.id, Flag.kind == "milestone_overdue") == 1
        assert _count(Notification, Notification.user_id == nodal.id) == 1
    finally:
        _stop(scheduler)
        _stop(web)
        log.close()
        print((tmp_path / "processes.log").read_text()[-3000:])
