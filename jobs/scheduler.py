"""The job table and the scheduler that runs it, exactly once however many are started.

``JOBS`` names every job by a stable id. ``flask --app tracker scheduler`` runs them in a
process of its own (production, beside the gunicorn workers); ``flask --app tracker serve``
(``make run``) starts the same scheduler inside the web process, once. Each job can also be
run by hand: ``flask --app tracker jobs run ID``.

Locks that die with their holder (``jobs.locks``): a PostgreSQL session-level advisory lock
on a connection of the lock's own, or an OS file lock beside the SQLite file. Nothing
expires on a timer; the database or the kernel releases a lock the moment its process dies.

- Exactly one scheduler: every scheduler tries the ``scheduler`` lock every
  ``SCHEDULER_POLL_SECONDS``; the one holding it runs the jobs, the others stand by and
  take over at their next try after the holder stops or dies.
- One run of a job at a time, wherever it runs: ``run_job`` holds the job's own lock
  (``job:ID``) for the whole run, so a run by hand at the scheduler's minute, or two runs by
  hand, cannot overlap; the second is refused (``JobRunning``) with who holds it. A run
  recorded as under way whose lock is free died with its process: it is marked
  ``abandoned`` at once (by the next run of the job, or by a scheduler taking over).

History: every run is a ``JobRun`` row (holder, start, end, outcome, counts, error, and the
day a date-bound job covers), kept ``JOB_RUN_HISTORY_DAYS``.

Missed runs: APScheduler runs with ``coalesce=True`` and no misfire limit, so runs missed
while the process was busy collapse into one. When a scheduler starts or takes over, it runs
once each job whose trigger fired since its last start (coalesced), and for a date-bound job
(the digest, the plan reminder) the last day it was due unless a run covering that day
finished well: a run that died is run again; one that failed with an error once more.
"""
import atexit
import importlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from jobs.locks import holder_id, make_lock
from models import JobRun
from models.job_run import describe_holder, format_summary
from models.base import utcnow
from tracker.extensions import db
from tracker.labels import LABELS

log = logging.getLogger(__name__)

LEADER_LOCK = "scheduler"
# A date-bound run that failed with an error is tried again this many times in all.
MAX_FAILED_ATTEMPTS = 2


@dataclass(frozen=True)
class Job:
    """A scheduled job. ``target`` is 'module:function', a function ``run(today, now)``
    that commits its own work and returns a summary dict of what it did. A ``date_bound``
    job does the work of one day (``today``): each run records the day it covers."""

    id: str
    target: str
    description: str
    trigger: object  # callable(config, tz) -> APScheduler trigger
    run_at_start: bool = False
    date_bound: bool = False

    def function(self):
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)

    def make_trigger(self, config):
        return self.trigger(config, ZoneInfo(config["TIMEZONE"]))


# APScheduler is imported where a trigger or a scheduler is made: `jobs run` and the pages
# read this job table without it.


def _every_scan_interval(config, tz):
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(seconds=max(1, round(float(config["SCAN_INTERVAL_MINUTES"]) * 60)),
                           timezone=tz)


def _daily_at_digest_hour(config, tz):
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(hour=config["DIGEST_HOUR"], minute=0, timezone=tz)


def _daily_before_digest(config, tz):
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(hour=(config["DIGEST_HOUR"] - 1) % 24, minute=0, timezone=tz)


def _weekly_on_monday(config, tz):
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(day_of_week="mon", hour=config["DIGEST_HOUR"], minute=0, timezone=tz)


# The job table. Ids are stable: they name the jobs in the CLI, the logs and ``job_runs``.
JOBS = (
    Job("scan", "jobs.scan:run", LABELS["job"]["scan"], _every_scan_interval, run_at_start=True),
    Job("digest", "jobs.digest:run", LABELS["job"]["digest"], _daily_at_digest_hour,
        date_bound=True),
    Job("plan-reminder", "jobs.plan_reminder:run", LABELS["job"]["plan-reminder"],
        _weekly_on_monday, date_bound=True),
    Job("mail", "jobs.mail:run", LABELS["job"]["mail"], _every_scan_interval),
    # An hour before the digest, so the digest carries what the check found.
    Job("health-check", "jobs.health_check:run", LABELS["job"]["health-check"],
        _daily_before_digest),
    # A new job is one line: a stable id, a 'module:function' taking (today, now) and
    # returning a summary dict, a description (tracker.labels, kind "job") and a trigger.
)


