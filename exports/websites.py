"""The website and app register's compliance table as a workbook (bytes)."""
from datetime import date, timezone

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

# TODO(lead): fold into exports/workbook.py / upload_safety.py when merged.
from exports.services import finish_sheet, put, titled_sheet, to_bytes

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


_FILLS = {
    "ok": PatternFill("solid", fgColor="DFF3E4"),
    "expiring": PatternFill("solid", fgColor="FFF1CC"),
    "expired": PatternFill("solid", fgColor="FBE0E0"),
    "missing": PatternFill("solid", fgColor="FBE0E0"),
    "down": PatternFill("solid", fgColor="FBE0E0"),
}

HEADERS = (
    "Department", "Name", "Kind", "Web address", "Hosted by",
    "Last content update", "Content", "Security audit valid until", "Security audit",
    "Accessibility audit on", "Accessibility audit", "HTTPS", "Integrated with the portal",
    "Latest check at", "Latest check", "Latest check result",
)
WIDTHS = (28, 30, 11, 36, 11, 13, 22, 13, 20, 13, 18, 10, 14, 17, 12, 36)


def _local(at, tz):
    if at is None or tz is None:
        return at
    return at.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None)


def websites_workbook(rows, as_of: date, t, tz=None) -> bytes:
    """``rows``: (DigitalAsset, department name, {column: state}) tuples; times (stored in
    UTC) are written in the time zone ``tz``."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    first = titled_sheet(ws, "Website and app compliance", as_of, HEADERS, WIDTHS)
    r = first - 1
    for r, (a, dept_name, states) in enumerate(rows, start=first):
        values = [
            (dept_name, None), (a.name, None), (KIND_LABELS[a.kind], None), (a.url, None),
            (HOST_LABELS[a.hosted_by], None),
            (a.last_content_update, None), (state_label("content", states["content"], t), "content"),
            (a.audit_valid_until, None),
            (state_label("certificate", states["certificate"], t), "certificate"),
            (a.accessibility_audit_on, None),
            (state_label("accessibility", states["accessibility"], t), "accessibility"),
            (state_label("https", states["https"], t), "https"),
            (state_label("portal", states["portal"], t), "portal"),
            (_local(a.last_check_at, tz), None),
            (state_label("check", states["check"], t), "check"),
            (a.last_check_summary or "", None),
        ]
        for c, (value, column) in enumerate(values, start=1):
            cell = put(ws, r, c, value, "DD-MM-YYYY HH:MM" if c == 14 else None)
            if column and states[column] in _FILLS:
                cell.fill = _FILLS[states[column]]
                if states[column] != "ok":
                    cell.font = Font(bold=True)
    finish_sheet(ws, HEADERS, first, r)
    return to_bytes(wb)
