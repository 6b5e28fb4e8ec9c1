from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class JobRun(db.Model):
    """The last run of each scheduled job (by its stable id): when it started and ended,
    what it did or how it failed. A scheduler that starts, or takes over the lease, reads it
    to run a job missed meanwhile once (missed runs are coalesced)."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool | None]
    summary: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    holder: Mapped[str | None] = mapped_column(sa.String(200))
