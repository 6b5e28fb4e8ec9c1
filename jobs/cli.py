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
    from jobs.scheduler import JOBS, format_summary

    runs = {r.job_id: r for r in db.session.execute(sa.select(JobRun)).scalars()}
    for job in JOBS:
        trigger = job.make_trigger(current_app.config)
        run = runs.get(job.id)
        click.echo(f"{job.id:15} {job.description}")
        click.echo(f"{'':15} schedule: {trigger}{', and at start' if job.run_at_start else ''}")
        if run is None or run.started_at is None:
            click.echo(f"{'':15} last run: never")
        elif run.ok is False:
            click.echo(f"{'':15} last run: {run.started_at:%Y-%m-%d %H:%M} UTC, failed: {run.error}")
        elif run.ok is None:
            click.echo(f"{'':15} last run: {run.started_at:%Y-%m-%d %H:%M} UTC, running or interrupted")
        else:
            click.echo(f"{'':15} last run: {run.started_at:%Y-%m-%d %H:%M} UTC, "
                       f"{format_summary(run.summary or {})}")


@jobs_group.command("run")
@click.argument("name")
@click.option("--today", "today_text", metavar="YYYY-MM-DD",
              help="Run as of this local date (default: today in the configured time zone).")
@with_appcontext
def run_job_command(name, today_text):
    """Run the job NAME once now and print what it did.

    Refused (exit status 1) while the job is already running, in the scheduler or by hand."""
    from jobs.scheduler import JOBS, JobRunning, default_holder, format_summary, job_by_id, run_job
    from tracker import clock

    try:
        job = job_by_id(name)
    except KeyError:
        raise click.BadParameter(
            f"no job {name!r}; the jobs are: {', '.join(j.id for j in JOBS)}",
            param_hint="NAME") from None
    try:
        today = date.fromisoformat(today_text) if today_text else clock.today()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--today") from None
    try:
        summary = run_job(job, today, utcnow(), holder=f"cli:{default_holder()}")
    except JobRunning as busy:
        raise click.ClickException(f"{busy}. Wait for that run to end and try again.") from None
    except Exception as exc:
        raise click.ClickException(f"{job.id} failed: {type(exc).__name__}: {exc}") from None
    click.echo(f"{job.id}: {format_summary(summary)}")


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduled jobs in this process until stopped (Ctrl-C or SIGTERM).

    Start it beside any number of web workers; if several are started, one holds the
    database lease and runs the jobs, the others wait to take over."""
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
