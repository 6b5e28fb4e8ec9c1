"""The job table and the scheduler that runs it, exactly once however many are started.

``JOBS`` names every job by a stable id. ``flask --app tracker scheduler`` runs them in a
process of its own (production, beside the gunicorn workers); ``flask --app tracker serve``
(``make run``) starts the same scheduler inside the web process, once. Each job can also be
run by hand: ``flask --app tracker jobs run ID``.

Exactly one: every scheduler renews a lease row (``SchedulerLease``) with one atomic
``UPDATE … WHERE expires_at < now OR holder = me``; only the holder runs jobs, the others
stay on standby and take over when the holder stops (it releases the lease) or dies (its
lease expires after ``SCHEDULER_LEASE_SECONDS``). Works the same on SQLite and PostgreSQL.

One run of a job at a time, wherever it runs: ``run_job`` first claims the job's ``JobRun``
row with one atomic upsert that succeeds only when no run of it is under way (``ok`` is
null while a run is), so a run by hand at the scheduler's own minute, or two runs by hand,
cannot overlap; the second is refused (``JobRunning``). A run that never finished (its
process was killed) stops blocking after ``JOB_RUN_STALE_MINUTES``.

Missed runs: APScheduler runs with ``coalesce=True`` and no misfire limit, so runs missed
while the process was busy collapse into one. Runs missed while no scheduler held the lease
(the app was down, or the holder died) are found in ``JobRun`` when a scheduler takes the
lease, and run once.
"""
import atexit
import importlib
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from models import JobRun, SchedulerLease
from models.base import utcnow
from tracker.extensions import db

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
RELEASED = datetime(2000, 1, 1)  # the expiry of a released lease


@dataclass(frozen=True)
class Job:
    """A scheduled job. ``target`` is 'module:function', a function ``run(today, now)``
    that commits its own work and returns a summary dict of what it did."""

    id: str
    target: str
    description: str
    trigger: object  # callable(config, tz) -> APScheduler trigger
    run_at_start: bool = False

    def function(self):
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)

    def make_trigger(self, config):
        return self.trigger(config, ZoneInfo(config["TIMEZONE"]))


def _every_scan_interval(config, tz):
    return IntervalTrigger(minutes=config["SCAN_INTERVAL_MINUTES"], timezone=tz)


def _daily_at_digest_hour(config, tz):
    return CronTrigger(hour=config["DIGEST_HOUR"], minute=0, timezone=tz)


def _daily_before_digest(config, tz):
    return CronTrigger(hour=(config["DIGEST_HOUR"] - 1) % 24, minute=0, timezone=tz)


def _weekly_on_monday(config, tz):
    return CronTrigger(day_of_week="mon", hour=config["DIGEST_HOUR"], minute=0, timezone=tz)


# The job table. Ids are stable: they name the jobs in the CLI, the logs and ``job_runs``.
JOBS = (
    Job("scan", "jobs.scan:run", "Raise, escalate and clear flags", _every_scan_interval,
        run_at_start=True),
    Job("digest", "jobs.digest:run", "Daily digest to the inbox and by e-mail",
        _daily_at_digest_hour),
    Job("plan-reminder", "jobs.plan_reminder:run",
        "Weekly reminder to departments with no submitted action plan", _weekly_on_monday),
    Job("mail", "jobs.mail:run", "Retry the e-mails of the day not yet sent",
        _every_scan_interval),
    # An hour before the digest, so the digest carries what the check found.
    Job("health-check", "jobs.health_check:run", "Check every registered website's health",
        _daily_before_digest),
    # A new job is one line: a stable id, a 'module:function' taking (today, now) and
    # returning a summary dict, a description and a trigger.
)


def job_by_id(job_id, jobs=JOBS):
    for job in jobs:
        if job.id == job_id:
            return job
    raise KeyError(job_id)


# --- Running one job ------------------------------------------------------------------------


def _record_run(job_id, **values):
    """Upsert the job's ``JobRun`` row and commit (the session holds no other work here)."""
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(JobRun)
    values.setdefault("summary", {})
    stmt = insert.values(job_id=job_id, **values).on_conflict_do_update(
        index_elements=["job_id"], set_=values
    )
    db.session.execute(stmt)
    db.session.commit()


class JobRunning(Exception):
    """The job is already running elsewhere: another scheduler, or a run by hand."""

    def __init__(self, job_id, holder, started_at):
        self.job_id, self.holder, self.started_at = job_id, holder, started_at
        since = f" since {started_at:%Y-%m-%d %H:%M:%S} UTC" if started_at else ""
        super().__init__(f"{job_id} is already running ({holder or 'unknown'}{since}); "
                         "not started again")


