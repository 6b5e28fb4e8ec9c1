from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import enum, utcnow
from tracker.extensions import db

BOTTLENECK_CATEGORIES = (
    "funds",
    "procurement",
    "manpower",
    "technical",
    "inter_departmental",
    "vendor",
    "approval",
)
SEVERITIES = ("low", "medium", "high", "critical")
BOTTLENECK_STATUSES = ("open", "escalated", "resolved")
OPEN_BOTTLENECK_STATUSES = ("open", "escalated")


class Bottleneck(db.Model):
    __tablename__ = "bottlenecks"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    milestone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("milestones.id"))
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[str] = mapped_column(enum(BOTTLENECK_CATEGORIES, "bottleneck_category"))
    severity: Mapped[str] = mapped_column(enum(SEVERITIES, "severity"))
    status: Mapped[str] = mapped_column(
        enum(BOTTLENECK_STATUSES, "bottleneck_status"), default="open"
    )
    raised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The local calendar day it was raised and resolved: its age and SLA are counted in days.
    raised_on: Mapped[date]
    action_by: Mapped[str] = mapped_column(sa.String(200), default="")
    target_date: Mapped[date | None]
    escalated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    escalated_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolved_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    department = relationship("Department")
    milestone = relationship("Milestone", back_populates="bottlenecks")
    raised_by = relationship("User", foreign_keys=[raised_by_id])
    escalated_by = relationship("User", foreign_keys=[escalated_by_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "status <> 'resolved' OR (resolved_at IS NOT NULL AND resolved_on IS NOT NULL)",
            name="resolved_has_time",
        ),
        sa.Index("ix_bottlenecks_status_severity", "status", "severity", "raised_on"),
        sa.Index("ix_bottlenecks_department_status", "department_id", "status"),
        sa.Index("ix_bottlenecks_milestone", "milestone_id"),
    )
