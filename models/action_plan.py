from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import enum, utcnow
from tracker.extensions import db

PLAN_STATUSES = ("draft", "submitted", "approved", "returned")


class ActionPlan(db.Model):
    """The one current action plan of a department. Each submission is a PlanVersion."""

    __tablename__ = "action_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(enum(PLAN_STATUSES, "plan_status"), default="draft")
    current_version: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    lock_version: Mapped[int] = mapped_column(default=1)

    department = relationship("Department")
    created_by = relationship("User", foreign_keys=[created_by_id])
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    milestones = relationship(
        "Milestone", back_populates="plan", order_by="Milestone.position"
    )
    versions = relationship(
        "PlanVersion", back_populates="plan", order_by="PlanVersion.number.desc()"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class PlanVersion(db.Model):
    """A submitted version of a plan: what was submitted, by whom, and how it was reviewed."""

    __tablename__ = "plan_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("action_plans.id"))
    number: Mapped[int]
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str | None] = mapped_column(enum(("approved", "returned"), "plan_outcome"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    # The milestones as submitted: a list of dicts, so the version stays readable.
    snapshot: Mapped[list] = mapped_column(sa.JSON, default=list)

    plan = relationship("ActionPlan", back_populates="versions")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])

    __table_args__ = (sa.UniqueConstraint("plan_id", "number"),)