def _claim_run(job_id, now, holder, stale_before):
    """Mark the job started, in one atomic upsert that only takes a row whose last run
    has finished (or never finished and started before ``stale_before``); commits.
    True when claimed; False, changing nothing, when a run is under way elsewhere."""
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(JobRun)
    values = dict(started_at=now, holder=holder, ok=None, error=None, summary={})
    existing = JobRun.__table__.c
    stmt = insert.values(job_id=job_id, **values).on_conflict_do_update(
        index_elements=["job_id"], set_=values,
        where=sa.or_(existing.ok.is_not(None), existing.started_at.is_(None),
                     existing.started_at < stale_before),
    ).execution_options(preserve_rowcount=True)
    try:
        claimed = db.session.execute(stmt).rowcount == 1
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return claimed


def run_job(job, today, now, holder=None):
    """Run ``job`` once in the current app context; returns its summary dict.

    Raises ``JobRunning`` without running it when a run of the same job is under way
    elsewhere. An exception of the job is logged, recorded in ``JobRun`` and re-raised for
    the caller to decide (the scheduler carries on, the CLI exits with an error); the job's
    session work is rolled back.
    """
    started = now
    stale = timedelta(minutes=current_app.config["JOB_RUN_STALE_MINUTES"])
    if not _claim_run(job.id, started, holder, stale_before=started - stale):
        running = db.session.execute(
            sa.select(JobRun.holder, JobRun.started_at).where(JobRun.job_id == job.id)).first()
        db.session.rollback()
        raise JobRunning(job.id, *(running or (None, None)))
    try:
        summary = job.function()(today, now) or {}
    except Exception as exc:
        db.session.rollback()
        _record_run(job.id, started_at=started, finished_at=utcnow(), ok=False,
                    error=f"{type(exc).__name__}: {exc}"[:500], holder=holder)
        raise
    _record_run(job.id, started_at=started, finished_at=utcnow(), ok=True,
                summary=summary, holder=holder)
    return summary


def format_summary(summary):
    return ", ".join(f"{value} {key}" if isinstance(value, int) else f"{key}: {value}"
                     for key, value in summary.items()) or "nothing to do"


# --- The lease --------------------------------------------------------------------------------


class Lease:
    """A row in ``scheduler_leases``: at most one holder at a time, renewed by the holder,
    free for the taking once expired. Each call is one short transaction of its own: it
    commits the session, so call it when the session holds no other work."""

    def __init__(self, holder, seconds, name=LEASE_NAME):
        self.holder = holder
        self.seconds = seconds
        self.name = name

    def acquire(self, now) -> bool:
        """Take or renew the lease as of ``now`` (naive UTC); True when we hold it."""
        expires = now + timedelta(seconds=self.seconds)
        table = SchedulerLease.__table__
        session = db.session
        try:
            renewed = session.execute(
                sa.update(table)
                .where(
                    table.c.name == self.name,
                    sa.or_(table.c.expires_at < now, table.c.holder == self.holder),
                )
                .values(
                    holder=self.holder,
                    expires_at=expires,
                    acquired_at=sa.case(
                        (table.c.holder == self.holder, table.c.acquired_at), else_=now
                    ),
                )
            ).rowcount
            if not renewed:
                dialect = session.get_bind().dialect.name
                insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
                renewed = session.execute(
                    insert.values(name=self.name, holder=self.holder, expires_at=expires,
                                  acquired_at=now)
                    .on_conflict_do_nothing(index_elements=["name"])
                    .execution_options(preserve_rowcount=True)
                ).rowcount
            session.commit()
        except Exception:
            session.rollback()
            raise
        return renewed == 1

    def release(self):
        """Give the lease up (only if we hold it), so a standby may take it at once: it is
        marked expired long ago, whatever the standby's clock says."""
        table = SchedulerLease.__table__
        db.session.execute(
            sa.update(table)
            .where(table.c.name == self.name, table.c.holder == self.holder)
            .values(expires_at=RELEASED)
        )
        db.session.commit()

    def current_holder(self, now):
        table = SchedulerLease.__table__
        holder = db.session.execute(
            sa.select(table.c.holder).where(table.c.name == self.name, table.c.expires_at >= now)
        ).scalar()
        db.session.rollback()
        return holder


def default_holder():
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- The scheduler ------------------------------------------------------------------------------


def _aware(naive_utc):
    return naive_utc.replace(tzinfo=timezone.utc)


def missed_since(job, trigger, last_started, now):
    """True when ``trigger`` should have fired between the job's last start and ``now``
    (naive UTC datetimes). A job that never ran has missed nothing."""
    if last_started is None:
        return False
    if isinstance(trigger, IntervalTrigger):
        return last_started + trigger.interval <= now
    next_fire = trigger.get_next_fire_time(None, _aware(last_started) + timedelta(seconds=1))
    return next_fire is not None and next_fire <= _aware(now)


