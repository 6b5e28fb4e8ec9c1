"""Attaching files to records and removing them; each recorded in the audit log.

The files were checked first (``tracker.attachments.check_uploads``): these operations
write them to the store, add their rows, and flush; the caller commits. A file written here
is deleted again if the transaction rolls back, and a removed file is only deleted from disk
once the removal commits.
"""
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from models import Attachment
from models.base import utcnow
from tracker import attachments as store
from tracker import audit
from tracker.extensions import db
from tracker.operations.errors import ValidationError
from tracker.permissions import state_allows

AUDITED = ("filename", "content_type", "size", "sha256", "purpose")


def _add(checked_files, user, *, purpose, department_id, **parent):
    added = []
    for checked in checked_files:
        key = store.write(checked, db.session)
        attachment = Attachment(
            purpose=purpose, department_id=department_id, filename=checked.filename,
            content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
            storage_key=key, uploaded_by_id=user.id, uploaded_at=utcnow(), **parent)
        db.session.add(attachment)
        added.append(attachment)
    db.session.flush()
    for attachment in added:
        audit.record("attach", "attachment", attachment.id,
                     {**{f: [None, getattr(attachment, f)] for f in AUDITED},
                      **_parent_changes(attachment)}, user=user)
    return added


def _parent_changes(attachment):
    return {k: [None, v] for k, v in (
        ("milestone_update_id", attachment.milestone_update_id),
        ("bottleneck_id", attachment.bottleneck_id),
        ("meeting_id", attachment.meeting_id)) if v is not None}


def attach_to_update(update, user, *, files):
    """Evidence on a milestone update (just recorded or earlier)."""
    return _add(files, user, purpose="evidence",
                department_id=update.milestone.department_id, milestone_update_id=update.id)


def attach_to_bottleneck(bottleneck, user, *, files):
    return _add(files, user, purpose="evidence",
                department_id=bottleneck.department_id, bottleneck_id=bottleneck.id)


def attach_signed_minutes(meeting, user, *, files):
    """The signed, scanned minutes: only once the minutes are final, PDF only."""
    if not state_allows("attach_signed_minutes", meeting):
        raise ValidationError({"file": [_(
            "The signed copy can be attached only after the minutes are finalised.")]})
    bad = [c for c in files if c.content_type not in store.SIGNED_MINUTES_TYPES]
    if bad:
        raise ValidationError({"file": [_("The signed minutes must be a PDF file.")]})
    return _add(files, user, purpose="signed_minutes", department_id=None,
                meeting_id=meeting.id)


def remove(attachment, user):
    """Remove an attachment: its row now, its file once the removal commits."""
    changes = {**{f: [getattr(attachment, f), None] for f in AUDITED},
               **{k: [v[1], None] for k, v in _parent_changes(attachment).items()}}
    store.remove_on_commit(attachment.storage_key, db.session)
    db.session.delete(attachment)
    db.session.flush()
    audit.record("remove", "attachment", attachment.id, changes, user=user)


# --- Reading -------------------------------------------------------------------------------


def _listing(where):
    return db.session.execute(
        sa.select(Attachment).options(joinedload(Attachment.uploaded_by)).where(where)
        .order_by(Attachment.uploaded_at, Attachment.id)
    ).scalars().all()


def by_update(update_ids):
    """``{update id: [attachment, …]}`` for these milestone updates (one query)."""
    result = {}
    if update_ids:
        for a in _listing(Attachment.milestone_update_id.in_(list(update_ids))):
            result.setdefault(a.milestone_update_id, []).append(a)
    return result


def of_bottleneck(bottleneck_id):
    return _listing(Attachment.bottleneck_id == bottleneck_id)


def of_meeting(meeting_id):
    return _listing(Attachment.meeting_id == meeting_id)
