from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import enum, utcnow
from tracker.extensions import db

DELIVERY_MODES = ("offline", "online_standalone", "integrated")


class Service(db.Model):
    """A public service of a department, PSGA-notified or not."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(sa.String(300))
    psga_notified: Mapped[bool] = mapped_column(default=False)
    time_limit_days: Mapped[int | None]
    designated_officer: Mapped[str] = mapped_column(sa.String(200), default="")
    delivery_mode: Mapped[str] = mapped_column(
        enum(DELIVERY_MODES, "delivery_mode"), default="offline"
    )
    url: Mapped[str | None] = mapped_column(sa.String(500))
    target_date: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    department = relationship("Department")
    milestones = relationship("Milestone", back_populates="service")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("department_id", "name"),
        sa.CheckConstraint(
            "time_limit_days IS NULL OR time_limit_days > 0", name="time_limit_positive"
        ),
        sa.Index("ix_services_department_mode", "department_id", "delivery_mode"),
    )