def job_by_id(job_id, jobs=JOBS):
    for job in jobs:
        if job.id == job_id:
            return job
    raise KeyError(job_id)


def default_holder():
    return holder_id()


# --- Running one job ------------------------------------------------------------------------


class JobRunning(Exception):
    """The job is already running elsewhere: another scheduler, or a run by hand."""

    def __init__(self, job_id, holder, started_at):
        self.job_id, self.holder, self.started_at = job_id, holder, started_at
        since = f" since {started_at:%d-%m-%Y %H:%M:%S} UTC" if started_at else ""
        super().__init__(
            f"{job_id} is already running ({describe_holder(holder)}{since}); it blocks "
            "until that run ends or its process stops (its lock is released the moment it "
            "dies); not started again")


def job_lock(job_id):
    return make_lock(db.engine, f"job:{job_id}")


def running_run(job_id):
    """The latest run of ``job_id`` recorded as under way: (holder, started_at) or None."""
    row = db.session.execute(
        sa.select(JobRun.holder, JobRun.started_at)
        .where(JobRun.job_id == job_id, JobRun.outcome == "running")
        .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)).first()
    db.session.rollback()
    return tuple(row) if row else None


def mark_abandoned(job_id, now):
    """Mark the runs of ``job_id`` recorded as under way as abandoned (call holding the
    job's lock: no live process runs it then); commits; returns their holders."""
    holders = db.session.execute(
        sa.select(JobRun.holder).where(JobRun.job_id == job_id, JobRun.outcome == "running")
    ).scalars().all()
    if holders:
        db.session.execute(
            sa.update(JobRun)
            .where(JobRun.job_id == job_id, JobRun.outcome == "running")
            .values(outcome="abandoned", finished_at=now,
                    error="Its process stopped before the run finished."))
    db.session.commit()
    return holders


def _purge_history(now):
    """Forget the runs older than ``JOB_RUN_HISTORY_DAYS``, keeping each job's latest."""
    days = int(current_app.config["JOB_RUN_HISTORY_DAYS"])
    latest = sa.select(sa.func.max(JobRun.id)).group_by(JobRun.job_id).scalar_subquery()
    db.session.execute(
        sa.delete(JobRun).where(JobRun.started_at < now - timedelta(days=days),
                                JobRun.id.notin_(latest)))


def _test_hold(job_id):
    """Test hook: ``JOB_TEST_HOLD='digest:30'`` makes a run of the digest wait 30 s after it
    started (holding its lock), so a test can kill the process that holds it. Off by default."""
    hold = current_app.config.get("JOB_TEST_HOLD") or ""
    name, _, seconds = hold.partition(":")
    if name == job_id:
        time.sleep(float(seconds or 30))


