from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import enum, utcnow
from tracker.extensions import db

FLAG_KINDS = (
    "milestone_overdue",
    "milestone_at_risk",
    "milestone_stale",
    "bottleneck_past_sla",
    "action_item_overdue",
    "certificate_expiring",
    "certificate_expired",
    "website_stale",
    "website_down",
    "website_no_https",
    "no_submitted_plan",
    "predecessor_at_risk",
    "forecast_to_slip",
)
FLAG_SEVERITIES = ("info", "warning", "critical")
# Who a flag has reached on the escalation ladder.
ESCALATION_LEVELS = ("department", "nic", "secretary")


class Flag(db.Model):
    """What a scan found. At most one open flag per (kind, subject): the partial unique
    index makes scans idempotent even when two run at once."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(enum(FLAG_KINDS, "flag_kind"))
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int]
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    severity: Mapped[str] = mapped_column(enum(FLAG_SEVERITIES, "flag_severity"))
    escalation: Mapped[str] = mapped_column(
        enum(ESCALATION_LEVELS, "escalation_level"), default="department"
    )
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None]
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    department = relationship("Department")

    __table_args__ = (
        sa.Index(
            "uq_flags_open_kind_subject",
            "kind",
            "subject_type",
            "subject_id",
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        ),
        sa.Index("ix_flags_department_cleared", "department_id", "cleared_at"),
    )
