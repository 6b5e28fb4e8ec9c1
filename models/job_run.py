from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db

# How a run ended, as stored in ``outcome`` (their words: tracker.labels, kind "job_outcome").
OUTCOMES = ("running", "ok", "failed", "abandoned")


def describe_holder(holder):
    """'host web-1, process 4242' from a holder id; the text itself when not one."""
    parts = (holder or "").split(":")
    if holder and holder.startswith("cli:"):
        parts = parts[1:]
    if len(parts) >= 2 and parts[1].isdigit():
        return f"host {parts[0]}, process {parts[1]}"
    return holder or "an unknown holder"


def format_summary(summary):
    """What a run did, from its summary: '3 raised, 1 cleared'."""
    return ", ".join(f"{value} {key}" if isinstance(value, int) else f"{key}: {value}"
                     for key, value in summary.items()) or "nothing to do"


class JobRun(db.Model):
    """Every run of a scheduled job (by its stable id), kept ``JOB_RUN_HISTORY_DAYS``: who
    ran it (host:pid), when it started and ended, its outcome, what it did (counts) or how it
    failed, and for a date-bound job (the digest, the plan reminder) the day it covers. A
    scheduler that starts or takes over reads it to run a missed or unfinished day once."""

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.Index("ix_job_runs_job_started", "job_id", "started_at"),
        sa.Index("ix_job_runs_job_day", "job_id", "covers_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(60))
    holder: Mapped[str | None] = mapped_column(sa.String(200))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # What became of the run: running, ok, failed (with an error), or abandoned (its process
    # died before it finished; marked by the next run of the job or the scheduler taking over).
    outcome: Mapped[str] = mapped_column(sa.String(20), default="ok")
    summary: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    covers_day: Mapped[date | None]

    @property
    def ok(self):
        """True when done, False when failed or abandoned, None while running."""
        return {"ok": True, "running": None}.get(self.outcome, False)

    @ok.setter
    def ok(self, value):
        self.outcome = {True: "ok", False: "failed", None: "running"}[value]