class Scheduler:
    """APScheduler running ``jobs`` for ``app``, guarded by the lease.

    ``run(job_id, now)`` is what every scheduled run calls; tests call it directly with
    explicit ``now`` values instead of waiting for the clock.
    """

    def __init__(self, app, jobs=None, holder=None, blocking=False):
        self.app = app
        self.jobs = tuple(JOBS if jobs is None else jobs)
        self.holder = holder or default_holder()
        self.blocking = blocking
        self.lease = Lease(self.holder, app.config["SCHEDULER_LEASE_SECONDS"])
        self.leader = False
        self.stopping = False
        self._lock = threading.Lock()
        self._apscheduler = None

    # Leadership -------------------------------------------------------------------------

    def heartbeat(self, now=None):
        """Renew or take the lease; on taking it, schedule the catch-up runs at once.
        Returns the job ids to run now because they were missed (or run at start)."""
        now = now or utcnow()
        with self.app.app_context():
            with self._lock:
                if self.stopping:
                    return []
                try:
                    held = self.lease.acquire(now)
                except Exception:
                    log.exception("scheduler lease could not be renewed")
                    held = False
                gained = held and not self.leader
                self.leader = held
            if not gained:
                return []
            log.info("scheduler %s holds the lease and runs the jobs", self.holder)
            due = self.due_on_takeover(now)
        if self._apscheduler is not None and due:
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

    def catch_up(self, job_ids):
        """Run ``job_ids`` once each, in order (on taking the lease)."""
        for job_id in job_ids:
            self.run(job_id)

    def due_on_takeover(self, now):
        """The jobs to run at once on taking the lease: those run at start, and those whose
        trigger fired since their last run while no scheduler ran them (coalesced to one)."""
        last = dict(db.session.execute(sa.select(JobRun.job_id, JobRun.started_at)).all())
        db.session.rollback()
        due = []
        for job in self.jobs:
            trigger = job.make_trigger(self.app.config)
            if job.run_at_start or missed_since(job, trigger, last.get(job.id), now):
                due.append(job.id)
        return due

    # Running ------------------------------------------------------------------------------

    def run(self, job_id, now=None, today=None):
        """Run one job if this scheduler holds the lease. Returns its summary, or None when
        another scheduler holds the lease, the job is already running (by hand) or the job
        failed (logged; the scheduler goes on)."""
        from tracker import clock

        now = now or utcnow()
        job = job_by_id(job_id, self.jobs)
        with self.app.app_context():
            with self._lock:
                if self.stopping:
                    return None
                try:
                    held = self.lease.acquire(now)
                except Exception:
                    log.exception("scheduler lease could not be checked; %s skipped", job_id)
                    return None
                if not held:
                    self.leader = False  # the next heartbeat that takes it catches up
            if not held:
                log.debug("job %s skipped: another scheduler holds the lease", job_id)
                return None
            today = today or clock.local_date(now)
            try:
                summary = run_job(job, today, now, holder=self.holder)
            except JobRunning as busy:
                log.warning("job %s skipped: %s", job_id, busy)
                return None
            except Exception:
                log.exception("job %s failed; the scheduler carries on", job_id)
                return None
            log.info("job %s: %s", job_id, format_summary(summary))
            return summary

    # APScheduler ---------------------------------------------------------------------------

    def build(self):
        tz = ZoneInfo(self.app.config["TIMEZONE"])
        cls = BlockingScheduler if self.blocking else BackgroundScheduler
        scheduler = cls(
            timezone=tz,
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        beat = max(1, self.lease.seconds // 3)
        scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=beat, timezone=tz),
                          id="lease-heartbeat", name="Renew the scheduler lease",
                          next_run_time=datetime.now(timezone.utc))
        for job in self.jobs:
            scheduler.add_job(self.run, job.make_trigger(self.app.config), args=[job.id],
                              id=job.id, name=job.description)
        self._apscheduler = scheduler
        return scheduler

    def start(self):
        scheduler = self._apscheduler or self.build()
        log.info("scheduler %s starting (%d jobs)", self.holder, len(self.jobs))
        scheduler.start()  # blocks when blocking=True

    def shutdown(self, wait=True):
        """Stop running jobs and give the lease up so a standby takes over at once."""
        with self._lock:
            self.stopping = True  # no heartbeat or job takes the lease again after this
        if self._apscheduler is not None and self._apscheduler.running:
            self._apscheduler.shutdown(wait=wait)
        with self.app.app_context():
            try:
                self.lease.release()
            except Exception:
                log.exception("scheduler lease could not be released; it will expire")
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
