"""Milestone progress: updates, due-date revisions and their history.

Every change of status, percent complete or due date writes one ``MilestoneUpdate`` row
(never edited afterwards) and one audit entry. Saves are optimistic: the caller names the
``version`` it read; a save from an older version raises ``ConflictError`` instead of
overwriting what another officer saved in between.
"""
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from models import Milestone, MilestoneUpdate
from models.base import utcnow
from models.milestone import MILESTONE_STATUSES, REVISION_REASONS
from tracker import audit
from tracker.extensions import db
from tracker.operations.errors import check
from tracker.operations.versioning import check_version, flush_versioned

AUDITED = ("status", "percent_complete", "due_date", "completed_on")


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def record_milestone_update(
    milestone,
    user,
    *,
    expected_version,
    status,
    percent_complete,
    note="",
    due_date=None,
    reason=None,
    completed_on=None,
    today: date,
):
    """Record progress on ``milestone``: status, percent complete, a note, and optionally a
    new due date (which needs a ``reason`` from ``REVISION_REASONS`` and a note).

    ``completed`` needs 100 % and a completion date that is not in the future (today when
    not given). Raises ``ConflictError`` when ``expected_version`` is not the milestone's
    current version, ``ValidationError`` (per-field messages) on bad input. Returns the
    ``MilestoneUpdate`` written. Flushes; the caller commits.
    """
    check_version(milestone, expected_version)
    note = (note or "").strip()
    errors = {"status": [], "percent_complete": [], "due_date": [], "reason": [], "note": [],
              "completed_on": [], "_": []}
    if status not in MILESTONE_STATUSES:
        errors["status"].append(_("Choose a status from the list."))
    percent = _as_int(percent_complete)
    if percent is None or not 0 <= percent <= 100:
        errors["percent_complete"].append(_("Enter a whole number from 0 to 100."))
    due_changed = due_date is not None and due_date != milestone.due_date
    if due_changed:
        if reason not in REVISION_REASONS:
            errors["reason"].append(_("Give the reason for moving the due date."))
        if not note:
            errors["note"].append(_("Explain why the due date moves."))
        if milestone.start_date is not None and due_date < milestone.start_date:
            errors["due_date"].append("The due date cannot be before the start date "
                                      f"({milestone.start_date:%d-%m-%Y}).")
    if status == "completed":
        if percent is not None and percent != 100:
            errors["percent_complete"].append(_("A completed milestone must be at 100 percent."))
        completed_on = completed_on or (
            milestone.completed_on if milestone.status == "completed" else None) or today
        if completed_on > today:
            errors["completed_on"].append(_("The completion date cannot be in the future."))
        if milestone.start_date is not None and completed_on < milestone.start_date:
            errors["completed_on"].append(_("The completion date cannot be before the start date."))
    else:
        completed_on = None
    if (status == milestone.status and percent == milestone.percent_complete
            and not due_changed and not note):
        errors["_"].append(_("Nothing to record: change the status, the percent complete or "
                           "the due date, or add a note."))
    check(errors)

    before = audit.snapshot(milestone, AUDITED)
    update = MilestoneUpdate(
        milestone=milestone,
        user_id=user.id,
        at=utcnow(),
        status_from=milestone.status,
        status_to=status,
        percent_from=milestone.percent_complete,
        percent_to=percent,
        due_from=milestone.due_date if due_changed else None,
        due_to=due_date if due_changed else None,
        reason=reason if due_changed else None,
        note=note,
        milestone_version=milestone.version + 1,
    )
    db.session.add(update)
    milestone.status = status
    milestone.percent_complete = percent
    milestone.completed_on = completed_on
    if due_changed:
        milestone.due_date = due_date
    milestone.updated_at = update.at
    milestone.updated_by_id = user.id
    flush_versioned(milestone, expected_version)
    changes = audit.diff(before, audit.snapshot(milestone, AUDITED))
    if due_changed:
        changes["reason"] = [None, reason]
    if note:
        changes["note"] = [None, note]
    audit.record("update", "milestone", milestone.id, changes, user=user)
    return update


# --- Reading the history -------------------------------------------------------------------


def history(milestone_id):
    """Every recorded change of a milestone, newest first, with who made it (one query)."""
    return db.session.execute(
        sa.select(MilestoneUpdate)
        .options(joinedload(MilestoneUpdate.user))
        .where(MilestoneUpdate.milestone_id == milestone_id)
        .order_by(MilestoneUpdate.at.desc(), MilestoneUpdate.id.desc())
    ).scalars().all()


def changes_since(milestone_id, version):
    """The recorded changes saved after ``version`` of the milestone, newest first."""
    return [u for u in history(milestone_id)
            if u.milestone_version is not None and u.milestone_version > version]


def is_revision(update) -> bool:
    return update.due_to is not None and update.due_to != update.due_from


def revision_count_sql():
    """Correlated count of due-date revisions of ``Milestone`` (for lists)."""
    return (
        sa.select(sa.func.count(MilestoneUpdate.id))
        .where(
            MilestoneUpdate.milestone_id == Milestone.id,
            MilestoneUpdate.due_to.is_not(None),
            MilestoneUpdate.due_from.is_distinct_from(MilestoneUpdate.due_to),
        )
        .scalar_subquery()
    )
