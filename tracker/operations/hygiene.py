"""The last line of text hygiene: no record reaches the database with a refused character.

Forms, imports and the API check their fields first and name them; this guard, run before every
flush, catches any path that did not, and raises ``ValidationError`` naming the field, so the
caller refuses the write the way it refuses any bad input. ``Text`` columns may hold several
lines; ``String`` columns may not.
"""
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.operations.errors import ValidationError
from tracker.text import hidden_character_message

# The records people write text into; the app's own records (audit log, flags, job runs,
# notifications, tokens' hashes) are not checked here.
CHECKED = {
    "Department", "User", "ActionPlan", "Milestone", "MilestoneUpdate", "Bottleneck", "Service",
    "DigitalAsset", "ReviewMeeting", "Attendee", "AgendaItem", "MinutesAmendment", "ActionItem",
    "ApiToken",
}
_columns = {}


def _text_columns(mapper):
    found = _columns.get(mapper)
    if found is None:
        found = _columns[mapper] = [
            (attr.key, isinstance(attr.columns[0].type, sa.Text))
            for attr in mapper.column_attrs
            if isinstance(attr.columns[0].type, sa.String) and not attr.key.endswith("_hash")
        ]
    return found


def check_session(session, flush_context=None, instances=None):
    errors = {}
    for record in list(session.new) + list(session.dirty):
        mapper = sa.inspect(record).mapper
        if mapper.class_.__name__ not in CHECKED:
            continue
        for key, multiline in _text_columns(mapper):
            message = hidden_character_message(getattr(record, key, None), multiline,
                                               field=key.replace("_", " ").capitalize())
            if message:
                errors.setdefault(key, []).append(message)
    if errors:
        raise ValidationError(errors)


def install():
    if not event.contains(Session, "before_flush", check_session):
        event.listen(Session, "before_flush", check_session)
