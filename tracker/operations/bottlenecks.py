"""Bottlenecks: raised on a milestone or a department, escalated, resolved with a note.

``raised_on`` and ``resolved_on`` are local calendar days (the caller passes ``today``);
the age and the SLA state are derived by ``tracker.rules``.
"""
from datetime import date

from flask_babel import gettext as _

from models import Bottleneck
from models.base import utcnow
from models.bottleneck import BOTTLENECK_CATEGORIES, SEVERITIES
from tracker import audit
from tracker.operations.errors import ValidationError, check
from tracker.operations.versioning import check_version, flush_versioned
from tracker.extensions import db
from tracker.permissions import state_allows

AUDITED = ("department_id", "milestone_id", "title", "description", "category", "severity",
           "status", "action_by", "target_date", "raised_on", "resolved_on", "resolution_note")


def raise_bottleneck(department, user, *, milestone=None, title, category, severity,
                     description="", action_by="", target_date=None, today: date):
    """Raise a bottleneck on ``department``, or on one of its milestones."""
    title = (title or "").strip()
    errors = {"title": [], "category": [], "severity": [], "milestone_id": [],
              "target_date": [], "action_by": []}
    if not title:
        errors["title"].append(_("Say what is holding the work up."))
    elif len(title) > 300:
        errors["title"].append(_("Use at most 300 characters."))
    if category not in BOTTLENECK_CATEGORIES:
        errors["category"].append(_("Choose a category from the list."))
    if severity not in SEVERITIES:
        errors["severity"].append(_("Choose a severity from the list."))
    if milestone is not None and milestone.department_id != department.id:
        errors["milestone_id"].append(_("Choose a milestone of this department."))
    if target_date is not None and target_date < today:
        errors["target_date"].append(_("The target date cannot be in the past."))
    if len(action_by or "") > 200:
        errors["action_by"].append(_("Use at most 200 characters."))
    check(errors)
    bottleneck = Bottleneck(
        department_id=department.id,
        milestone_id=milestone.id if milestone is not None else None,
        title=title,
        description=(description or "").strip(),
        category=category,
        severity=severity,
        status="open",
        raised_by_id=user.id,
        raised_at=utcnow(),
        raised_on=today,
        action_by=(action_by or "").strip(),
        target_date=target_date,
    )
    db.session.add(bottleneck)
    db.session.flush()
    audit.record("raise", "bottleneck", bottleneck.id,
                 {k: [None, v] for k, v in audit.snapshot(bottleneck, AUDITED).items()
                  if v not in (None, "")}, user=user)
    return bottleneck


def escalate_bottleneck(bottleneck, user, *, note="", expected_version=None):
    """Escalate an open bottleneck to the Secretary's attention."""
    check_version(bottleneck, expected_version)
    if not state_allows("escalate_bottleneck", bottleneck):
        raise ValidationError({"_": [_("Only an open bottleneck can be escalated.")]})
    before = audit.snapshot(bottleneck, AUDITED)
    now = utcnow()
    bottleneck.status = "escalated"
    bottleneck.escalated_by_id, bottleneck.escalated_at = user.id, now
    bottleneck.updated_at = now
    flush_versioned(bottleneck, expected_version)
    changes = audit.diff(before, audit.snapshot(bottleneck, AUDITED))
    if (note or "").strip():
        changes["note"] = [None, note.strip()]
    audit.record("escalate", "bottleneck", bottleneck.id, changes, user=user)
    return bottleneck


def resolve_bottleneck(bottleneck, user, *, note, today: date, expected_version=None):
    """Resolve an open or escalated bottleneck with a note saying how."""
    check_version(bottleneck, expected_version)
    if not state_allows("resolve_bottleneck", bottleneck):
        raise ValidationError({"_": [_("This bottleneck is already resolved.")]})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Say how the bottleneck was resolved.")]})
    before = audit.snapshot(bottleneck, AUDITED)
    now = utcnow()
    bottleneck.status = "resolved"
    bottleneck.resolution_note = note
    bottleneck.resolved_by_id, bottleneck.resolved_at = user.id, now
    bottleneck.resolved_on = max(today, bottleneck.raised_on)
    bottleneck.updated_at = now
    flush_versioned(bottleneck, expected_version)
    audit.record("resolve", "bottleneck", bottleneck.id,
                 audit.diff(before, audit.snapshot(bottleneck, AUDITED)), user=user)
    return bottleneck


EDITABLE = ("title", "description", "category", "severity", "action_by", "target_date")


def edit_bottleneck(bottleneck, user, *, expected_version, today: date, **fields):
    """Change the details of an open bottleneck (any of ``EDITABLE``)."""
    check_version(bottleneck, expected_version)
    unknown = set(fields) - set(EDITABLE)
    errors = {name: [_("This field cannot be changed.")] for name in unknown}
    if not state_allows("edit_bottleneck", bottleneck):
        errors["_"] = [_("A resolved bottleneck cannot be changed.")]
    if "title" in fields:
        title = (fields["title"] or "").strip()
        if not title or len(title) > 300:
            errors["title"] = [_("Say what is holding the work up, in at most 300 characters.")]
        fields["title"] = title
    if "category" in fields and fields["category"] not in BOTTLENECK_CATEGORIES:
        errors["category"] = [_("Choose a category from the list.")]
    if "severity" in fields and fields["severity"] not in SEVERITIES:
        errors["severity"] = [_("Choose a severity from the list.")]
    if fields.get("target_date") is not None and fields["target_date"] < today:
        errors["target_date"] = [_("The target date cannot be in the past.")]
    if len(fields.get("action_by") or "") > 200:
        errors["action_by"] = [_("Use at most 200 characters.")]
    check(errors)
    before = audit.snapshot(bottleneck, AUDITED)
    for name, value in fields.items():
        setattr(bottleneck, name, value.strip() if isinstance(value, str) else value)
    bottleneck.updated_at = utcnow()
    flush_versioned(bottleneck, expected_version)
    audit.record("update", "bottleneck", bottleneck.id,
                 audit.diff(before, audit.snapshot(bottleneck, AUDITED)), user=user)
    return bottleneck
