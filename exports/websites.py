"""The website and app register's compliance table as a workbook (bytes)."""
from datetime import datetime, timezone

from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes

SHEET = "Websites and apps"
KIND_LABELS = {"website": "Website", "web_app": "Web app", "mobile_app": "Mobile app"}
HOST_LABELS = {"nic": "NIC", "department": "Department", "vendor": "Vendor"}
COMPLIANCE_COLUMNS = ("content", "certificate", "accessibility", "https", "portal", "check")


def state_label(column, state, t) -> str:
    """The plain-language words for one compliance state of one column."""
    labels = {
        "content": {
            "ok": "Up to date",
            "expired": f"Not updated for over {t.website_stale_days} days",
            "missing": "No update recorded",
        },
        "certificate": {
            "ok": "Valid",
            "expiring": f"Expires within {t.certificate_warning_days} days",
            "expired": "Expired",
            "missing": "No certificate",
        },
        "accessibility": {
            "ok": "Audited",
            "expiring": f"Audit due within {t.certificate_warning_days} days",
            "expired": "Audit overdue",
            "missing": "Never audited",
        },
        "https": {"ok": "Yes", "missing": "No HTTPS"},
        "portal": {"ok": "Integrated", "missing": "Not integrated"},
        "check": {"ok": "Up", "down": "Down", "not_checked": "Not checked"},
    }
    return labels[column].get(state, state)


COLUMNS = (
    Column("Department", width=28),
    Column("Name", width=30),
    Column("Kind", width=11),
    Column("Web address", width=36),
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
    Column("Latest check result", width=36),
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
