from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import enum, utcnow
from tracker.extensions import db

MILESTONE_CATEGORIES = (
    "service_integration",
    "website_update",
    "infrastructure",
    "capacity_building",
    "security_compliance",
    "accessibility",
    "other",
)
MILESTONE_STATUSES = ("not_started", "in_progress", "blocked", "completed", "dropped")
CLOSED_STATUSES = ("completed", "dropped")
REVISION_REASONS = ("dependency", "funds", "procurement", "vendor", "scope", "other")


class Milestone(db.Model):
    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("action_plans.id"))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[str] = mapped_column(enum(MILESTONE_CATEGORIES, "milestone_category"))
    owner: Mapped[str] = mapped_column(sa.String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    start_date: Mapped[date | None]
    baseline_due: Mapped[date | None]
    due_date: Mapped[date]
    completed_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(
        enum(MILESTONE_STATUSES, "milestone_status"), default="not_started"
    )
    percent_complete: Mapped[int] = mapped_column(default=0)
    service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("services.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic locking: a save names the version it read; a stale one is a conflict.
    version: Mapped[int] = mapped_column(default=1)

    plan = relationship("ActionPlan", back_populates="milestones")
    department = relationship("Department")
    service = relationship("Service", back_populates="milestones")
    updated_by = relationship("User")
    updates = relationship(
        "MilestoneUpdate",
        back_populates="milestone",
        order_by="MilestoneUpdate.id.desc()",
        cascade="all, delete-orphan",
    )
    bottlenecks = relationship("Bottleneck", back_populates="milestone")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("department_id", "code"),
        sa.CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_range"),
        sa.CheckConstraint(
            "start_date IS NULL OR due_date >= start_date", name="due_after_start"
        ),
        sa.CheckConstraint(
            "status <> 'completed' OR (completed_on IS NOT NULL AND percent_complete = 100)",
            name="completed_is_complete",
        ),
        sa.Index("ix_milestones_department_status_due", "department_id", "status", "due_date"),
        sa.Index("ix_milestones_status_due", "status", "due_date"),
        sa.Index("ix_milestones_plan_position", "plan_id", "position"),
        # The overdue list and the dashboard's open lists: open milestones by due date, so
        # the first page is an index range scan whatever the number of closed milestones.
        sa.Index("ix_milestones_open_due", "due_date", "id",
                 sqlite_where=sa.text("status NOT IN ('completed', 'dropped')"),
                 postgresql_where=sa.text("status NOT IN ('completed', 'dropped')")),
    )

    def __repr__(self):
        return f"<Milestone {self.code}>"


class MilestoneUpdate(db.Model):
    """One recorded change of a milestone's status, percent or due date. Never edited."""

    __tablename__ = "milestone_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(sa.ForeignKey("milestones.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_from: Mapped[str | None] = mapped_column(sa.String(20))
    status_to: Mapped[str | None] = mapped_column(sa.String(20))
    percent_from: Mapped[int | None]
    percent_to: Mapped[int | None]
    due_from: Mapped[date | None]
    due_to: Mapped[date | None]
    reason: Mapped[str | None] = mapped_column(enum(REVISION_REASONS, "revision_reason"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # The milestone's version once this change was saved: a conflict page shows the
    # changes made since the version the second officer read.
    milestone_version: Mapped[int | None]

    milestone = relationship("Milestone", back_populates="updates")
    user = relationship("User")

    __table_args__ = (
        sa.Index("ix_milestone_updates_milestone_at", "milestone_id", "at"),
        sa.CheckConstraint(
            "due_to IS NULL OR due_to = due_from OR reason IS NOT NULL",
            name="due_change_has_reason",
        ),
    )
