from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import utcnow
from tracker.extensions import db


class AuditLog(db.Model):
    """Every write, with who, when, from where and the fields before and after.
    Append-only: the app has no route that edits or deletes it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(60))
    entity: Mapped[str] = mapped_column(sa.String(60))
    entity_id: Mapped[int | None]
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))

    user = relationship("User")

    __table_args__ = (
        sa.Index("ix_audit_log_entity", "entity", "entity_id"),
        sa.Index("ix_audit_log_at", "at"),
    )
