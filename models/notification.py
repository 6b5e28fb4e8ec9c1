from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import utcnow
from tracker.extensions import db


class Notification(db.Model):
    """A message in a user's in-app inbox, about a flag or an event; maybe e-mailed."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    flag_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flags.id"))
    event: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The local day a digest notification belongs to: nothing is sent twice a day.
    digest_on: Mapped[date | None]
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    email_result: Mapped[str | None] = mapped_column(sa.String(300))

    user = relationship("User")
    flag = relationship("Flag")

    __table_args__ = (
        sa.Index("ix_notifications_user_read", "user_id", "read_at"),
        sa.UniqueConstraint("user_id", "flag_id", "digest_on"),
    )
