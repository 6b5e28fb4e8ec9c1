"""Words for every stored code: the one place a page, a workbook or an e-mail finds them.

``label(kind, code)`` gives the words of one code in the reader's language (the request's
locale; a job's ``force_locale`` for an e-mail): ``label("milestone_status", "in_progress")``
→ "In progress" / "प्रगति पर". The same code can mean different things (``nic`` is a role, an
escalation level and a host), hence the ``kind``. Templates use the filter
``{{ m.status|label('milestone_status') }}``; forms take ``choices(kind)``.

The words are marked with ``N_`` (found by ``pybabel extract``) and translated when asked
for; ``tests/test_labels.py`` checks that every code a model can store has words here and that
no page or workbook shows a code instead of its words.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from flask_babel import gettext, lazy_gettext

from tracker.i18n import N_

LABELS = {
    # A milestone's health (tracker.rules.health)
    "health": {
        "overdue": N_("Overdue"), "at_risk": N_("At risk"), "on_track": N_("On track"),
        "done": N_("Done"), "dropped": N_("Dropped"),
    },
    # models.milestone
    "milestone_status": {
        "not_started": N_("Not started"), "in_progress": N_("In progress"),
        "blocked": N_("Blocked"), "completed": N_("Completed"), "dropped": N_("Dropped"),
    },
    "milestone_category": {
        "service_integration": N_("Service integration"), "website_update": N_("Website update"),
        "infrastructure": N_("Infrastructure"), "capacity_building": N_("Capacity building"),
        "security_compliance": N_("Security compliance"), "accessibility": N_("Accessibility"),
        "other": N_("Other"),
    },
    "revision_reason": {
        "dependency": N_("Dependency"), "funds": N_("Funds"), "procurement": N_("Procurement"),
        "vendor": N_("Vendor"), "scope": N_("Scope"), "other": N_("Other"),
    },
    # models.action_plan: a plan's status, a version's outcome; "missing" when a department has
    # none, "awaiting_review" for a version not yet reviewed
    "plan_status": {
        "draft": N_("Draft"), "submitted": N_("Submitted"), "approved": N_("Approved"),
        "returned": N_("Returned"), "missing": N_("Missing"),
        "awaiting_review": N_("Awaiting review"),
    },
    # models.bottleneck
    "bottleneck_category": {
        "funds": N_("Funds"), "procurement": N_("Procurement"), "vendor": N_("Vendor"),
        "manpower": N_("Manpower"), "technical": N_("Technical"),
        "inter_departmental": N_("Inter-departmental"), "approval": N_("Approval"),
        "other": N_("Other"),
    },
    "severity": {
        "low": N_("Low"), "medium": N_("Medium"), "high": N_("High"), "critical": N_("Critical"),
    },
    "bottleneck_status": {
        "open": N_("Open"), "escalated": N_("Escalated"), "resolved": N_("Resolved"),
    },
    # A bottleneck's age (tracker.rules.age_bucket)
    "age_bucket": {
        "0-15": N_("0–15 days"), "16-30": N_("16–30 days"), "31-60": N_("31–60 days"),
        "60+": N_("Over 60 days"),
    },
    # models.flag
    "flag_kind": {
        "milestone_overdue": N_("Milestone overdue"),
        "milestone_at_risk": N_("Milestone at risk"),
        "milestone_stale": N_("Milestone not updated"),
        "bottleneck_past_sla": N_("Bottleneck past its SLA"),
        "action_item_overdue": N_("Action item overdue"),
        "certificate_expiring": N_("Security audit certificate expiring"),
        "certificate_expired": N_("Security audit certificate expired"),
        "website_stale": N_("Website not updated"),
        "website_down": N_("Website down"),
        "website_no_https": N_("Website without HTTPS"),
        "no_submitted_plan": N_("No action plan submitted"),
        "predecessor_at_risk": N_("At risk from its predecessor"),
        "forecast_to_slip": N_("Forecast to slip"),
    },
    "flag_severity": {
        "info": N_("Information"), "warning": N_("Warning"), "critical": N_("Critical"),
    },
    "escalation": {
        "department": N_("Nodal officer"), "nic": N_("NIC"), "secretary": N_("Secretary"),
    },
    # models.user
    "role": {
        "secretary": N_("Secretary"), "nic": N_("NIC officer"), "nodal": N_("Nodal officer"),
        "viewer": N_("Viewer"), "admin": N_("Administrator"),
    },
    # models.meeting
    "meeting_status": {
        "planned": N_("Planned"), "held": N_("Held"), "minutes_final": N_("Minutes final"),
    },
    "agenda_kind": {
        "flag": N_("Flag"), "bottleneck": N_("Bottleneck"),
        "stale_department": N_("Updates overdue"), "no_plan": N_("No action plan"),
        "atr": N_("Action taken report"), "free": N_("Other business"),
        "department": N_("Department"),
    },
    "action_item_status": {"open": N_("Open"), "done": N_("Done"), "dropped": N_("Dropped")},
    # A department's findings on a review agenda (tracker.operations.meetings)
    "finding_kind": {
        "overdue": N_("Overdue milestones escalated to the Secretary"),
        "bottleneck": N_("Bottlenecks past their time limit"),
        "stale": N_("Milestones not updated"),
        "plan": N_("Action plan"),
        "atr": N_("Action taken on earlier decisions"),
        "forecast": N_("Milestones forecast to slip"),
    },
    # The short word before each point of a department's agenda item
    "finding_short": {
        "overdue": N_("Overdue"), "bottleneck": N_("Bottleneck"), "stale": N_("Not updated"),
        "plan": N_("Plan"), "atr": N_("Earlier decision"), "forecast": N_("Forecast to slip"),
    },
    # models.service
    "delivery_mode": {
        "offline": N_("Offline"), "online_standalone": N_("Online (standalone)"),
        "integrated": N_("Integrated with the portal"),
    },
    # models.digital_asset
    "asset_kind": {"website": N_("Website"), "web_app": N_("Web app"), "mobile_app": N_("Mobile app")},
    "host": {"nic": N_("NIC"), "department": N_("Department"), "vendor": N_("Vendor")},
    # A website's compliance states (tracker.rules), one kind per column of the register
    "website_content": {
        "ok": N_("Up to date"),
        "expired": N_("Not updated for over %(days)s days"),
        "missing": N_("No update recorded"),
    },
    "website_certificate": {
        "ok": N_("Valid"),
        "expiring": N_("Expires within %(days)s days"),
        "expired": N_("Expired"),
        "missing": N_("No certificate"),
    },
    "website_accessibility": {
        "ok": N_("Audited"),
        "expiring": N_("Audit due within %(days)s days"),
        "expired": N_("Audit overdue"),
        "missing": N_("Never audited"),
    },
    "website_https": {"ok": N_("Yes"), "missing": N_("No HTTPS")},
    "website_portal": {"ok": N_("Integrated"), "missing": N_("Not integrated")},
    "website_check": {"ok": N_("Up"), "down": N_("Down"), "not_checked": N_("Not checked")},
    # The security headers a health check looks for (jobs.health_check.SECURITY_HEADERS)
    "security_header": {
        "strict_transport_security": "Strict-Transport-Security",
        "content_security_policy": "Content-Security-Policy",
        "x_content_type_options": "X-Content-Type-Options",
        "frame_protection": N_("X-Frame-Options or frame-ancestors"),
    },
    # models.job_run
    # The scheduled jobs by their stable ids (jobs.scheduler.JOBS, job_runs.job_id)
    "job": {
        "scan": N_("Raise, escalate and clear flags"),
        "digest": N_("Daily digest to the inbox and by e-mail"),
        "plan-reminder": N_("Weekly reminder to departments with no submitted action plan"),
        "mail": N_("Retry the e-mails of the day not yet sent"),
        "health-check": N_("Check every registered website's health"),
    },
    "job_outcome": {
        "running": N_("Running"), "ok": N_("Done"), "failed": N_("Failed"),
        "abandoned": N_("Abandoned: its process stopped"),
    },
    # models.attachment
    "attachment_purpose": {"evidence": N_("Evidence"), "signed_minutes": N_("Signed minutes")},
    # The kinds of record of the audit log (tracker.audit.record's ``entity``)
    "entity": {
        "action_plan": N_("Action plan"), "milestone": N_("Milestone"),
        "bottleneck": N_("Bottleneck"), "service": N_("Service"),
        "digital_asset": N_("Website or app"), "review_meeting": N_("Review meeting"),
        "agenda_item": N_("Agenda item"), "action_item": N_("Action item"),
        "api_token": N_("API token"), "user": N_("User"), "notification": N_("Notification"),
        "request": N_("Request"), "department": N_("Department"), "attachment": N_("Attachment"),
        "settings": N_("Settings"), "flag": N_("Flag"),
    },
    # What was done (tracker.audit.record's ``action``)
    "audit_action": {
        "create": N_("Created"), "update": N_("Changed"), "edit": N_("Edited"),
        "delete": N_("Deleted"), "remove": N_("Removed"), "import": N_("Imported"),
        "attach": N_("File attached"), "submit": N_("Submitted"), "approve": N_("Approved"),
        "return": N_("Returned"), "revise": N_("Revision started"),
        "raise": N_("Raised"), "escalate": N_("Escalated"), "resolve": N_("Resolved"),
        "reorder": N_("Reordered"), "read": N_("Read"), "read_all": N_("All read"),
        "revoke": N_("Revoked"), "reset_password": N_("Password reset"),
        "set_language": N_("Language changed"),
        "sign_in": N_("Signed in"), "sign_out": N_("Signed out"),
        "sign_in_failed": N_("Sign-in failed"),
        "sign_in_refused_locked": N_("Sign-in refused: account locked"),
        "account_locked": N_("Account locked"), "access_refused": N_("Access refused"),
        "mark_held": N_("Meeting marked held"), "record_minutes": N_("Minutes recorded"),
        "finalise_minutes": N_("Minutes finalised"), "amend_minutes": N_("Minutes amended"),
        "add_agenda_item": N_("Agenda item added"), "edit_agenda_item": N_("Agenda item edited"),
        "move_agenda_item": N_("Agenda item moved"),
        "remove_agenda_item": N_("Agenda item removed"),
        "refresh_agenda": N_("Agenda refreshed"), "add_departments": N_("Departments added"),
        "add_dependency": N_("Dependency added"), "remove_dependency": N_("Dependency removed"),
    },
    # The fields of a record named in a change (an import's preview, the audit log)
    "field": {
        "name": N_("Name"), "title": N_("Title"), "description": N_("Description"),
        "category": N_("Category"), "owner": N_("Owner"), "start_date": N_("Start date"),
        "due_date": N_("Due date"), "baseline_due": N_("Original due date"),
        "status": N_("Status"), "percent_complete": N_("Percent complete"),
        "completed_on": N_("Completed on"), "psga_notified": N_("PSGA-notified"),
        "time_limit_days": N_("Time limit (days)"), "designated_officer": N_("Designated officer"),
        "delivery_mode": N_("Delivery mode"), "url": N_("Web address"),
        "target_date": N_("Target date"), "milestone": N_("Milestone"),
        "department": N_("Department"), "severity": N_("Severity"), "reason": N_("Reason"),
        "role": N_("Role"), "kind": N_("Kind"), "hosted_by": N_("Hosted by"),
        "outcome": N_("Outcome"), "email": N_("E-mail"), "locale": N_("Language"),
        "action_by": N_("Action by"), "raised_on": N_("Raised on"),
        "resolution_note": N_("Resolution note"), "resolved_on": N_("Resolved on"),
        "audit_valid_until": N_("Security-audit certificate valid until"),
        "accessibility_audit_on": N_("Accessibility audit done on"),
        "last_content_update": N_("Last content update"), "https": N_("Served over HTTPS"),
        "portal_integrated": N_("Integrated with the portal"), "active": N_("Active"),
        "chair": N_("Chair"), "venue": N_("Venue"), "meeting_date": N_("Meeting date"),
        "closing_note": N_("Closing note"), "code": N_("Code"), "designation": N_("Designation"),
        "responsible_officer": N_("Responsible officer"), "text": N_("Text"), "note": N_("Note"),
        "review_comment": N_("Review comment"), "current_version": N_("Version"),
        "version": N_("Version"), "milestones": N_("Milestones"), "filename": N_("File name"),
        "failed_logins": N_("Failed sign-ins"), "source": N_("Source"),
        "purpose": N_("Purpose"), "size": N_("Size"), "count": N_("Number"),
    },
    # The languages of the interface, each in its own words (not translated)
    "language": {"en": "English", "hi": "हिन्दी"},
}

# Which kind of code a field of a record holds (for ``field_value``).
CODE_FIELDS = {
    "milestone": {"status": "milestone_status", "category": "milestone_category",
                  "reason": "revision_reason"},
    "bottleneck": {"status": "bottleneck_status", "category": "bottleneck_category",
                   "severity": "severity"},
    "action_plan": {"status": "plan_status", "outcome": "plan_status"},
    "attachment": {"purpose": "attachment_purpose"},
    "service": {"delivery_mode": "delivery_mode"},
    "digital_asset": {"kind": "asset_kind", "hosted_by": "host"},
    "user": {"role": "role", "locale": "language"},
    "review_meeting": {"status": "meeting_status"},
    "action_item": {"status": "action_item_status"},
    "agenda_item": {"kind": "agenda_kind"},
    "flag": {"kind": "flag_kind", "severity": "flag_severity", "escalation": "escalation"},
}


def field_value(entity, field, value):
    """A field's value as shown: the words when the field holds a code, else the value."""
    kind = CODE_FIELDS.get(entity, {}).get(field)
    if kind is None or value is None or not isinstance(value, str):
        return value
    return label(kind, value)


