"""The website and app register's compliance table as a workbook (bytes)."""
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l

from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from tracker.labels import label, website_state

SHEET = _l("Websites and apps")
COMPLIANCE_COLUMNS = ("content", "certificate", "accessibility", "https", "portal", "check")


COLUMNS = (
    Column(_l("Department"), width=28, min_width=14),
    Column(_l("Name"), width=30, min_width=16),
    Column(_l("Kind"), width=11, min_width=8),
    Column(_l("Web address"), width=36, min_width=20),
    Column(_l("Hosted by"), width=11),
    Column(_l("Last content update"), "date", 13),
    Column(_l("Content"), "state", 22),
    Column(_l("Security audit valid until"), "date", 13),
    Column(_l("Security audit"), "state", 20),
    Column(_l("Accessibility audit on"), "date", 13),
    Column(_l("Accessibility audit"), "state", 18),
    Column(_l("HTTPS"), "state", 10),
    Column(_l("Integrated with the portal"), "state", 14),
    Column(_l("Latest check at"), "datetime", 17),
    Column(_l("Latest check"), "state", 12),
    Column(_l("Latest check result"), "wrap", width=36, min_width=18),
)


def _local(at, tz):
    if at is None or tz is None:
        return at
    return at.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None)


def websites_workbook(rows, generated_at: datetime, t, tz=None) -> bytes:
    """``rows``: (DigitalAsset, department name, {column: state}) tuples; times (stored in
    UTC) are written in the time zone ``tz``; ``generated_at`` aware local."""
    def state(column, states):
        return states[column], website_state(column, states[column], t)

    wb = new_workbook()
    Table(wb, SHEET, _l("Website and app compliance"), COLUMNS,
          generated_label(generated_at)).write(
        (dept_name, a.name, label("asset_kind", a.kind), a.url, label("host", a.hosted_by),
         a.last_content_update, state("content", states),
         a.audit_valid_until, state("certificate", states),
         a.accessibility_audit_on, state("accessibility", states),
         state("https", states), state("portal", states),
         _local(a.last_check_at, tz), state("check", states), a.last_check_summary or None)
        for a, dept_name, states in rows
    )
    return to_bytes(wb)
