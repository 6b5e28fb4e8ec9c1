"""The website and app register's compliance table as a workbook (bytes)."""
from datetime import datetime, timezone

from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from tracker.i18n import N_

SHEET = "Websites and apps"
# The workbook's words (English); pages translate them (``state_label(..., gettext)``).
KIND_LABELS = {"website": N_("Website"), "web_app": N_("Web app"), "mobile_app": N_("Mobile app")}
HOST_LABELS = {"nic": N_("NIC"), "department": N_("Department"), "vendor": N_("Vendor")}
STATE_LABELS = {
    "content": {
        "ok": N_("Up to date"),
        "expired": N_("Not updated for over %(days)s days"),
        "missing": N_("No update recorded"),
    },
    "certificate": {
        "ok": N_("Valid"),
        "expiring": N_("Expires within %(days)s days"),
        "expired": N_("Expired"),
        "missing": N_("No certificate"),
    },
    "accessibility": {
        "ok": N_("Audited"),
        "expiring": N_("Audit due within %(days)s days"),
        "expired": N_("Audit overdue"),
        "missing": N_("Never audited"),
    },
    "https": {"ok": N_("Yes"), "missing": N_("No HTTPS")},
    "portal": {"ok": N_("Integrated"), "missing": N_("Not integrated")},
    "check": {"ok": N_("Up"), "down": N_("Down"), "not_checked": N_("Not checked")},
}


def state_label(column, state, t, translate=None) -> str:
    """The plain-language words for one compliance state of one column: in English (the
    workbook's), or through ``translate`` (``gettext``) for a page."""
    words = STATE_LABELS[column].get(state)
    if words is None:
        return state
    if translate is not None:
        words = translate(words)
    days = t.website_stale_days if column == "content" else t.certificate_warning_days
    return words % {"days": days}


COLUMNS = (
    Column("Department", width=28, min_width=14),
    Column("Name", width=30, min_width=16),
    Column("Kind", width=11, min_width=8),
    Column("Web address", width=36, min_width=20),
    Column("Hosted by", width=11),
    Column("Last content update", "date", 13),
    Column("Content", "state", 22),
    Column("Security audit valid until", "date", 13),
    Column("Security audit", "state", 20),
    Column("Accessibility audit on", "date", 13),
    Column("Accessibility audit", "state", 18),
    Column("HTTPS", "state", 10),
    Column("Integrated with the portal", "state", 14),
    Column("Latest check at", "datetime", 17),
    Column("Latest check", "state", 12),
    Column("Latest check result", "wrap", width=36, min_width=18),
)
HEADERS = tuple(c.header for c in COLUMNS)


def _local(at, tz):
    if at is None or tz is None:
        return at
    return at.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None)


def websites_workbook(rows, generated_at: datetime, t, tz=None) -> bytes:
    """``rows``: (DigitalAsset, department name, {column: state}) tuples; times (stored in
    UTC) are written in the time zone ``tz``; ``generated_at`` aware local."""
    def state(column, states):
        return states[column], state_label(column, states[column], t)

    wb = new_workbook()
    Table(wb, SHEET, "Website and app compliance", COLUMNS, generated_label(generated_at)).write(
        (dept_name, a.name, KIND_LABELS[a.kind], a.url, HOST_LABELS[a.hosted_by],
         a.last_content_update, state("content", states),
         a.audit_valid_until, state("certificate", states),
         a.accessibility_audit_on, state("accessibility", states),
         state("https", states), state("portal", states),
         _local(a.last_check_at, tz), state("check", states), a.last_check_summary or None)
        for a, dept_name, states in rows
    )
    return to_bytes(wb)