def website_state_days(t):
    """The number of days the words of each compliance column of the website register name
    (the ``website_*`` kinds), from the ``Thresholds`` ``t``."""
    return {"content": t.website_stale_days, "certificate": t.certificate_warning_days,
            "accessibility": t.certificate_warning_days}


def website_state(column, state, t):
    """The words of one compliance state of one column of the website register."""
    return label(f"website_{column}", state, days=website_state_days(t).get(column, 0))


# Within ``remembered()``: {(kind, code): words} already worded for this reader.
_remembered: ContextVar[dict | None] = ContextVar("remembered_labels", default=None)


@contextmanager
def remembered():
    """Word each code once while this lasts: a long export words the same few codes on
    every row, and each ``gettext`` looks up the request's translations again (a quarter
    of an exported list's time). The reader's language does not change within it."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def label(kind, code, **values):
    """The words of ``code`` of ``kind`` in the reader's language ("" for none). A code this
    module does not know is shown as words ("some_code" → "Some code"), never as the code;
    the tests keep that from happening for every code a model stores."""
    if code is None or code == "":
        return ""
    memo = None if values else _remembered.get()
    if memo is not None:
        words = memo.get((kind, code))
        if words is None:
            words = memo[(kind, code)] = _label(kind, code)
        return words
    return _label(kind, code, **values)


def _label(kind, code, **values):
    words = LABELS[kind].get(str(code))
    if words is None:
        return str(code).replace("_", " ").capitalize()
    return gettext(words, **values)


def lazy_label(kind, code, **values):
    """``label`` when shown, not when made: for what is defined at import time."""
    return lazy_gettext(LABELS[kind][code], **values)


def labels(kind, **values):
    """``{code: words}`` of a kind in the reader's language, in the order above."""
    return {code: label(kind, code, **values) for code in LABELS[kind]}


def choices(kind, codes=None):
    """``[(code, lazy words)]`` for a form's select (all codes of the kind, or ``codes``)."""
    return [(code, lazy_label(kind, code)) for code in (codes or LABELS[kind])]


def label_filter(code, kind, **values):
    """The Jinja filter: ``{{ m.status|label('milestone_status') }}``."""
    return label(kind, code, **values)


def init_app(app):
    app.jinja_env.filters["label"] = label_filter
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["field_value"] = field_value
