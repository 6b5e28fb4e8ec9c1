from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import utcnow
from tracker.extensions import db


class MilestoneDependency(db.Model):
    """Finish-to-start: the successor cannot finish before the predecessor has finished
    (and should not start before). Across departments too. No cycles: refused where a
    dependency is added (``tracker.operations.dependencies``)."""

    __tablename__ = "milestone_dependencies"

    predecessor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True)
    successor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.CheckConstraint("predecessor_id <> successor_id", name="not_itself"),
        sa.Index("ix_milestone_dependencies_successor", "successor_id"),
    )


class MilestoneForecast(db.Model):
    """The forecast finish of each open milestone as the latest scan computed it (the
    'forecast to slip' flag reads it; pages compute their own, as of today)."""

    __tablename__ = "milestone_forecasts"

    milestone_id: Mapped[int] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True)
    forecast_on: Mapped[date]
    computed_on: Mapped[date]
