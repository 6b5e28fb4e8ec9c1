"""``flask --app tracker scheduler`` and ``flask --app tracker jobs list|run``."""
import logging
import signal
from datetime import date

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from models import JobRun
from models.base import utcnow
from tracker.extensions import db

jobs_group = AppGroup("jobs", help="List the scheduled jobs or run one of them once.")


def init_app(app):
    app.cli.add_command(jobs_group)
    app.cli.add_command(scheduler_command)


@jobs_group.command("list")
@with_appcontext
def list_jobs():
    """List the jobs: id, schedule, last run and what it did."""
    from jobs.scheduler import JOBS
    from models.job_run import describe_holder, format_summary

    latest = sa.select(sa.func.max(JobRun.id)).group_by(JobRun.job_id).scalar_subquery()
    runs = {r.job_id: r for r in db.session.execute(
        sa.select(JobRun).where(JobRun.id.in_(latest))).scalars()}
    for job in JOBS:
        trigger = job.make_trigger(current_app.config)
        run = runs.get(job.id)
        click.echo(f"{job.id:15} {job.description}")
        click.echo(f"{'':15} schedule: {trigger}{', and at start' if job.run_at_start else ''}")
        if run is None or run.started_at is None:
            click.echo(f"{'':15} last run: never")
            continue
        when = f"{run.started_at:%d-%m-%Y %H:%M} UTC"
        day = f" for {run.covers_day:%d-%m-%Y}" if run.covers_day else ""
        if run.outcome == "ok":
            click.echo(f"{'':15} last run{day}: {when}, {format_summary(run.summary or {})}")
        elif run.outcome == "running":
            click.echo(f"{'':15} last run{day}: {when}, running ({describe_holder(run.holder)})")
        else:
            click.echo(f"{'':15} last run{day}: {when}, {run.outcome}: {run.error}")


def _job(name):
    from jobs.scheduler import JOBS, job_by_id

    try:
        return job_by_id(name)
    except KeyError:
        raise click.BadParameter(
            f"no job {name!r}; the jobs are: {', '.join(j.id for j in JOBS)}",
            param_hint="NAME") from None


@jobs_group.command("run")
@click.argument("name")
@click.option("--today", "today_text", metavar="YYYY-MM-DD",
              help="Run as of this local date (default: today in the configured time zone).")
@click.option("--force", is_flag=True,
              help="If a run of the job blocks it, free it first (as `jobs unlock`), then run.")
@with_appcontext
def run_job_command(name, today_text, force):
    """Run the job NAME once now and print what it did.

    Refused (exit status 1) while the job is already running, in the scheduler or by hand,
    saying whose run blocks (host, process) and since when; --force frees it first."""
    from jobs.scheduler import JobRunning, default_holder, run_job, unlock
    from models.job_run import format_summary
    from tracker import clock

    job = _job(name)
    try:
        today = date.fromisoformat(today_text) if today_text else clock.today()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--today") from None
    holder = f"cli:{default_holder()}"
    try:
        summary = run_job(job, today, utcnow(), holder=holder)
    except JobRunning as busy:
        if not force:
            raise click.ClickException(
                f"{busy}. Wait for that run to end, or free it: "
                f"flask --app tracker jobs run {job.id} --force "
                f"(or jobs unlock {job.id}).") from None
        try:
            click.echo(unlock(job.id, utcnow()))
            summary = run_job(job, today, utcnow(), holder=holder)
        except JobRunning as still:
            raise click.ClickException(
                f"{still}. It cannot be freed from here: stop that process.") from None
        except Exception as exc:
            raise click.ClickException(f"{job.id} failed: {type(exc).__name__}: {exc}") from None
    except Exception as exc:
        raise click.ClickException(f"{job.id} failed: {type(exc).__name__}: {exc}") from None
    click.echo(f"{job.id}: {format_summary(summary)}")


@jobs_group.command("unlock")
@click.argument("name")
@with_appcontext
def unlock_command(name):
    """Free the job NAME: a run recorded as under way whose process is gone is marked
    abandoned; on PostgreSQL a database session still holding the job's lock is ended.
    A live process holding it on SQLite is named: stop it."""
    from jobs.scheduler import JobRunning, unlock

    job = _job(name)
    try:
        click.echo(unlock(job.id, utcnow()))
    except JobRunning as busy:
        raise click.ClickException(f"{busy}. It cannot be freed from here: stop that process.") \
            from None


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduled jobs in this process until stopped (Ctrl-C or SIGTERM).

    Start it beside any number of web workers; if several are started, one holds the
    scheduler lock and runs the jobs, the others wait to take over (at once when it dies)."""
    from jobs.scheduler import Scheduler

    logging.getLogger("jobs").setLevel(logging.INFO)
    app = current_app._get_current_object()
    scheduler = Scheduler(app, blocking=True)
    scheduler.build()

    def stop(signum, frame):
        click.echo("Stopping the scheduler…")
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"Scheduler {scheduler.holder} started; Ctrl-C to stop.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        scheduler.shutdown(wait=False)
    click.echo("Scheduler stopped.")