def run_job(job, today, now, holder=None, covers_day=None):
    """Run ``job`` once in the current app context; returns its summary dict.

    Raises ``JobRunning`` without running it when a run of the same job is under way
    elsewhere (its lock is held). An exception of the job is logged, recorded in ``JobRun``
    and re-raised for the caller to decide (the scheduler carries on, the CLI exits with an
    error); the job's session work is rolled back. ``covers_day`` (a date-bound job's day,
    by default ``today``) is recorded on the run.
    """
    holder = holder or default_holder()
    lock = job_lock(job.id)
    if not lock.acquire(holder):
        running = running_run(job.id)
        raise JobRunning(job.id, *(running or (getattr(lock, "recorded_holder", lambda: None)(),
                                               None)))
    try:
        abandoned = mark_abandoned(job.id, now)
        if abandoned:
            log.warning("job %s: the run of %s was abandoned (its process stopped); released",
                        job.id, ", ".join(describe_holder(h) for h in abandoned))
        run = JobRun(job_id=job.id, holder=holder, started_at=now, outcome="running",
                     summary={}, covers_day=(covers_day or today) if job.date_bound else None)
        db.session.add(run)
        db.session.flush()
        run_id = run.id
        # Commit and read nothing more: on SQLite a read would begin a transaction that
        # holds the write lock while the job runs.
        db.session.commit()
        try:
            _test_hold(job.id)
            summary = job.function()(today, now) or {}
        except Exception as exc:
            db.session.rollback()
            db.session.execute(sa.update(JobRun).where(JobRun.id == run_id).values(
                outcome="failed", finished_at=utcnow(), error=f"{type(exc).__name__}: {exc}"[:500]))
            db.session.commit()
            raise
        db.session.execute(sa.update(JobRun).where(JobRun.id == run_id).values(
            outcome="ok", finished_at=utcnow(), summary=summary))
        _purge_history(now)
        db.session.commit()
        return summary
    finally:
        lock.release()


def unlock(job_id, now):
    """``jobs unlock``: free the job's run. Marks a run recorded as under way but no longer
    held abandoned; on PostgreSQL, ends the database session that still holds the job's lock
    (a hung process). Returns a sentence saying what was done."""
    lock = job_lock(job_id)
    if lock.acquire(f"unlock:{default_holder()}"):
        try:
            holders = mark_abandoned(job_id, now)
        finally:
            lock.release()
        if holders:
            return (f"{job_id}: the run of {', '.join(describe_holder(h) for h in holders)} "
                    "had stopped; marked abandoned. The job is free.")
        return f"{job_id}: nothing held it. The job is free."
    with db.engine.connect() as conn:
        ended = lock.break_(conn)
        conn.commit()
    running = running_run(job_id)
    who = describe_holder(running[0]) if running else "an unknown holder"
    if ended:
        for _ in range(50):  # the server releases the lock as the session ends
            if lock.acquire(f"unlock:{default_holder()}"):
                try:
                    mark_abandoned(job_id, now)
                finally:
                    lock.release()
                return (f"{job_id}: ended the database session of {who} that held it; "
                        "the run is marked abandoned. The job is free.")
            time.sleep(0.1)
    raise JobRunning(job_id, *(running or (None, None)))


# --- The scheduler ------------------------------------------------------------------------------


def _aware(naive_utc):
    return naive_utc.replace(tzinfo=timezone.utc)


def missed_since(job, trigger, last_started, now):
    """True when ``trigger`` should have fired between the job's last start and ``now``
    (naive UTC datetimes). A job that never ran has missed nothing."""
    from apscheduler.triggers.interval import IntervalTrigger

    if last_started is None:
        return False
    if isinstance(trigger, IntervalTrigger):
        return last_started + trigger.interval <= now
    next_fire = trigger.get_next_fire_time(None, _aware(last_started) + timedelta(seconds=1))
    return next_fire is not None and next_fire <= _aware(now)


def last_fire_day(trigger, now, tz) -> date | None:
    """The local date of the last time ``trigger`` (a daily or weekly cron) fired at or before
    ``now`` (naive UTC); None when it did not fire in the last eight days."""
    at = _aware(now) - timedelta(days=8)
    last = None
    while True:
        fire = trigger.get_next_fire_time(None, at)
        if fire is None or fire > _aware(now):
            break
        last, at = fire, fire + timedelta(seconds=1)
    return last.astimezone(tz).date() if last else None


