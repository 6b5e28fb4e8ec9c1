from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import enum, utcnow
from tracker.extensions import db

MEETING_STATUSES = ("planned", "held", "minutes_final")
# "department": one item per department under review, the rules' findings its points
# (stored in the snapshot); the other kinds of rule are of agendas built before that.
AGENDA_KINDS = ("flag", "bottleneck", "stale_department", "no_plan", "atr", "free", "department")
ACTION_ITEM_STATUSES = ("open", "done", "dropped")


class ReviewMeeting(db.Model):
    __tablename__ = "review_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    meeting_date: Mapped[date]
    venue: Mapped[str] = mapped_column(sa.String(200), default="")
    chair: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(
        enum(MEETING_STATUSES, "meeting_status"), default="planned"
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    held_at: Mapped[datetime | None]
    finalised_at: Mapped[datetime | None]
    finalised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)
    # What the rules found that is not on the agenda: {"departments", "findings", "ids"}.
    left_off: Mapped[dict | None] = mapped_column(sa.JSON)

    created_by = relationship("User", foreign_keys=[created_by_id])
    finalised_by = relationship("User", foreign_keys=[finalised_by_id])
    attendees = relationship(
        "Attendee", back_populates="meeting", cascade="all, delete-orphan", order_by="Attendee.id"
    )
    agenda_items = relationship(
        "AgendaItem",
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="AgendaItem.position",
    )
    action_items = relationship("ActionItem", back_populates="meeting", order_by="ActionItem.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.Index("ix_review_meetings_date", "meeting_date"),)


class Attendee(db.Model):
    __tablename__ = "meeting_attendees"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("review_meetings.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    designation: Mapped[str] = mapped_column(sa.String(200), default="")
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))

    meeting = relationship("ReviewMeeting", back_populates="attendees")
    department = relationship("Department")


class AgendaItem(db.Model):
    """An item of a meeting's agenda; built from the data, editable until the meeting is held,
    then frozen (``snapshot`` holds what was discussed)."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("review_meetings.id"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(enum(AGENDA_KINDS, "agenda_kind"), default="free")
    title: Mapped[str] = mapped_column(sa.String(500))
    details: Mapped[str] = mapped_column(sa.Text, default="")
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    subject_type: Mapped[str | None] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None]
    snapshot: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    minutes: Mapped[str] = mapped_column(sa.Text, default="")

    meeting = relationship("ReviewMeeting", back_populates="agenda_items")
    department = relationship("Department")
    amendments = relationship(
        "MinutesAmendment", back_populates="agenda_item", order_by="MinutesAmendment.at"
    )

    __table_args__ = (sa.Index("ix_agenda_items_meeting_position", "meeting_id", "position"),)


class MinutesAmendment(db.Model):
    """A correction to finalised minutes; the original text is kept."""

    __tablename__ = "minutes_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(sa.ForeignKey("agenda_items.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    previous_text: Mapped[str] = mapped_column(sa.Text)
    new_text: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    agenda_item = relationship("AgendaItem", back_populates="amendments")
    user = relationship("User")


class ActionItem(db.Model):
    """A decision of a review meeting, tracked until done and reported in the ATR."""

    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("review_meetings.id"))
    agenda_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agenda_items.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    responsible_officer: Mapped[str] = mapped_column(sa.String(200), default="")
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(
        enum(ACTION_ITEM_STATUSES, "action_item_status"), default="open"
    )
    closing_note: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    meeting = relationship("ReviewMeeting", back_populates="action_items")
    agenda_item = relationship("AgendaItem")
    department = relationship("Department")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_action_items_department_status_due", "department_id", "status", "due_date"),
    )
