"""A file attached to a record: evidence on a milestone update or a bottleneck, the signed
copy of a meeting's minutes. The bytes live in the attachment store (tracker/attachments.py)
under ``storage_key``, a name the server chose; this row says what the file is."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import enum, utcnow
from tracker.extensions import db

ATTACHMENT_PURPOSES = ("evidence", "signed_minutes")
_ONE_PARENT = " + ".join(
    f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)"
    for c in ("milestone_update_id", "bottleneck_id", "meeting_id")) + " = 1"


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What it is attached to: exactly one of these three.
    milestone_update_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("milestone_updates.id"))
    bottleneck_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bottlenecks.id"))
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("review_meetings.id"))
    # The department of the record it is attached to (None for a meeting): who may read the
    # record may read the file (tracker.permissions.can_read).
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    purpose: Mapped[str] = mapped_column(enum(ATTACHMENT_PURPOSES, "attachment_purpose"))
    filename: Mapped[str] = mapped_column(sa.String(200))  # the uploader's name, sanitised
    content_type: Mapped[str] = mapped_column(sa.String(100))  # from the content, not the name
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by = relationship("User")
    milestone_update = relationship("MilestoneUpdate")
    bottleneck = relationship("Bottleneck")
    meeting = relationship("ReviewMeeting")

    __table_args__ = (
        sa.CheckConstraint(_ONE_PARENT, name="one_parent"),
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.Index("ix_attachments_milestone_update", "milestone_update_id"),
        sa.Index("ix_attachments_bottleneck", "bottleneck_id"),
        sa.Index("ix_attachments_meeting", "meeting_id"),
    )

    @property
    def parent(self):
        return self.milestone_update or self.bottleneck or self.meeting