class Scheduler:
    """APScheduler running ``jobs`` for ``app``, guarded by the ``scheduler`` lock.

    ``run(job_id, now)`` is what every scheduled run calls; tests call it directly with
    explicit ``now`` values instead of waiting for the clock.
    """

    def __init__(self, app, jobs=None, holder=None, blocking=False):
        self.app = app
        self.jobs = tuple(JOBS if jobs is None else jobs)
        self.holder = holder or default_holder()
        self.blocking = blocking
        self.poll_seconds = float(app.config["SCHEDULER_POLL_SECONDS"])
        with app.app_context():
            self.lock = make_lock(db.engine, LEADER_LOCK)
        self.leader = False
        self.stopping = False
        self._lock = threading.Lock()
        self._apscheduler = None

    # Leadership -------------------------------------------------------------------------

    def _hold(self):
        """Keep or take the ``scheduler`` lock; True when this scheduler holds it."""
        if self.leader:
            if self.lock.alive():
                return True
            log.error("scheduler %s lost its lock (database connection lost); standing by",
                      describe_holder(self.holder))
            self.lock.release()
            self.leader = False
            return False
        try:
            return self.lock.acquire(self.holder)
        except Exception:
            log.exception("the scheduler lock could not be tried")
            return False

    def heartbeat(self, now=None):
        """Keep or take the lock; on taking it, release the runs of dead holders and schedule
        the catch-up runs at once. Returns the (job id, day) pairs to run now."""
        now = now or utcnow()
        with self.app.app_context():
            with self._lock:
                if self.stopping:
                    return []
                held = self._hold()
                gained = held and not self.leader
                self.leader = held
            if not gained:
                return []
            released = self.release_dead_runs(now)
            due = self.due_on_takeover(now)
            log.info("scheduler %s took over the jobs%s; running now: %s",
                     describe_holder(self.holder),
                     f" (released the runs of {', '.join(released)})" if released else "",
                     ", ".join(f"{j} for {d:%d-%m-%Y}" if d else j for j, d in due) or "nothing")
        if self._apscheduler is not None and due:
            from apscheduler.schedulers import SchedulerNotRunningError

            # One after the other, in the job table's order: the catch-up digest must see
            # the flags of the scan that runs at start, not race it.
            try:
                self._apscheduler.add_job(self.catch_up, args=[due], id="catch-up",
                                          name="Run the missed jobs",
                                          next_run_time=datetime.now(timezone.utc),
                                          replace_existing=True)
            except SchedulerNotRunningError:
                pass  # shutting down
        return due

    def catch_up(self, due):
        """Run each (job id, day) of ``due`` once, in order (on taking the lock)."""
        for job_id, day in due:
            self.run(job_id, today=day, covers_day=day)

    def release_dead_runs(self, now):
        """Mark abandoned every run recorded as under way whose job lock is free (its
        process died); returns 'job (host, pid)' for each."""
        ids = db.session.execute(
            sa.select(JobRun.job_id).where(JobRun.outcome == "running").distinct()
        ).scalars().all()
        db.session.rollback()
        released = []
        for job_id in ids:
            lock = job_lock(job_id)
            if not lock.acquire(self.holder):
                continue  # a live run (by hand, or a scheduler finishing): left alone
            try:
                released += [f"{job_id} ({describe_holder(h)})"
                             for h in mark_abandoned(job_id, now)]
            finally:
                lock.release()
        return released

    def due_on_takeover(self, now):
        """The (job id, day) pairs to run at once on taking the lock: the jobs run at start;
        those whose trigger fired since their last start (coalesced to one); and for a
        date-bound job, the last day it was due when no run covering it finished well (a run
        that died is run again; one that failed with an error, once more). ``day`` is None
        for jobs not bound to a date."""
        from tracker import clock

        tz = ZoneInfo(self.app.config["TIMEZONE"])
        last = dict(db.session.execute(
            sa.select(JobRun.job_id, sa.func.max(JobRun.started_at)).group_by(JobRun.job_id)
        ).all())
        day_runs = {}
        for job_id, day, outcome in db.session.execute(
                sa.select(JobRun.job_id, JobRun.covers_day, JobRun.outcome)
                .where(JobRun.covers_day.is_not(None))
                .where(JobRun.started_at >= now - timedelta(days=9))):
            day_runs.setdefault((job_id, day), []).append(outcome)
        db.session.rollback()
        due = []
        for job in self.jobs:
            trigger = job.make_trigger(self.app.config)
            if job.date_bound and last.get(job.id) is not None:
                day = last_fire_day(trigger, now, tz)
                outcomes = day_runs.get((job.id, day), [])
                if day is not None and "ok" not in outcomes and "running" not in outcomes \
                        and outcomes.count("failed") < MAX_FAILED_ATTEMPTS:
                    due.append((job.id, day))
            elif job.run_at_start or missed_since(job, trigger, last.get(job.id), now):
                due.append((job.id, clock.local_date(now, tz) if job.date_bound else None))
        return due

    # Running ------------------------------------------------------------------------------

    def run(self, job_id, now=None, today=None, covers_day=None):
        """Run one job if this scheduler holds the lock. Returns its summary, or None when
        another scheduler holds the lock (said at debug level only), the job is already
        running (by hand) or the job failed (logged; the scheduler goes on)."""
        from tracker import clock

        now = now or utcnow()
        job = job_by_id(job_id, self.jobs)
        with self.app.app_context():
            with self._lock:
                if self.stopping:
                    return None
                held = self._hold()
                gained = held and not self.leader
                self.leader = held
            if not held:
                log.debug("job %s skipped: another scheduler holds the lock", job_id)
                return None
            if gained:
                self.release_dead_runs(now)
            today = today or clock.local_date(now)
            try:
                summary = run_job(job, today, now, holder=self.holder, covers_day=covers_day)
            except JobRunning as busy:
                log.warning("job %s skipped: %s", job_id, busy)
                return None
            except Exception:
                log.exception("job %s failed; the scheduler carries on", job_id)
                return None
            log.info("job %s%s: %s", job_id,
                     f" for {today:%d-%m-%Y}" if job.date_bound else "", format_summary(summary))
            return summary

    # APScheduler ---------------------------------------------------------------------------

    def build(self):
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.schedulers.blocking import BlockingScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        # One line per run and per takeover is ours; APScheduler's own INFO lines ("Running
        # job", "executed successfully", twice per job and poll) are not wanted.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        tz = ZoneInfo(self.app.config["TIMEZONE"])
        cls = BlockingScheduler if self.blocking else BackgroundScheduler
        scheduler = cls(
            timezone=tz,
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        # A takeover's heartbeat (releasing dead runs, finding the missed ones) may outlast the
        # poll on a loaded machine: a second heartbeat may start meanwhile (it finds the lock
        # held and does nothing) instead of APScheduler warning that it skipped one.
        scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=self.poll_seconds, timezone=tz),
                          id="lock-heartbeat", name="Keep or take the scheduler lock",
                          next_run_time=datetime.now(timezone.utc), max_instances=3)
        for job in self.jobs:
            scheduler.add_job(self.run, job.make_trigger(self.app.config), args=[job.id],
                              id=job.id, name=job.description)
        self._apscheduler = scheduler
        return scheduler

    def start(self):
        scheduler = self._apscheduler or self.build()
        log.info("scheduler %s starting (%d jobs)", describe_holder(self.holder), len(self.jobs))
        scheduler.start()  # blocks when blocking=True

    def shutdown(self, wait=True):
        """Stop running jobs and give the lock up so a standby takes over at once."""
        with self._lock:
            self.stopping = True  # no heartbeat or job takes the lock again after this
        if self._apscheduler is not None and self._apscheduler.running:
            self._apscheduler.shutdown(wait=wait)
        self.lock.release()
        self.leader = False


# --- In-process start (``flask serve``) -------------------------------------------------------

_in_process = None
_in_process_lock = threading.Lock()


def start_in_process(app):
    """Start the scheduler inside this process, once; returns True when one was started.

    ``flask serve`` calls this only in the process that serves (the reloader's child), and
    a second call in the same process does nothing. Off when ``SCHEDULER_ENABLED`` is false.
    """
    global _in_process
    if not app.config.get("SCHEDULER_ENABLED"):
        return False
    with _in_process_lock:
        if _in_process is not None:
            return False
        _in_process = Scheduler(app)
        _in_process.start()
        atexit.register(stop_in_process)
    return True


def stop_in_process(wait=False):
    global _in_process
    with _in_process_lock:
        scheduler, _in_process = _in_process, None
    if scheduler is not None:
        scheduler.shutdown(wait=wait)
