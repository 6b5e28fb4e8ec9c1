from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import utcnow
from tracker.extensions import db


class Setting(db.Model):
    """An administrator's override of a threshold of the rules (see ``tracker.settings``)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class SchedulerLease(db.Model):
    """Who may run scheduled jobs now. A scheduler renews its lease; another takes over
    only after it expires, so at most one runs jobs however many are started."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
